"""Output heads: the output activation and its loss, fused where the math allows.

Shapes (column layout): ``z, a, delta: (runs, outputs, batch)``, ``y: (1, outputs, batch)``;
the loss is the mean over the batch,
returned per run as ``(runs,)``. With B the batch size:

* ``bce`` (sigmoid + binary cross-entropy): L = 1/B Σ [softplus(z) − y·z], y ∈ {0, 1};
  delta = dL/dz = (a − y)/B.
* ``squared_error`` (tanh + squared error): L = 1/(2B) Σ (a − y)², y ∈ {−1, +1};
  dL/da = (a − y)/B, delta = dL/da · (1 − a²).
* ``cross_entropy`` (softmax + cross-entropy): L = 1/B Σ_b [logsumexp(z_b) − z_b,label];
  delta = (a − y)/B with y one-hot.
* ``mse`` (linear + squared error): L = 1/(2B) Σ (a − y)²; delta = dL/da = (a − y)/B.

Like the activations, a head returns its hot-path NumPy calls as ``(function, args)`` ops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .activations import ACTIVATION_FUNCTIONS, Op, run_ops

Array = NDArray[Any]


@dataclass
class OutputLayer:
    """The output layer's buffers in a workspace, all ``(K, outputs, B)`` but ``y:
    (1, outputs, B)``, ``loss: (K,)``
    and the 0-d constants ``inv_batch`` = 1/B, ``half_batch`` = B/2."""

    z: Array
    a: Array
    grad_a: Array
    delta: Array
    scratch: Array
    y: Array
    loss: Array
    inv_batch: Array
    half_batch: Array


def row_sum_squares(rows: Array, out: Array) -> None:
    """``out[k] = Σ_j rows[k, j]²`` for ``rows: (K, n)``; one BLAS dot when K = 1."""
    if len(rows) == 1:
        out[0] = np.dot(rows[0], rows[0])
    else:
        np.vecdot(rows, rows, out=out)


class Head:
    """Base class; ``delta_ops`` is the hot path, the rest serve inspection and metrics.

    ``bounded`` heads have a loss that cannot explode (tanh + squared error: L ≤ 2), so a
    step need not compute it to watch for divergence; it is computed when read.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    #: The output activation a = f(z) this loss is paired with, and the interval its
    #: values lie in (None: unbounded).
    output_activation: ClassVar[str]
    output_range: ClassVar[tuple[float, float] | None]
    #: The math as text, for the page: the loss, dL/da, da/dz and their product dL/dz.
    formula: ClassVar[str]
    grad_output_formula: ClassVar[str]
    output_derivative_formula: ClassVar[str]
    delta_formula: ClassVar[str] = "dL/dz = (a − y) / B"
    classification: ClassVar[bool] = True
    bounded: ClassVar[bool] = False
    #: Whether the delta ops leave dL/da in ``grad_a`` (squared errors); otherwise the
    #: inspector computes it with :meth:`grad_output`.
    fills_grad_a: ClassVar[bool] = False

    def n_outputs(self, n_classes: int) -> int:
        return 1

    def targets(self, labels: NDArray[np.float64], n_classes: int) -> NDArray[np.float64]:
        """``labels: (n,)`` class indices or values -> ``(n, outputs)`` targets (rows)."""
        return labels[:, None].copy()

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        raise NotImplementedError

    def forward(self, z: Array, a: Array) -> None:
        """a = output activation of z (not on the hot path)."""
        run_ops(self.forward_ops(z, a))

    def delta_ops(self, out: OutputLayer) -> list[Op]:
        """Ops that fill ``out.delta`` = dL/dz (and ``out.grad_a`` for squared errors)."""
        return [(np.subtract, (out.a, out.y, out.delta)),
                (np.multiply, (out.delta, out.inv_batch, out.delta))]

    def batch_loss(self, out: OutputLayer) -> None:
        """Fill ``out.loss`` for the batch in ``out`` (after its forward pass)."""
        np.copyto(out.loss, self.loss(out.z, out.a, out.y))

    def loss(self, z: Array, a: Array, y: Array) -> Array:
        """Loss per run ``(runs,)`` (for evaluation): the mean of :meth:`point_losses`."""
        result: Array = self.point_losses(z, a, y).sum(axis=-1) / y.shape[-1]
        return result

    def point_losses(self, z: Array, a: Array, y: Array) -> Array:
        """Each point's term ℓ_b of L = 1/B Σ_b ℓ_b, ``(runs, batch)``."""
        raise NotImplementedError

    def true_class_probability(self, a: Array, y: Array) -> Array:
        """The predicted probability of each point's own class ``(runs, batch)`` (NaN for
        regression): what the loss lesson plots both losses against."""
        return np.full(a[:, 0, :].shape, np.nan)

    def grad_output(self, z: Array, a: Array, y: Array) -> Array:
        """dL/da as a new array ``(runs, outputs, batch)``, for the inspector."""
        return (a - y) / y.shape[-1]

    def output_derivative(self, z: Array, a: Array) -> Array:
        """da/dz of the output activation, elementwise (for the inspector)."""
        return ACTIVATION_FUNCTIONS[self.output_activation].derivative(z, a)

    def predictions(self, a: Array) -> NDArray[np.int64]:
        """Predicted class per point, ``(runs, batch)``."""
        return (a[:, 0, :] > 0.5).astype(np.int64)


