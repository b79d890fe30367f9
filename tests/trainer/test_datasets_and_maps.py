"""Data sets, the train/test split, output maps and metrics."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer import (
    DATASETS,
    LIMITS,
    ConfigError,
    DataConfig,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from conftest import make_config

PLANE = 6.0
MAX_NOISE = LIMITS["noise"][1]


def _dataset_session(name: str, n_points: int = 600, noise: float = 0.0, seed: int = 0,
                     train_fraction: float = 0.5) -> TrainingSession:
    return TrainingSession(TrainerConfig(
        data=DataConfig(dataset=name, n_points=n_points, noise=noise,
                        train_fraction=train_fraction),
        seed=seed,
    ))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_has_n_points_in_the_plane_with_valid_labels(name: str) -> None:
    """Without noise: n points inside [−6, 6]², labels valid for the data set's problem."""
    spec = DATASETS[name]
    for seed in range(3):
        dataset = _dataset_session(name, 600, 0.0, seed).model.dataset
        assert dataset.points.shape == (600, 2) and dataset.labels.shape == (600,)
        assert np.isfinite(dataset.points).all() and np.isfinite(dataset.labels).all()
        assert np.abs(dataset.points).max() <= PLANE
        assert dataset.problem == spec.problem
        if spec.problem == "regression":
            assert np.abs(dataset.labels).max() <= 1.0
        else:
            assert set(np.unique(dataset.labels)) <= set(range(spec.n_classes))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_at_maximum_noise_stays_in_the_plane(name: str) -> None:
    """Even at the largest noise, generated points lie inside [−6, 6]²."""
    points = _dataset_session(name, 2000, MAX_NOISE).model.dataset.points
    assert np.abs(points).max() <= PLANE


@pytest.mark.parametrize("name", [n for n, s in DATASETS.items() if s.problem != "regression"])
def test_classification_datasets_are_balanced(name: str) -> None:
    """Every class gets about its share of the points (within 5 points of n / classes,
    xor within 10 % as its classes follow random quadrants)."""
    spec = DATASETS[name]
    labels = _dataset_session(name, 600).model.dataset.labels
    counts = np.bincount(labels.astype(int), minlength=spec.n_classes)
    assert len(counts) == spec.n_classes
    share = 600 / spec.n_classes
    slack = 0.1 * share if name == "xor" else 5
    assert np.all(np.abs(counts - share) <= slack), counts


@pytest.mark.parametrize(("n_points", "fraction"), [(600, 0.5), (101, 0.3), (10, 0.9),
                                                    (2000, 0.1), (333, 0.77)])
def test_train_fraction_sets_the_split(n_points: int, fraction: float) -> None:
    """round(fraction·n) points train, the rest test; the two partition range(n)."""
    session = _dataset_session("moons", n_points, train_fraction=fraction)
    dataset = session.model.dataset
    assert len(dataset.train_index) == round(fraction * n_points) == session.model.n_train
    together = np.concatenate([dataset.train_index, dataset.test_index])
    np.testing.assert_array_equal(np.sort(together), np.arange(n_points))


def test_single_custom_point_trains_and_has_no_test_set() -> None:
    """One custom point is the training set; evaluation copes with an empty test set."""
    session = TrainingSession(TrainerConfig(
        network=NetworkConfig(problem="binary"),
        data=DataConfig(dataset="custom", points=((1.0, 2.0, 1.0),)),
    ))
    assert session.model.n_train == 1 and len(session.model.dataset.test_index) == 0
    assert session.run(3) == 3
    metrics = session.evaluate()
    assert np.isfinite(metrics.train_loss).all()


# ----------------------------------------------------------------------------- maps
def test_output_maps_have_one_float32_array_per_layer() -> None:
    """output_maps(G) = [features (F, G, G), hidden (n_l, G, G)..., output], float32."""
    session = TrainingSession(make_config(hidden=(4, 3), features=("x1", "x2", "sin_x1")))
    maps = session.output_maps(17)
    assert [m.shape for m in maps] == [(3, 17, 17), (4, 17, 17), (3, 17, 17), (1, 17, 17)]
    assert all(m.dtype == np.float32 for m in maps)


def test_input_maps_are_the_grid_coordinates() -> None:
    """The x1 map is x1 of the grid (column 0 is −6), the x2 map has row 0 at x2 = +6."""
    grid = 9
    session = TrainingSession(make_config(features=("x1", "x2", "x1_times_x2")))
    x1_map, x2_map, product_map = session.output_maps(grid)[0]
    axis = np.linspace(-PLANE, PLANE, grid)
    np.testing.assert_allclose(x1_map, np.tile(axis, (grid, 1)), atol=1e-6)
    np.testing.assert_allclose(x2_map, np.tile(axis[::-1, None], (1, grid)), atol=1e-6)
    assert x1_map[0, 0] == -PLANE and x2_map[0, 0] == PLANE
    assert x1_map[-1, -1] == PLANE and x2_map[-1, -1] == -PLANE
    np.testing.assert_allclose(product_map, x1_map * x2_map, atol=1e-5)


