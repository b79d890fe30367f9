"""Optimizers over flat parameter buffers with a leading run axis.

``grads, update: (runs, P)``; ``neg_lr: (runs, 1)`` holds −η per run, so a learning-rate sweep
is one vectorized computation. An optimizer compiles its step into ``(function, args)`` ops
that write the change to apply into ``update`` (the caller applies ``params += update``).
Its hyperparameters live in 0-d arrays that :meth:`Optimizer.set_hyper` updates in place, so
the compiled ops see live changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import Op
from .config import Hyperparameters

Array = NDArray[Any]


class Optimizer:
    name = "base"
    title = "base"
    #: The update rule as text, for the page; g is dL/dθ plus the regularization term.
    rule = ""
    #: The hyperparameters the rule reads (fields of Hyperparameters).
    hyperparameters: tuple[str, ...] = ("learning_rate",)
    #: Names of the arrays that make up the optimizer's memory (cleared on divergence).
    memory: tuple[str, ...] = ()

    def __init__(self, shape: tuple[int, int], hyper: Hyperparameters) -> None:
        self.shape = shape
        #: The memory as it was before the last update (for the inspector's rule with
        #: numbers): copied at the start of every update.
        self.before: dict[str, Array] = {
            name: np.zeros_like(getattr(self, name)) for name in self.memory}
        self.set_hyper(hyper)

    def set_hyper(self, hyper: Hyperparameters) -> None:
        """Take new hyperparameter values (in place: compiled ops see them)."""

    def ops(self, grads: Array, neg_lr: Array, update: Array) -> list[Op]:
        """The update's ops: remember the memory, then the rule (:meth:`rule_ops`)."""
        remember: list[Op] = [(np.copyto, (self.before[name], getattr(self, name)))
                              for name in self.memory]
        return [*remember, *self.rule_ops(grads, neg_lr, update)]

    def rule_ops(self, grads: Array, neg_lr: Array, update: Array) -> list[Op]:
        raise NotImplementedError

    def constants(self) -> dict[str, float]:
        """The hyperparameter values the compiled ops use now (μ, β₁, β₂, ε …)."""
        return {}

    def state(self) -> dict[str, Any]:
        """Optimizer memory as arrays ``(runs, P)`` (for export)."""
        return {name: getattr(self, name).copy() for name in self.memory}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        for name in self.memory:
            target = getattr(self, name)
            np.copyto(target, np.asarray(state[name], dtype=np.float64).reshape(target.shape))

    def clear(self, runs: NDArray[np.bool_]) -> None:
        """Forget the memory of the selected runs."""
        for name in self.memory:
            getattr(self, name)[runs] = 0.0


class Sgd(Optimizer):
    """update = −η · g"""

    name = "sgd"
    title = "SGD"
    rule = "Δθ = −η·g"

    def rule_ops(self, grads: Array, neg_lr: Array, update: Array) -> list[Op]:
        return [(np.multiply, (grads, neg_lr, update))]


class Momentum(Optimizer):
    """velocity ← μ · velocity − η · g;  update = velocity"""

    name = "momentum"
    title = "SGD + momentum"
    rule = "v ← μ·v − η·g;  Δθ = v"
    hyperparameters = ("learning_rate", "momentum")
    memory = ("velocity",)

    def __init__(self, shape: tuple[int, int], hyper: Hyperparameters) -> None:
        self.velocity = np.zeros(shape)
        self.momentum = np.array(0.0)
        super().__init__(shape, hyper)

    def set_hyper(self, hyper: Hyperparameters) -> None:
        self.momentum[...] = hyper.momentum

    def constants(self) -> dict[str, float]:
        return {"momentum": float(self.momentum)}

    def rule_ops(self, grads: Array, neg_lr: Array, update: Array) -> list[Op]:
        velocity = self.velocity
        return [
            (np.multiply, (velocity, self.momentum, velocity)),
            (np.multiply, (grads, neg_lr, update)),
            (np.add, (velocity, update, velocity)),
            (np.copyto, (update, velocity)),
        ]


class Adam(Optimizer):
    """m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  update = −η · m̂ / (√v̂ + ε)
    with the bias corrections m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), t counted per run."""

    name = "adam"
    title = "Adam"
    rule = ("t ← t + 1;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  "
            "m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  Δθ = −η·m̂ / (√v̂ + ε)")
    hyperparameters = ("learning_rate", "beta1", "beta2", "epsilon")
    memory = ("first", "second", "t")

    def __init__(self, shape: tuple[int, int], hyper: Hyperparameters) -> None:
        runs = shape[0]
        self.first, self.second, self.scratch = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        self.t = np.zeros((runs, 1))
        self.hyper_values = {name: np.array(0.0) for name in (
            "beta1", "beta2", "one_minus_beta1", "one_minus_beta2", "epsilon")}
        self.correction = np.zeros((runs, 1))
        self.power = np.zeros((runs, 1))
        super().__init__(shape, hyper)

    def set_hyper(self, hyper: Hyperparameters) -> None:
        c = self.hyper_values
        c["beta1"][...], c["beta2"][...] = hyper.beta1, hyper.beta2
        c["one_minus_beta1"][...], c["one_minus_beta2"][...] = 1 - hyper.beta1, 1 - hyper.beta2
        c["epsilon"][...] = hyper.epsilon

    def constants(self) -> dict[str, float]:
        return {name: float(self.hyper_values[name]) for name in ("beta1", "beta2", "epsilon")}

    def rule_ops(self, grads: Array, neg_lr: Array, update: Array) -> list[Op]:
        c, first, second, scratch = self.hyper_values, self.first, self.second, self.scratch
        one = np.array(1.0)
        power, correction = self.power, self.correction
        return [
            (np.add, (self.t, one, self.t)),
            (np.multiply, (first, c["beta1"], first)),
            (np.multiply, (grads, c["one_minus_beta1"], scratch)),
            (np.add, (first, scratch, first)),
            (np.multiply, (second, c["beta2"], second)),
            (np.multiply, (grads, grads, scratch)),
            (np.multiply, (scratch, c["one_minus_beta2"], scratch)),
            (np.add, (second, scratch, second)),
            # v̂ = v / (1 − β₂ᵗ)
            (np.power, (c["beta2"], self.t, power)),
            (np.subtract, (one, power, correction)),
            (np.divide, (second, correction, scratch)),
            (np.sqrt, (scratch, scratch)),
            (np.add, (scratch, c["epsilon"], scratch)),
            (np.divide, (first, scratch, update)),
            # update = −η / (1 − β₁ᵗ) · m / (√v̂ + ε)
            (np.power, (c["beta1"], self.t, power)),
            (np.subtract, (one, power, correction)),
            (np.divide, (neg_lr, correction, correction)),
            (np.multiply, (update, correction, update)),
        ]


OPTIMIZER_CLASSES: dict[str, type[Optimizer]] = {cls.name: cls for cls in (Sgd, Momentum, Adam)}