class _SquaredError(Head):
    """Shared by ``squared_error`` (tanh) and ``mse`` (linear): grad_a = (a − y)/B."""

    fills_grad_a = True

    def delta_ops(self, out: OutputLayer) -> list[Op]:
        return [(np.subtract, (out.a, out.y, out.grad_a)),
                (np.multiply, (out.grad_a, out.inv_batch, out.grad_a))]

    def batch_loss(self, out: OutputLayer) -> None:
        # 1/(2B) Σ (a − y)² = (B/2) Σ grad_a², from what the delta ops left.
        row_sum_squares(out.grad_a.reshape(len(out.a), -1), out.loss)
        np.multiply(out.loss, out.half_batch, out=out.loss)

    def loss(self, z: Array, a: Array, y: Array) -> Array:
        diff = (a - y).reshape(len(a), -1)
        result: Array = 0.5 * np.vecdot(diff, diff) / y.shape[-1]
        return result

    def point_losses(self, z: Array, a: Array, y: Array) -> Array:
        result: Array = 0.5 * ((a - y) ** 2).sum(axis=-2)
        return result


class TanhSquaredError(_SquaredError):
    name = "squared_error"
    title = "tanh · squared error"
    output_activation = "tanh"
    output_range = (-1.0, 1.0)
    formula = "L = 1/(2B) · Σ (a − y)², a = tanh(z), y = ±1"
    grad_output_formula = "dL/da = (a − y) / B"
    output_derivative_formula = "da/dz = 1 − a²"
    delta_formula = "dL/dz = (a − y)(1 − a²) / B"
    bounded = True

    def targets(self, labels: NDArray[np.float64], n_classes: int) -> NDArray[np.float64]:
        return (2.0 * labels - 1.0)[:, None]

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [(np.tanh, (z, a))]

    def delta_ops(self, out: OutputLayer) -> list[Op]:
        tanh = ACTIVATION_FUNCTIONS["tanh"]
        return [*super().delta_ops(out),
                *tanh.backward_ops(out.grad_a, out.z, out.a, out.scratch, out.delta)]

    def predictions(self, a: Array) -> NDArray[np.int64]:
        return (a[:, 0, :] > 0.0).astype(np.int64)

    def true_class_probability(self, a: Array, y: Array) -> Array:
        # a = tanh(z) read on the probability scale p = (1 + a)/2 of class +1; y = ±1.
        result: Array = (1.0 + a[:, 0, :] * y[:, 0, :]) / 2.0
        return result


