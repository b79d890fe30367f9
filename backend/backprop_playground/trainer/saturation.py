"""Saturation: units stuck where their activation is flat, so that gradients vanish.

A unit (neuron) is saturated on a batch when its activation is in its flat zone at every
point of the batch, so that f'(z) ≈ 0 and it passes (almost) no gradient back:

* tanh: |a| > 0.99 (f' = 1 − a² < 0.02);
* sigmoid, and each softmax output: a < 0.01 or a > 0.99 (f' = a(1 − a) < 0.0099);
* ReLU: a = 0, i.e. dead (z ≤ 0 at every point; f' = 0);
* leaky ReLU and linear never saturate (f' ≥ 0.01).

A run is **saturated** (its status) when, on the current batch, (1) its gradient norm
‖dL/dθ‖ is below ``SATURATED_GRADIENT`` = 10⁻⁵: even at the largest learning rate (10) a
step then moves the weights by less than 10⁻⁴; (2) its units are to blame: most units
(``SATURATED_SHARE`` = ½ of the hidden and output units) are saturated, or every unit of
some layer is, which blocks all the gradient below it (circle with tanh + squared error at
η = 10: the output unit sits at ±1 everywhere while the hidden layers still vary); and
(3) the batch is not simply fit: its loss is above ``FIT_LOSS`` = 10⁻³ (a network that has
learnt its batch also has tiny gradients, and its saturated units are its confidence).
A classification run is saturated too when (1′) some hidden layer is saturated entirely and
the gradient of that layer and every layer below it is below ``SATURATED_GRADIENT``
(``stalled`` counts those layers): only the layers above still learn, on features pinned at
±1, and the decision boundary can no longer bend — the default circle at η = 10 with
sigmoid + cross-entropy, whose output keeps a gradient while both hidden layers are pinned —
with (3) as before. (A regression output can still fit a stalled network's pinned features,
so there ``stalled`` is reported but does not set the status.)
The run keeps training; a lower learning rate or a reset is the remedy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
SATURATED_GRADIENT = 1e-5
SATURATED_SHARE = 0.5
FIT_LOSS = 1e-3
#: Per activation name (hidden ones and the heads' outputs): where a = f(z) is flat,
#: elementwise; None for an activation that never saturates.
FLAT_ZONES: dict[str, Callable[[Array], Array] | None] = {
    "tanh": lambda a: np.abs(a) > 0.99,
    "sigmoid": lambda a: (a < 0.01) | (a > 0.99),
    "softmax": lambda a: (a < 0.01) | (a > 0.99),
    "relu": lambda a: a == 0.0,
    "leaky_relu": None,
    "linear": None,
}


@dataclass(frozen=True)
class Saturation:
    """Run ``run`` on the current batch: ``layers`` the share of each layer's units that
    are saturated (hidden layers, then the output layer), ``share`` over all those units,
    ``blocked`` whether every unit of some layer is saturated, ``gradient_norm`` ‖dL/dθ‖₂
    over every parameter (of the last backward phase), ``stalled`` how many layers from the
    input up get (almost) no gradient behind a saturated layer, ``loss`` the batch loss
    (without penalty) and ``saturated`` the status rule of :mod:`.saturation`."""

    run: int
    layers: tuple[float, ...]
    share: float
    blocked: bool
    gradient_norm: float
    loss: float
    saturated: bool
    stalled: int = 0


def read_saturation(run: int, activations: Sequence[Array], names: Sequence[str],
                    layer_norms: Sequence[float], loss: float,
                    classification: bool = True) -> Saturation:
    """The reading from each layer's activations ``(n_l, B)``, activation name and gradient
    norm ‖dL/d[W_l | b_l]‖ (NaN before any gradient)."""
    units: list[Array] = []
    for a, name in zip(activations, names, strict=True):
        zone = FLAT_ZONES[name]
        flat = np.zeros(len(a), dtype=bool) if zone is None else np.asarray(zone(a).all(axis=1))
        units.append(flat)
    layers = tuple(float(layer.mean()) for layer in units)
    share = float(np.concatenate(units).mean())
    blocked = any(bool(layer.all()) for layer in units)
    below = np.sqrt(np.cumsum(np.square(layer_norms)))  # ‖gradient of layers 0 … l‖
    gradient_norm = float(below[-1])
    stalled = max((layer + 1 for layer in range(len(units) - 1)
                   if units[layer].all() and below[layer] < SATURATED_GRADIENT), default=0)
    saturated = loss > FIT_LOSS and ((stalled > 0 and classification) or (
        gradient_norm < SATURATED_GRADIENT and (share >= SATURATED_SHARE or blocked)))
    return Saturation(run, layers, share, blocked, gradient_norm, loss, saturated, stalled)
