"""The four phases of a step: their order, what each exposes, and the step/epoch counters."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer import PHASES, ConfigError, PhaseOrderError, TrainingSession
from conftest import current_batch, flat_grads, flat_updates, flat_weights, make_config


def _session(**changes: object) -> TrainingSession:
    """A default-shaped session: 'circle', 500 points, 250 of them for training."""
    settings: dict[str, object] = {"n_points": 500, "hidden": (4, 2)}
    settings.update(changes)
    return TrainingSession(make_config(**settings))  # type: ignore[arg-type]


def test_phases_are_forward_loss_backward_update() -> None:
    """PHASES lists the four phases in the order a step runs them."""
    assert PHASES == ("forward", "loss", "backward", "update")


def test_update_before_backward_raises_naming_both_phases() -> None:
    """run_phase('update') after loss raises PhaseOrderError naming 'backward' and 'update'."""
    session = _session()
    session.run_phase("forward")
    session.run_phase("loss")
    with pytest.raises(PhaseOrderError, match="the next phase is 'backward', not 'update'"):
        session.run_phase("update")
    assert session.phase == "loss"
    assert session.step_count == 0


@pytest.mark.parametrize("phase", ["loss", "backward", "update"])
def test_a_fresh_session_only_runs_forward(phase: str) -> None:
    """Before any phase, every phase but forward raises PhaseOrderError naming 'forward'."""
    session = _session()
    with pytest.raises(PhaseOrderError, match=f"the next phase is 'forward', not '{phase}'"):
        session.run_phase(phase)
    assert session.phase is None


def test_running_a_phase_twice_raises() -> None:
    """A phase cannot be repeated: forward after forward raises PhaseOrderError."""
    session = _session()
    session.run_phase("forward")
    with pytest.raises(PhaseOrderError, match="'loss', not 'forward'"):
        session.run_phase("forward")


def test_unknown_phase_name_raises_phase_order_error() -> None:
    """A phase name that does not exist is refused like one out of order."""
    with pytest.raises(PhaseOrderError):
        _session().run_phase("sideways")


def test_batch_given_to_a_non_forward_phase_raises() -> None:
    """A batch is only accepted by forward: giving one to loss raises PhaseOrderError."""
    session = _session()
    points, labels = np.zeros((2, 2)), np.array([0.0, 1.0])
    session.run_phase("forward")
    with pytest.raises(PhaseOrderError, match="forward"):
        session.run_phase("loss", batch=(points, labels))
    assert session.phase == "forward"


def test_step_with_a_batch_in_the_middle_of_a_step_raises() -> None:
    """step(batch=...) while a step is in progress raises PhaseOrderError."""
    session = _session()
    session.run_phase("forward")
    with pytest.raises(PhaseOrderError):
        session.step(batch=(np.zeros((2, 2)), np.array([0.0, 1.0])))


def test_advance_walks_the_phases_and_counts_a_step_after_update() -> None:
    """advance() runs forward, loss, backward, update in turn; step_count grows after update."""
    session = _session()
    assert session.next_phase == "forward"
    for step in range(2):
        for phase in PHASES:
            assert session.next_phase == phase
            assert session.step_count == step
            assert session.advance() == phase
            assert session.phase == phase
        assert session.step_count == step + 1
        assert session.next_phase == "forward"


def test_tensors_expose_only_completed_phases() -> None:
    """tensors() holds each phase's tensors once that phase ran, and None before."""
    session = _session()
    empty = session.tensors()
    assert (empty.phase, empty.inputs, empty.targets, empty.loss) == (None, None, None, None)
    assert all(layer.z is None and layer.grad_weights is None for layer in empty.layers)

    session.run_phase("forward")
    t = session.tensors()
    assert t.phase == "forward" and t.loss is None
    assert t.inputs is not None and t.targets is not None
    for layer in t.layers:
        assert layer.z is not None and layer.a is not None
        assert layer.delta is None and layer.grad_a is None and layer.grad_weights is None
        assert layer.update_weights is None

    session.run_phase("loss")
    t = session.tensors()
    assert t.loss is not None and np.isfinite(t.loss)
    assert t.layers[-1].delta is not None and t.layers[-1].grad_a is not None
    assert all(layer.delta is None for layer in t.layers[:-1])
    assert all(layer.grad_weights is None for layer in t.layers)

    session.run_phase("backward")
    t = session.tensors()
    for layer in t.layers:
        assert layer.delta is not None and layer.grad_a is not None
        assert layer.grad_weights is not None and layer.grad_bias is not None
        assert layer.update_weights is None and layer.update_bias is None

    session.run_phase("update")
    t = session.tensors()
    assert t.phase == "update"
    assert all(layer.update_weights is not None and layer.update_bias is not None
               for layer in t.layers)


