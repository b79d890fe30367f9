"""The last step on the loss landscape: f(s) = batch objective at θ₀ + s·Δθ/‖Δθ‖, checked
against an independent NumPy forward pass of the batch."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer import TrainerConfig, TrainingSession
from backprop_playground.trainer.landscape import SAMPLE_UNITS, VERDICTS, StepLandscape
from conftest import Array, Layers, current_batch, make_config, regression_config


def _reference_objective(config: TrainerConfig, layers: Layers, points: Array,
                         labels: Array) -> float:
    """The batch objective written out from docs/trainer.md: z = a·Wᵀ + b per layer, the
    head's mean loss, plus the penalty on the weights. Features x1, x2 only."""
    assert config.network.features == ("x1", "x2")
    functions = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}
    names = config.network.activation
    hidden = [names] * (len(layers) - 1) if isinstance(names, str) else list(names)
    a = points
    for index, (weights, bias) in enumerate(layers):
        z = a @ weights.T + bias
        a = functions[hidden[index]](z) if index < len(layers) - 1 else z
    z = a[:, 0]
    loss = config.network.loss or ("mse" if config.data.dataset == "plane" else "bce")
    if loss == "mse":
        value = 0.5 * np.mean((z - labels) ** 2)
    elif loss == "squared_error":
        value = 0.5 * np.mean((np.tanh(z) - (2 * labels - 1)) ** 2)
    else:
        value = np.mean(np.logaddexp(0.0, z) - labels * z)
    rate, kind = config.hyper.regularization_rate, config.hyper.regularization
    if kind == "l2":
        value += 0.5 * rate * sum(float((w * w).sum()) for w, _ in layers)
    elif kind == "l1":
        value += rate * sum(float(np.abs(w).sum()) for w, _ in layers)
    return float(value)


class _Line:
    """The step just taken by run ``run`` of ``session``, as layers: θ₀ and Δθ."""

    def __init__(self, session: TrainingSession, run: int = 0) -> None:
        tensors = session.tensors(run=run)
        self.update: Layers = []
        for layer in tensors.layers:
            assert layer.update_weights is not None and layer.update_bias is not None
            self.update.append((layer.update_weights, layer.update_bias))
        self.after = session.get_weights(run=run)
        self.before = [(w - dw, b - db) for (w, b), (dw, db) in zip(self.after, self.update,
                                                                    strict=True)]
        self.length = float(np.sqrt(sum((dw ** 2).sum() + (db ** 2).sum()
                                        for dw, db in self.update)))
        self.config = session.config
        self.points, self.labels = current_batch(session)

    def f(self, s: float) -> float:
        """The reference objective at θ₀ + s·Δθ/‖Δθ‖."""
        u = s / self.length
        layers = [(w + u * dw, b + u * db) for (w, b), (dw, db) in zip(self.before, self.update,
                                                                       strict=True)]
        return _reference_objective(self.config, layers, self.points, self.labels)


def _after_steps(config: TrainerConfig, steps: int) -> tuple[TrainingSession, StepLandscape]:
    session = TrainingSession(config)
    assert session.run(steps) == steps
    landscape = session.step_landscape()
    assert landscape is not None
    return session, landscape


OBJECTIVES = [("none", 0.0), ("l2", 0.01)]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize(("regularization", "rate"), OBJECTIVES)
def test_landing_point_is_the_batch_loss_after_the_update(
    optimizer: str, regularization: str, rate: float,
) -> None:
    """f(‖Δθ‖) is the batch objective at the weights the step left, and f(0) at the weights
    before it, to 1e-9 relative (SGD, momentum, Adam; with and without L2)."""
    config = make_config(optimizer=optimizer, regularization=regularization,
                         regularization_rate=rate, learning_rate=0.1)
    session, landscape = _after_steps(config, 30)
    line = _Line(session)
    after = _reference_objective(config, line.after, line.points, line.labels)
    index = int(np.flatnonzero(landscape.steps == landscape.step_length)[0])
    assert landscape.loss_after == landscape.losses[index]
    assert landscape.loss_after == pytest.approx(after, rel=1e-9, abs=0)
    assert landscape.loss_before == pytest.approx(line.f(0.0), rel=1e-9, abs=0)
    assert landscape.step_length == pytest.approx(line.length, rel=1e-12)
    for s, value in zip(landscape.steps[::5], landscape.losses[::5], strict=True):
        assert value == pytest.approx(line.f(float(s)), rel=1e-9, abs=0)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize(("regularization", "rate"), [*OBJECTIVES, ("l1", 0.01)])
