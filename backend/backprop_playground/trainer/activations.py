"""Hidden-layer activations. One pattern for all of them (cf. micrograd):

``forward_ops(z, a)`` computes a = f(z); ``backward_ops(grad_a, z, a, scratch, delta)``
computes the local chain-rule step delta = dL/dz = dL/da · f'(z), written with the cheapest
formula (tanh: f' = 1 − a², sigmoid: f' = a(1 − a)). Both return the NumPy calls as a list
of ``(function, args)`` that a workspace runs every step, so a step does no attribute
lookups. Arrays have any matching shape, typically ``(runs, batch, neurons)``; ``scratch``
has that shape too and its contents are lost. ``derivative(z, a)`` returns f'(z) as a new
array, for inspection only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
#: One NumPy call with its arguments (outputs positional): ``fn(*args)``.
Op = tuple[Callable[..., Any], tuple[Any, ...]]
LEAKY_SLOPE = 0.01
# 0-d arrays: NumPy converts a Python float on every call, which costs more than the math.
ONE = np.array(1.0)
ZERO = np.array(0.0)
_SLOPE = np.array(LEAKY_SLOPE)
_ONE_MINUS_SLOPE = np.array(1.0 - LEAKY_SLOPE)


def run_ops(ops: list[Op]) -> None:
    """Run ``(function, args)`` calls in order."""
    for function, args in ops:
        function(*args)


def _maximum(x: Array, y: Array, out: Array) -> None:
    """np.maximum into ``out`` (NumPy no longer takes its ``out`` positionally)."""
    np.maximum(x, y, out=out)


class Activation:
    """Base class: subclasses define the three methods and a readable formula."""

    name: ClassVar[str]
    title: ClassVar[str]
    formula: ClassVar[str]
    derivative_formula: ClassVar[str]
    #: The interval a = f(z) lies in; None for an unbounded end.
    output_range: ClassVar[tuple[float | None, float | None]] = (None, None)
    #: An input s with f(s) == 1.0 exactly: a workspace stores it under each hidden layer's
    #: pre-activations so that f over the whole buffer also writes the next layer's row of
    #: ones, and every activation op runs on one contiguous array.
    sentinel: ClassVar[float] = 1.0

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        raise NotImplementedError

    def backward_ops(
        self, grad_a: Array, z: Array, a: Array, scratch: Array, delta: Array
    ) -> list[Op]:
        raise NotImplementedError

    def forward(self, z: Array, out: Array) -> None:
        """a = f(z) into ``out`` (not on the hot path)."""
        run_ops(self.forward_ops(z, out))

    def derivative(self, z: Array, a: Array) -> Array:
        raise NotImplementedError


class Tanh(Activation):
    name = "tanh"
    title = "tanh"
    output_range = (-1.0, 1.0)
    sentinel = 20.0  # tanh(20) = 1 − 8.5e-18, which rounds to 1.0
    formula = "a = tanh(z)"
    derivative_formula = "da/dz = 1 − a²"

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [(np.tanh, (z, a))]

    def backward_ops(
        self, grad_a: Array, z: Array, a: Array, scratch: Array, delta: Array
    ) -> list[Op]:
        return [
            (np.multiply, (a, a, scratch)),
            (np.subtract, (ONE, scratch, scratch)),
            (np.multiply, (grad_a, scratch, delta)),
        ]

    def derivative(self, z: Array, a: Array) -> Array:
        return 1.0 - a * a


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^−z), computed as ½(1 + tanh(z/2)) so that it never overflows."""

    name = "sigmoid"
    title = "sigmoid"
    output_range = (0.0, 1.0)
    sentinel = 40.0  # ½(1 + tanh(20)) = 1.0
    formula = "a = 1 / (1 + e^−z)"
    derivative_formula = "da/dz = a · (1 − a)"

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        half = np.array(0.5, dtype=a.dtype)
        return [
            (np.multiply, (z, half, a)),
            (np.tanh, (a, a)),
            (np.multiply, (a, half, a)),
            (np.add, (a, half, a)),
        ]

    def backward_ops(
        self, grad_a: Array, z: Array, a: Array, scratch: Array, delta: Array
    ) -> list[Op]:
        return [
            (np.subtract, (ONE, a, scratch)),
            (np.multiply, (scratch, a, scratch)),
            (np.multiply, (grad_a, scratch, delta)),
        ]

    def derivative(self, z: Array, a: Array) -> Array:
        return a * (1.0 - a)


class Relu(Activation):
    """max(0, z); the derivative at z = 0 is taken as 0."""

    name = "relu"
    title = "ReLU"
    output_range = (0.0, None)
    formula = "a = max(0, z)"
    derivative_formula = "da/dz = 1 if z > 0 else 0"

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [(_maximum, (z, np.array(0.0, dtype=a.dtype), a))]

    def backward_ops(
        self, grad_a: Array, z: Array, a: Array, scratch: Array, delta: Array
    ) -> list[Op]:
        return [(np.greater, (z, ZERO, scratch)), (np.multiply, (grad_a, scratch, delta))]

    def derivative(self, z: Array, a: Array) -> Array:
        return (z > 0.0).astype(z.dtype)


class LeakyRelu(Activation):
    """max(αz, z) with α = 0.01; the derivative at z = 0 is taken as α."""

    name = "leaky_relu"
    title = "leaky ReLU"
    formula = f"a = max({LEAKY_SLOPE}·z, z)"
    derivative_formula = f"da/dz = 1 if z > 0 else {LEAKY_SLOPE}"

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [
            (np.multiply, (z, np.array(LEAKY_SLOPE, dtype=a.dtype), a)),
            (_maximum, (z, a, a)),
        ]

    def backward_ops(
        self, grad_a: Array, z: Array, a: Array, scratch: Array, delta: Array
    ) -> list[Op]:
        return [
            (np.greater, (z, ZERO, scratch)),
            (np.multiply, (scratch, _ONE_MINUS_SLOPE, scratch)),
            (np.add, (scratch, _SLOPE, scratch)),
            (np.multiply, (grad_a, scratch, delta)),
        ]

    def derivative(self, z: Array, a: Array) -> Array:
        return np.where(z > 0.0, 1.0, LEAKY_SLOPE).astype(z.dtype)


class Linear(Activation):
    name = "linear"
    title = "linear"
    formula = "a = z"
    derivative_formula = "da/dz = 1"

    def forward_ops(self, z: Array, a: Array) -> list[Op]:
        return [(np.copyto, (a, z))]

    def backward_ops(
        self, grad_a: Array, z: Array, a: Array, scratch: Array, delta: Array
    ) -> list[Op]:
        return [(np.copyto, (delta, grad_a))]

    def derivative(self, z: Array, a: Array) -> Array:
        return np.ones_like(z)


ACTIVATION_FUNCTIONS: dict[str, Activation] = {
    fn.name: fn for fn in (Tanh(), Relu(), LeakyRelu(), Sigmoid(), Linear())
}