def test_tensor_shapes_follow_the_documented_layout() -> None:
    """inputs (B, F), targets (B, outputs), z/a/delta (B, n_l), grad_weights (n_l, n_in)."""
    session = _session(features=("x1", "x2", "sin_x2"), hidden=(4, 3), batch_size=7)
    session.step()
    t = session.tensors()
    assert t.inputs is not None and t.inputs.shape == (7, 3)
    assert t.targets is not None and t.targets.shape == (7, 1)
    sizes = [3, 4, 3, 1]
    for index, layer in enumerate(t.layers):
        n_in, n = sizes[index], sizes[index + 1]
        for name in ("z", "a", "grad_a", "delta"):
            assert getattr(layer, name).shape == (7, n), name
        assert layer.grad_weights is not None and layer.grad_weights.shape == (n, n_in)
        assert layer.grad_bias is not None and layer.grad_bias.shape == (n,)
        assert layer.update_weights is not None and layer.update_weights.shape == (n, n_in)


def test_tensors_and_weights_are_copies() -> None:
    """Writing into what tensors() or get_weights() returned changes nothing in the session."""
    session = _session()
    session.step()
    before = flat_weights(session)
    weights = session.get_weights()
    weights[0][0][...] = 99.0
    tensors = session.tensors()
    assert tensors.layers[0].z is not None
    tensors.layers[0].z[...] = 99.0
    np.testing.assert_array_equal(flat_weights(session), before)
    assert not np.any(session.tensors().layers[0].z == 99.0)


def test_step_in_the_middle_of_a_step_finishes_it() -> None:
    """step() after forward and loss runs only backward and update: one step is counted."""
    session = _session()
    session.run(2)
    session.run_phase("forward")
    session.run_phase("loss")
    loss = session.tensors().loss
    assert session.step() == "update"
    assert session.step_count == 3
    assert session.phase == "update"
    assert session.tensors().loss == loss


def test_run_counts_finishing_a_step_in_progress_as_one() -> None:
    """run(3) mid-step finishes that step and runs two more: 3 completed, returned."""
    session = _session()
    session.run_phase("forward")
    assert session.run(3) == 3
    assert session.step_count == 3


def test_one_epoch_is_ceil_of_training_points_over_batch_size() -> None:
    """250 training points at batch 10: the epoch counter turns after exactly 25 steps."""
    session = _session(batch_size=10)
    assert session.model.n_train == 250
    session.run(24)
    assert session.epoch == 0
    assert session.epoch_progress == pytest.approx(240 / 250)
    session.run(1)
    assert session.epoch == 1
    assert session.epoch_progress == 1.0


def test_an_epoch_visits_every_training_point_once() -> None:
    """The minibatches of an epoch partition the training set; the next epoch reshuffles."""
    session = _session(batch_size=10)
    orders = []
    for _ in range(2):
        seen = []
        for _ in range(25):
            session.step()
            assert session.batch_index is not None
            seen.append(session.batch_index)
        orders.append(np.concatenate(seen))
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(250))
    assert not np.array_equal(orders[0], orders[1])


def test_last_partial_batch_of_an_epoch_is_smaller() -> None:
    """Batch 32 over 250 points: seven batches of 32, then one of 26 that ends the epoch."""
    session = _session(batch_size=32)
    sizes = []
    for _ in range(8):
        assert session.epoch == 0
        session.step()
        inputs = session.tensors().inputs
        assert inputs is not None
        sizes.append(len(inputs))
    assert sizes == [32] * 7 + [26]
    assert session.epoch == 1
    session.step()
    assert session.tensors().inputs.shape[0] == 32  # type: ignore[union-attr]


def test_batch_size_above_training_set_means_full_batch() -> None:
    """A batch size larger than the training set trains on all of it, one epoch per step."""
    session = _session(batch_size=1000)
    session.step()
    assert session.tensors().inputs.shape[0] == 250  # type: ignore[union-attr]
    assert session.epoch == 1
    session.step()
    assert session.epoch == 2


def test_run_epochs_from_an_epoch_boundary_runs_whole_epochs() -> None:
    """run_epochs(2) on a fresh session runs 2·ceil(250/32) steps and ends on a boundary."""
    session = _session(batch_size=32)
    assert session.run_epochs(2) == 16
    assert (session.epoch, session.step_count) == (2, 16)
    assert session.epoch_progress == 2.0


def test_run_epochs_mid_epoch_completes_the_current_epoch() -> None:
    """run_epochs(1) in the middle of an epoch stops at the end of that epoch."""
    session = _session(batch_size=10)
    session.run(7)
    session.run_phase("forward")
    session.run_epochs(1)
    assert session.epoch == 1
    assert session.step_count == 25
    assert session.epoch_progress == 1.0


def test_run_epochs_mid_step_on_the_last_batch_stops_at_the_epoch_end() -> None:
    """run_epochs(1) started during an epoch's last step stops once that epoch completes."""
    session = _session(batch_size=10)
    session.run(24)
    session.run_phase("forward")  # step 25, the last of epoch 0
    session.run_epochs(1)
    assert session.epoch == 1
    assert session.step_count == 25
    assert session.epoch_progress == 1.0