def test_slope_is_the_derivative_of_the_line_at_zero(
    optimizer: str, regularization: str, rate: float,
) -> None:
    """The slope g·d equals a central finite difference of f at s = 0, so the tangent
    touches the curve: the gradient is that of the objective sampled (penalty included)."""
    config = make_config(optimizer=optimizer, regularization=regularization,
                         regularization_rate=rate, learning_rate=0.1)
    session, landscape = _after_steps(config, 30)
    line = _Line(session)
    h = 1e-4 * line.length
    numeric = (line.f(h) - line.f(-h)) / (2 * h)
    assert landscape.slope == pytest.approx(numeric, rel=1e-6, abs=1e-12)
    if optimizer == "sgd":
        assert landscape.slope == pytest.approx(-landscape.gradient_norm, rel=1e-12)
        assert landscape.step_length == pytest.approx(0.1 * landscape.gradient_norm, rel=1e-12)


def test_samples_run_from_behind_the_start_to_past_three_steps() -> None:
    """24–40 samples from −0.25‖Δθ‖ to at least 3‖Δθ‖, s = 0 and s = ‖Δθ‖ among them."""
    _, landscape = _after_steps(make_config(), 5)
    steps, length = landscape.steps, landscape.step_length
    assert 24 <= len(steps) <= 40 and len(landscape.losses) == len(steps)
    assert steps[0] == pytest.approx(-0.25 * length) and steps[-1] >= 3 * length
    assert 0.0 in steps and length in steps
    assert np.all(np.diff(steps) > 0)
    assert len(SAMPLE_UNITS) == len(steps)


def test_overshoot_flag_is_batch_loss_after_above_before() -> None:
    """Over many steps at a large rate, ``overshot`` (on the landscape and in step_losses)
    is exactly 'the reference batch loss after the update > before it'."""
    session = TrainingSession(make_config(learning_rate=1.0, hidden=(4, 2)))
    seen = set()
    for _ in range(150):
        assert session.step() == "update"
        landscape, losses = session.step_landscape(), session.step_losses()
        assert landscape is not None and losses is not None
        line = _Line(session)
        before, after = line.f(0.0), line.f(line.length)
        if abs(after - before) < 1e-9 * abs(before):
            continue  # a tie within rounding says nothing
        assert landscape.overshot == (after > before)
        assert bool(losses.overshot[0]) == landscape.overshot
        assert (losses.before[0], losses.after[0]) == pytest.approx(
            (landscape.loss_before, landscape.loss_after), rel=1e-12)
        assert (landscape.verdict == "divergence") == landscape.overshot
        seen.add(landscape.overshot)
    assert seen == {True, False}


def _true_valley(line: _Line, far: float) -> float:
    """Where the reference f is lowest over [−0.25, far]·‖Δθ‖, on a fine grid."""
    grid = np.linspace(-0.25 * line.length, far * line.length, 4001)
    values = np.array([line.f(float(s)) for s in grid])
    return float(grid[int(np.argmin(values))])


@pytest.mark.parametrize(("learning_rate", "steps", "verdict"), [
    (1e-4, 10, "undershoot"),
    (0.1, 10, "undershoot"),
    (1.0, 20, "about right"),
    (1.8, 20, "overshoot"),
    (2.5, 5, "divergence"),
    (10.0, 1, "divergence"),
])
def test_verdict_on_the_regression_plane(learning_rate: float, steps: int, verdict: str) -> None:
    """On 'plane' (close to quadratic) a tiny rate undershoots, η = 1 is about right, 1.8
    jumps past the valley yet lowers the loss, 2.5 and 10 raise it; the true valley (found
    on a fine grid of the reference objective) agrees with each verdict."""
    session, landscape = _after_steps(regression_config(learning_rate=learning_rate), steps)
    assert landscape.verdict == verdict
    assert landscape.sentence == VERDICTS[verdict]
    line = _Line(session)
    step = line.length
    if landscape.minimum_at_edge:  # the valley lies beyond the last sample, 32 steps out
        valley = float(landscape.steps[-1])
        assert verdict == "undershoot" and landscape.minimum_step == valley
        assert line.f(valley * 1.01) < line.f(valley)
    else:
        valley = _true_valley(line, far=32.0)
        assert landscape.minimum_step == pytest.approx(valley, rel=0.03, abs=0.01 * step)
    before, after = line.f(0.0), line.f(step)
    if verdict == "undershoot":
        assert valley > 2 * step and after < before
    elif verdict == "about right":
        assert 0.5 * valley <= step <= 1.5 * valley
    elif verdict == "overshoot":
        assert step > 1.5 * valley and after < before and not landscape.overshot
    else:
        assert after > before and landscape.overshot and valley < step
        assert "overshot" in landscape.caption