class LinearSquaredError(_SquaredError):
    name = "mse"
    title = "linear · squared error"
    output_activation = "linear"
    output_range = None
    formula = "L = 1/(2B) · Σ (a − y)², a = z"
    grad_output_formula = "dL/da = (a − y) / B"
    output_derivative_formula = "da/dz = 1"
    classification = False

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [(np.copyto, (a, z))]

    def delta_ops(self, out: OutputLayer) -> list[Op]:
        return [*super().delta_ops(out), (np.copyto, (out.delta, out.grad_a))]


class SigmoidCrossEntropy(Head):
    name = "bce"
    title = "sigmoid · cross-entropy"
    output_activation = "sigmoid"
    output_range = (0.0, 1.0)
    formula = "L = −1/B · Σ [y·log a + (1 − y)·log(1 − a)] = 1/B · Σ [softplus(z) − y·z], a = σ(z)"
    grad_output_formula = "dL/da = (a − y) / (B · a(1 − a))"
    output_derivative_formula = "da/dz = a(1 − a)"

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return ACTIVATION_FUNCTIONS["sigmoid"].forward_ops(z, a)

    def point_losses(self, z: Array, a: Array, y: Array) -> Array:
        # −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y·z, exact for any z.
        result: Array = (np.logaddexp(0.0, z) - y * z)[:, 0, :]
        return result

    def true_class_probability(self, a: Array, y: Array) -> Array:
        result: Array = np.where(y[:, 0, :] > 0.5, a[:, 0, :], 1.0 - a[:, 0, :])
        return result

    def grad_output(self, z: Array, a: Array, y: Array) -> Array:
        # dL/da = (a − y) / (a(1 − a)) / B, from z so that it stays exact when a saturates:
        # y = 1: −1/(aB) = −(1 + e^−z)/B;  y = 0: 1/((1 − a)B) = (1 + e^z)/B.
        with np.errstate(over="ignore"):
            return np.where(y > 0.5, -(1.0 + np.exp(-z)), 1.0 + np.exp(z)) / y.shape[-1]


def _softmax(z: Array, a: Array) -> None:
    """a = exp(z − max z) / Σ exp(z − max z) over the classes (axis −2)."""
    np.subtract(z, z.max(axis=-2, keepdims=True), out=a)
    np.exp(a, out=a)
    np.divide(a, a.sum(axis=-2, keepdims=True), out=a)


class SoftmaxCrossEntropy(Head):
    name = "cross_entropy"
    title = "softmax · cross-entropy"
    output_activation = "softmax"
    output_range = (0.0, 1.0)
    formula = "L = −1/B · Σ log a_label, a = softmax(z)"
    grad_output_formula = "dL/da_k = −y_k / (B · a_k)"
    output_derivative_formula = "da_k/dz_j = a_k(δ_kj − a_j): not elementwise"

    def n_outputs(self, n_classes: int) -> int:
        return n_classes

    def targets(self, labels: NDArray[np.float64], n_classes: int) -> NDArray[np.float64]:
        return np.eye(n_classes)[labels.astype(np.int64)]

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [(_softmax, (z, a))]

    def point_losses(self, z: Array, a: Array, y: Array) -> Array:
        top = z.max(axis=-2, keepdims=True)
        log_sum_exp = np.log(np.exp(z - top).sum(axis=-2)) + top[:, 0, :]
        result: Array = log_sum_exp - (y * z).sum(axis=-2)
        return result

    def true_class_probability(self, a: Array, y: Array) -> Array:
        result: Array = (y * a).sum(axis=-2)
        return result

    def grad_output(self, z: Array, a: Array, y: Array) -> Array:
        # −y/a/B, 0 for the other classes even where a underflowed to 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, -y / a, 0.0) / y.shape[-1]

    def output_derivative(self, z: Array, a: Array) -> Array:
        """Softmax has no elementwise da/dz (da_k/dz_j = a_k(δ_kj − a_j)): NaN."""
        return np.full_like(a, np.nan)

    def predictions(self, a: Array) -> NDArray[np.int64]:
        return a.argmax(axis=-2)


HEADS: dict[str, Head] = {
    head.name: head
    for head in (SigmoidCrossEntropy(), TanhSquaredError(), SoftmaxCrossEntropy(),
                 LinearSquaredError())
}