def test_sgd_update_is_minus_learning_rate_times_gradient() -> None:
    """With SGD the applied change is −η·dL/dθ for every weight and bias."""
    session = _session(learning_rate=0.07)
    session.run(3)
    session.step()
    tensors = session.tensors()
    np.testing.assert_allclose(flat_updates(tensors), -0.07 * flat_grads(tensors),
                               rtol=1e-15, atol=0)


def test_weights_after_update_are_weights_before_plus_update() -> None:
    """The update phase applies θ ← θ + Δθ exactly."""
    session = _session(optimizer="adam")
    session.run(4)
    for phase in ("forward", "loss", "backward"):
        session.run_phase(phase)
    before = flat_weights(session)
    session.run_phase("update")
    after = flat_weights(session)
    np.testing.assert_array_equal(after, before + flat_updates(session.tensors()))


def test_weights_do_not_change_before_the_update_phase() -> None:
    """forward, loss and backward leave the weights alone."""
    session = _session()
    session.run(2)
    before = flat_weights(session)
    for phase in ("forward", "loss", "backward"):
        session.run_phase(phase)
        np.testing.assert_array_equal(flat_weights(session), before)


def test_step_on_a_given_batch_trains_on_those_points() -> None:
    """step(batch=...) runs a step on the given points and leaves the epoch counters alone."""
    session = _session(features=("x1", "x2", "x1_times_x2"))
    session.run(3)
    points = np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, -5.5]])
    labels = np.array([1.0, 0.0, 1.0])
    seen = session.points_seen
    assert session.step(batch=(points, labels)) == "update"
    t = session.tensors()
    expected = np.stack([points[:, 0], points[:, 1], points[:, 0] * points[:, 1]], axis=1)
    np.testing.assert_array_equal(t.inputs, expected)
    np.testing.assert_array_equal(t.targets, labels[:, None])
    assert session.step_count == 4
    assert session.points_seen == seen
    assert session.batch_index is None


def test_given_batch_does_not_disturb_the_minibatch_order() -> None:
    """Steps on given batches leave the sampled minibatch sequence unchanged."""
    plain, mixed = _session(), _session()
    plain.run(4)
    mixed.run(2)
    mixed.step(batch=(np.array([[0.0, 0.0]]), np.array([1.0])))
    mixed.run(2)
    assert plain.batch_index is not None and mixed.batch_index is not None
    np.testing.assert_array_equal(plain.batch_index, mixed.batch_index)


def test_current_batch_points_give_the_step_inputs() -> None:
    """batch_index picks training rows: their points' features are the step's inputs."""
    session = _session()
    session.run(5)
    session.run_phase("forward")
    points, labels = current_batch(session)
    t = session.tensors()
    np.testing.assert_array_equal(t.inputs, points)
    np.testing.assert_array_equal(t.targets, labels[:, None])


def test_gradient_norms_are_norms_of_each_layers_gradient() -> None:
    """gradient_norms()[l] = ‖[dL/dW_l | dL/db_l]‖₂ of the last backward phase."""
    session = _session()
    session.run(3)
    t = session.tensors()
    expected = [np.sqrt((layer.grad_weights**2).sum() + (layer.grad_bias**2).sum())  # type: ignore[operator]
                for layer in t.layers]
    np.testing.assert_allclose(session.gradient_norms(), expected, rtol=1e-12)


def test_update_ratios_are_update_norm_over_weight_norm() -> None:
    """update_ratios()[l] = ‖Δθ_l‖ / ‖θ_l‖ for the last applied update."""
    session = _session()
    session.run(3)
    t = session.tensors()
    expected = []
    for layer, (w, b) in zip(t.layers, session.get_weights(), strict=True):
        change = np.sqrt((layer.update_weights**2).sum() + (layer.update_bias**2).sum())  # type: ignore[operator]
        expected.append(change / np.sqrt((w**2).sum() + (b**2).sum()))
    np.testing.assert_allclose(session.update_ratios(), expected, rtol=1e-12)


def test_set_weights_accepts_what_get_weights_returns() -> None:
    """set_weights(layers) takes get_weights()'s format and get_weights() then returns it."""
    session = _session()
    layers = [(w * 0.5, b + 0.25) for w, b in session.get_weights()]
    session.set_weights(layers)
    for (w, b), (w_set, b_set) in zip(session.get_weights(), layers, strict=True):
        np.testing.assert_array_equal(w, w_set)
        np.testing.assert_array_equal(b, b_set)


def test_set_weights_with_the_wrong_number_of_layers_raises() -> None:
    """set_weights with too few layers raises ConfigError on 'weights' and changes nothing."""
    session = _session()
    before = flat_weights(session)
    with pytest.raises(ConfigError) as caught:
        session.set_weights(session.get_weights()[:1])
    assert caught.value.field == "weights"
    np.testing.assert_array_equal(flat_weights(session), before)
