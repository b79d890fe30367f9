"""The last step on the loss landscape: the batch objective along the update direction.

For the minibatch of the last completed step, with θ₀ the weights before its update, Δθ the
applied update (all parameters of one run, biases included), Δ = ‖Δθ‖ and d = Δθ / Δ:

    f(s) = L_batch(θ₀ + s·d) + R(θ₀ + s·d)

where L_batch is the head's mean loss over that minibatch and R the regularization penalty
when one is on (½λΣw² or λΣ|w|, biases excluded; 0 otherwise): the objective whose gradient
g the backward phase computed, so the tangent f(0) + s·f'(0) touches the curve at s = 0.
The slope f'(0) = g·d is the true derivative along the direction actually taken: −‖g‖ for
SGD; momentum and Adam step along another direction, and may even step uphill (f'(0) > 0).

f is sampled at s = u·Δ for u in :data:`SAMPLE_UNITS` (−0.25 … 2 in eighths, to 3 in
quarters, then a tail to 32 spaced by at most a quarter of u, where a small step's distant
valley shows), so s = 0 and s = Δ are samples; all S = 38 vectors θ₀ + s·d go through one
forward pass on the run axis. The valley s* is the lowest sample (not the first dip: the
kinks of ReLU networks make shallow dips on the way down), refined by the parabola through
it and its two neighbours (after zooming in with ``ZOOM`` more points when it is s = 0).
With f₀ = f(0),
f₁ = f(Δ) (the landing point) and f* = f(s*), the verdict is, in this order:

* ``"divergence"`` if f₁ − f₀ > 10⁻¹² |f₀| (rounding excluded): the step raised the loss of
  its own batch, it *overshot* (``overshot``); repeated, the loss grows without bound;
* ``"flat"`` if every finite sample lies within 10⁻⁹ |f₀| of f₀: the loss does not change
  along the step, the gradient has (almost) vanished (e.g. saturation), no valley to aim at;
* ``"about right"`` if f₁ − f* ≤ ¼ (f₀ − f*): the step gained at least ¾ of the decrease
  available along its line. On a parabola f₁ − f* = ((Δ − s*)/s*)² (f₀ − f*), so this is
  exactly 0.5·s* ≤ Δ ≤ 1.5·s*, the usual band around the ideal step; stated on the loss it
  stays meaningful on a real network's non-quadratic valleys, where a flat-bottomed valley
  forgives a landing position far from s*;
* else ``"undershoot"`` if Δ < s*: the step stopped short (on a parabola Δ < 0.5·s*: the
  valley is more than twice as far as the step went) and the loss went down;
* else ``"overshoot"``: the step jumped past the valley (on a parabola Δ > 1.5·s*) and
  landed noticeably up its far side (f₁ − f* > ¼ (f₀ − f*)), yet lower than it started.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
#: Where f is sampled, in units of the step length Δ: s = u·Δ. Includes u = 0 and u = 1.
#: The vectors are written θ₁ + (u − 1)·Δθ from the weights θ₁ = θ₀ + Δθ the step left, so
#: that u = 1 is exactly θ₁ (``SAMPLE_OFFSETS`` = u − 1).
SAMPLE_UNITS: Array = np.concatenate([
    np.arange(-2, 17) / 8.0, [2.25, 2.5, 2.75, 3.0],
    [3.5, 4, 4.5, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32]])
ORIGIN = int(np.flatnonzero(SAMPLE_UNITS == 0.0)[0])
LANDING = int(np.flatnonzero(SAMPLE_UNITS == 1.0)[0])
SAMPLE_OFFSETS: Array = SAMPLE_UNITS - 1.0
_UNITS: list[float] = SAMPLE_UNITS.tolist()
#: Extra evaluations that refine the valley (one more forward pass).
ZOOM = 11
_ZOOM_FRACTIONS: Array = np.arange(1, ZOOM + 1) / (ZOOM + 1)
#: "about right" when the landing point is within this share of the available decrease.
ABOUT_RIGHT_GAP = 0.25
#: Relative differences of f below this are rounding, not the step.
ROUNDING = 1e-12
#: The curve is "flat" when all of it lies within this relative band around f(0).
FLAT = 1e-9
#: The verdict codes and the sentence the page shows for each.
VERDICTS: dict[str, str] = {
    "undershoot": "The step stopped well short of the valley: a larger learning rate would "
                  "get further per step (too small a rate converges slowly).",
    "about right": "The step landed close to the bottom of the valley along its direction.",
    "overshoot": "The step jumped past the valley and landed up its far side; the loss still "
                 "went down, but a smaller learning rate would land closer to the bottom.",
    "divergence": "The step jumped so far past the valley that the loss went up: it landed "
                  "higher than it started. Repeated, the loss grows until training diverges.",
    "flat": "The loss barely changes along the step: the gradient has (almost) vanished, so "
            "there is no valley to aim at.",
}


@dataclass(frozen=True)
class StepLandscape:
    """Run ``run``'s completed step ``step`` seen along its update (see the module):
    f(s) = batch loss + regularization penalty (if on) at θ₀ + s·d, d = Δθ/‖Δθ‖.

    ``steps: (S,)`` the distances s from θ₀ along d, ``losses: (S,)`` f(s) (inf or NaN
    where the weights overflow); ``step_length`` Δ = ‖Δθ‖ = the landing point;
    ``gradient_norm`` ‖g‖ and ``learning_rate`` η of that update (SGD: Δ = η‖g‖);
    ``slope`` f'(0) = g·d; ``loss_before`` f(0), ``loss_after`` f(Δ); ``minimum_step`` s*
    and ``minimum_loss`` f(s*) (a parabola's estimate, never above the lowest sample near
    it), ``minimum_at_edge`` True when s* is an end of the sampled range (the valley lies
    beyond it); ``overshot``: the step raised its batch's loss (verdict ``"divergence"``);
    ``verdict``: a code of :data:`VERDICTS`.
    """

    run: int
    step: int
    steps: Array
    losses: Array
    step_length: float
    gradient_norm: float
    learning_rate: float
    slope: float
    loss_before: float
    loss_after: float
    minimum_step: float
    minimum_loss: float
    minimum_at_edge: bool
    overshot: bool
    verdict: str

    @property
    def sentence(self) -> str:
        """The verdict in words, for the page."""
        return VERDICTS[self.verdict]

    @property
    def caption(self) -> str:
        """E.g. ``the last step overshot: batch loss 0.41 → 0.63``."""
        change = ("overshot" if self.overshot else "barely changed the loss"
                  if self.verdict == "flat" else "lowered the loss")
        return f"the last step {change}: batch loss {self.loss_before:.3g} → {self.loss_after:.3g}"


@dataclass(frozen=True)
class StepLosses:
    """For every run of completed step ``step``: the batch objective f before and after
    its update ``(K,)`` (NaN for a run whose update was dropped: frozen), and ``overshot
    (K,)``: the update raised it by more than rounding."""

    step: int
    before: Array
    after: Array
    overshot: NDArray[np.bool_]


def raised(before: Array, after: Array) -> NDArray[np.bool_]:
    """Whether f went up by more than rounding, elementwise: after − before > 10⁻¹²
    |before| (a non-finite ``after`` counts as up; a non-finite ``before`` never does)."""
    result: NDArray[np.bool_] = ~(after - before <= ROUNDING * np.abs(before))
    return result & np.isfinite(before)


def _raised(before: float, after: float) -> bool:
    """:func:`raised` for two numbers."""
    return math.isfinite(before) and not after - before <= ROUNDING * abs(before)


def describe(run: int, step: int, losses: Array, update: Array, grads: Array,
             learning_rate: float, evaluate: Callable[[Array], Array]) -> StepLandscape:
    """The :class:`StepLandscape` of samples ``losses: (S,)`` = f(u·Δ) at
    :data:`SAMPLE_UNITS`, for update ``update: (P,)`` (Δθ ≠ 0) made from gradient ``grads:
    (P,)``; ``evaluate(offsets (R,)) -> (R,)`` gives f at more points u = 1 + offset, for
    refining the valley."""
    length = math.sqrt(float(np.dot(update, update)))
    values = _as_numbers(losses)
    before, after = values[ORIGIN], values[LANDING]
    unit, minimum, at_edge = _valley(values, evaluate)
    overshot = _raised(before, after)
    return StepLandscape(
        run=run, step=step, steps=SAMPLE_UNITS * length, losses=losses,
        step_length=length, gradient_norm=math.sqrt(float(np.dot(grads, grads))),
        learning_rate=learning_rate, slope=float(np.dot(grads, update)) / length,
        loss_before=float(losses[ORIGIN]), loss_after=float(losses[LANDING]),
        minimum_step=unit * length, minimum_loss=minimum, minimum_at_edge=at_edge,
        overshot=overshot, verdict=_verdict(values, overshot, unit, minimum),
    )


def _as_numbers(losses: Array) -> list[float]:
    """The samples as floats, non-finite ones as +inf (never a minimum)."""
    values: list[float] = losses.tolist()
    if math.isfinite(sum(values)):  # the common case, checked in one call
        return values
    return [value if math.isfinite(value) else math.inf for value in values]


def _valley(f: list[float], evaluate: Callable[[Array], Array]) -> tuple[float, float, bool]:
    """The lowest of the samples ``f``, refined: its position u*, f(u*), and whether it is
    an end of the sampled range (the valley may lie beyond).

    Refining: the vertex of the parabola through the lowest sample and its two neighbours.
    When the lowest sample is u = 0 itself (the valley lies within Δ/8 of the start: a step
    more than eight times too long, whose narrow valley the samples cannot place), f at
    :data:`ZOOM` more points over [−Δ/8, Δ/8] first (one more forward pass)."""
    index = f.index(min(f))
    if index in (0, len(f) - 1):
        return _UNITS[index], f[index], True
    points = list(zip(_UNITS[index - 1:index + 2], f[index - 1:index + 2], strict=True))
    if index == ORIGIN:
        low, high = _UNITS[index - 1], _UNITS[index + 1]
        extra = low + (high - low) * _ZOOM_FRACTIONS
        points = sorted([*points, *zip(extra.tolist(), _as_numbers(evaluate(extra - 1.0)),
                                       strict=True)])
    best = min(range(len(points)), key=lambda i: points[i][1])
    if best in (0, len(points) - 1):
        return points[best][0], points[best][1], False
    return _parabola_vertex(*points[best - 1], *points[best], *points[best + 1])


def _parabola_vertex(u0: float, f0: float, u1: float, f1: float, u2: float,
                     f2: float) -> tuple[float, float, bool]:
    """The lowest point of the parabola through three points, u0 < u1 < u2 and f1 the
    lowest: (u*, f(u*) never above f1, False); (u1, f1, False) if it is degenerate."""
    numerator = (u1 - u0) ** 2 * (f1 - f2) - (u1 - u2) ** 2 * (f1 - f0)
    denominator = (u1 - u0) * (f1 - f2) - (u1 - u2) * (f1 - f0)
    if not (math.isfinite(f0) and math.isfinite(f2)) or denominator == 0.0:
        return u1, f1, False
    vertex = min(max(u1 - 0.5 * numerator / denominator, u0), u2)
    parabola = (f0 * (vertex - u1) * (vertex - u2) / ((u0 - u1) * (u0 - u2))
                + f1 * (vertex - u0) * (vertex - u2) / ((u1 - u0) * (u1 - u2))
                + f2 * (vertex - u0) * (vertex - u1) / ((u2 - u0) * (u2 - u1)))
    return vertex, min(f1, parabola), False


def _verdict(f: list[float], overshot: bool, unit: float, minimum: float) -> str:
    """The verdict code (module docstring) from the samples ``f``, the valley u* and
    f(u*)."""
    before, after = f[ORIGIN], f[LANDING]
    if overshot or not math.isfinite(before):
        return "divergence"
    band = FLAT * abs(before)
    if abs(after - before) <= band and max(
            abs(value - before) for value in f if value != math.inf) <= band:
        return "flat"
    if after - minimum <= ABOUT_RIGHT_GAP * (before - minimum):
        return "about right"
    return "undershoot" if unit > 1.0 else "overshoot"