def test_caption_gives_the_batch_loss_before_and_after() -> None:
    """The caption reads 'the last step overshot: batch loss a → b' for a raised loss."""
    _, landscape = _after_steps(regression_config(learning_rate=10.0), 1)
    assert landscape.caption == (f"the last step overshot: batch loss "
                                 f"{landscape.loss_before:.3g} → {landscape.loss_after:.3g}")


def test_landscape_exists_only_for_a_completed_update() -> None:
    """None before any update; mid-step it is the last step's only if read before; after
    the update phase it equals the one a whole step gives."""
    config = make_config(learning_rate=0.3)
    stepwise, whole = TrainingSession(config), TrainingSession(config)
    assert stepwise.step_landscape() is None and stepwise.step_losses() is None
    for phase in ("forward", "loss", "backward"):
        stepwise.run_phase(phase)
        assert stepwise.step_landscape() is None
    stepwise.run_phase("update")
    whole.step()
    first, reference = stepwise.step_landscape(), whole.step_landscape()
    assert first is not None and reference is not None
    np.testing.assert_array_equal(first.losses, reference.losses)
    stepwise.run_phase("forward")  # the batch is replaced: the cached reading stays
    assert stepwise.step_landscape() is first
    whole.run_phase("forward")
    assert whole.step_landscape() is reference
    whole.run_phase("loss")
    fresh = TrainingSession(config)
    fresh.step()
    fresh.run_phase("forward")
    assert fresh.step_landscape() is None  # never read while the batch was there


def test_landscape_describes_the_step_not_a_later_change() -> None:
    """A penalty switched on after the step does not enter that step's landscape, and
    weights set after it make it unavailable (until the next step)."""
    session = TrainingSession(make_config())
    session.run(3)
    line = _Line(session)  # its config: no penalty
    session.set_hyperparameters(regularization="l2", regularization_rate=1.0)
    landscape = session.step_landscape()
    assert landscape is not None
    assert landscape.loss_before == pytest.approx(line.f(0.0), rel=1e-9)
    other = TrainingSession(make_config())
    other.run(3)
    other.set_weights(other.get_weights())
    assert other.step_landscape() is None
    other.step()
    assert other.step_landscape() is not None


def test_sweep_landscapes_equal_separate_sessions() -> None:
    """Each run of a sweep has the landscape of a separate session at its rate."""
    rates = [0.01, 0.3, 1.8]
    config = regression_config()
    sweep = TrainingSession(config, learning_rates=rates)
    sweep.run(12)
    for run, rate in enumerate(rates):
        _, expected = _after_steps(config.with_hyper(learning_rate=rate), 12)
        got = sweep.step_landscape(run)
        assert got is not None and got.run == run
        np.testing.assert_allclose(got.losses, expected.losses, rtol=1e-9)
        assert got.verdict == expected.verdict
        assert got.learning_rate == rate


def test_step_losses_of_a_sweep_mark_a_frozen_run() -> None:
    """step_losses has one entry per run; a frozen run (update dropped) is NaN, never
    overshot, and has no landscape."""
    sweep = TrainingSession(regression_config(), learning_rates=[0.01, 10.0])
    sweep.run(30)
    assert sweep.frozen.tolist() == [False, True]
    losses = sweep.step_losses()
    assert losses is not None and losses.step == 30
    assert np.isfinite(losses.before[0]) and np.isnan(losses.before[1])
    assert losses.overshot.tolist() == [losses.after[0] > losses.before[0], False]
    assert sweep.step_landscape(1) is None
    with pytest.raises(ValueError):
        losses.before[0] = 0.0  # shared by later reads: read-only