@pytest.mark.parametrize(("dataset", "loss", "activation"), [
    ("circle", "bce", "tanh"),
    ("xor", "squared_error", "relu"),
    ("blobs3", "cross_entropy", "sigmoid"),
    ("multigauss", "mse", "leaky_relu"),
])
def test_maps_equal_a_forward_pass_at_grid_points(
    dataset: str, loss: str, activation: str
) -> None:
    """Every layer's map at a grid cell equals the forward pass of that cell's point."""
    grid = 13
    session = TrainingSession(make_config(
        dataset=dataset, loss=loss, activation=activation, hidden=(5, 3),
        features=("x1", "x2", "x1_squared", "sin_x2"), learning_rate=0.1,
    ))
    session.run(40)
    maps = session.output_maps(grid)
    rows, cols = np.array([0, 0, 6, 12, 3, 12]), np.array([0, 12, 6, 0, 9, 12])
    axis = np.linspace(-PLANE, PLANE, grid)
    points = np.stack([axis[cols], axis[::-1][rows]], axis=1)
    session.run_phase("forward", batch=(points, np.zeros(len(points))))
    tensors = session.tensors()
    assert tensors.inputs is not None
    np.testing.assert_allclose(maps[0][:, rows, cols].T, tensors.inputs, rtol=1e-6, atol=1e-6)
    for layer, layer_map in zip(tensors.layers, maps[1:], strict=True):
        assert layer.a is not None
        np.testing.assert_allclose(layer_map[:, rows, cols].T, layer.a, rtol=1e-5, atol=1e-5)


def test_maps_of_each_sweep_run_follow_its_weights() -> None:
    """output_maps(run=k) uses run k's weights."""
    session = TrainingSession(make_config(), learning_rates=[0.01, 1.0])
    session.run(30)
    slow, fast = session.output_maps(8, run=0)[-1], session.output_maps(8, run=1)[-1]
    assert not np.allclose(slow, fast)
    np.testing.assert_array_equal(session.output_maps(8, run=0)[-1], slow)


@pytest.mark.parametrize("resolution", [1, 257])
def test_output_map_resolution_outside_limits_is_rejected(resolution: int) -> None:
    """A resolution outside 2..256 raises ConfigError on 'resolution'."""
    with pytest.raises(ConfigError) as caught:
        TrainingSession(make_config()).output_maps(resolution)
    assert caught.value.field == "resolution"


# -------------------------------------------------------------------------- metrics
@pytest.mark.parametrize(("dataset", "loss"), [("circle", "bce"), ("xor", "squared_error"),
                                               ("spiral3", "cross_entropy"), ("plane", "mse")])
def test_evaluate_reports_losses_and_accuracies(dataset: str, loss: str) -> None:
    """Losses are finite per run; accuracies lie in [0, 1], or are None for regression."""
    session = TrainingSession(make_config(dataset=dataset, loss=loss))
    session.run(20)
    metrics = session.evaluate()
    assert metrics.train_loss.shape == metrics.test_loss.shape == (1,)
    assert np.isfinite(metrics.train_loss).all() and np.isfinite(metrics.test_loss).all()
    if loss == "mse":
        assert metrics.train_accuracy is None and metrics.test_accuracy is None
    else:
        for accuracy in (metrics.train_accuracy, metrics.test_accuracy):
            assert accuracy is not None and 0.0 <= accuracy[0] <= 1.0


@pytest.mark.parametrize(("dataset", "loss"), [("circle", "bce"), ("xor", "squared_error"),
                                               ("spiral3", "cross_entropy"), ("plane", "mse")])
def test_train_loss_is_the_loss_over_the_whole_training_set(dataset: str, loss: str) -> None:
    """evaluate().train_loss equals a step's loss on a batch of all training points, and
    train accuracy counts the documented predictions (sigmoid > ½, tanh > 0, argmax)."""
    session = TrainingSession(make_config(dataset=dataset, loss=loss))
    session.run(15)
    metrics = session.evaluate()
    data = session.model.dataset
    points, labels = data.points[data.train_index], data.labels[data.train_index]
    session.run_phase("forward", batch=(points, labels))
    session.run_phase("loss")
    tensors = session.tensors()
    assert tensors.loss == pytest.approx(metrics.train_loss[0], rel=1e-12)
    output = tensors.layers[-1].a
    assert output is not None
    predicted = {"bce": output[:, 0] > 0.5, "squared_error": output[:, 0] > 0.0,
                 "cross_entropy": output.argmax(axis=1), "mse": None}[loss]
    if predicted is not None:
        assert metrics.train_accuracy is not None
        assert metrics.train_accuracy[0] == pytest.approx(np.mean(predicted == labels))


def test_evaluate_changes_nothing() -> None:
    """evaluate() and output_maps() leave the step, its tensors and the weights alone."""
    session = TrainingSession(make_config())
    session.run(5)
    session.run_phase("forward")
    before = session.tensors()
    session.evaluate()
    session.output_maps(16)
    after = session.tensors()
    assert session.phase == "forward"
    for old, new in zip(before.layers, after.layers, strict=True):
        np.testing.assert_array_equal(old.a, new.a)
    assert session.step() == "update"


def test_default_network_learns_the_circle_with_squared_features() -> None:
    """The default network on 'circle' with x1², x2² reaches ≥ 90 % train accuracy in
    50 epochs."""
    session = TrainingSession(TrainerConfig(
        network=NetworkConfig(features=("x1_squared", "x2_squared")),
        data=DataConfig(dataset="circle"),
    ))
    session.run_epochs(50)
    assert session.epoch == 50
    metrics = session.evaluate()
    assert metrics.train_accuracy is not None and metrics.train_accuracy[0] >= 0.9
    assert metrics.test_accuracy is not None and metrics.test_accuracy[0] >= 0.85
