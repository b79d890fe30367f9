"""Preallocated buffers for one batch size and the three compute phases over them.

Column layout: a batch is a row of columns. With K runs, B points, F features and n_l
neurons in layer l:

* ``x: (F + 1, B)`` features with a last row of ones (the bias input), shared by all runs;
  ``y: (1, outputs, B)`` targets; both views into one ``batch_columns`` buffer.
* per layer l: ``z[l]`` pre-activation, ``a[l]`` activation, ``grad_a[l]`` = dL/da,
  ``delta[l]`` = dL/dz, all ``(K, n_l, B)``. For a hidden layer each is the top of a
  ``(K, n_l + 1, B)`` buffer: the last row of ``a`` is 1, so the next layer's bias folds into
  its product; the last row of ``z`` holds the activation's sentinel s (f(s) = 1 exactly) so
  that the activation ops can run over whole contiguous buffers, which at K > 1 costs a
  third of a strided view's overhead.

Math: z_l = [W_l | b_l] · [a_{l−1}; 1];  a_l = f_l(z_l);  delta_l = dL/da_l ⊙ f_l'(z_l);
dL/d[W_l | b_l] = delta_l · [a_{l−1}; 1]ᵀ;  dL/da_{l−1} = W_lᵀ · delta_l.

At small batch sizes NumPy's per-call overhead, not arithmetic, sets the speed, so each
phase is compiled once into a flat list of ``(function, args)`` calls on preallocated,
contiguous buffers (outputs passed positionally), and with one run the products use 2-D
views and ``np.dot``, half the overhead of a stacked ``np.matmul``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import ACTIVATION_FUNCTIONS, Activation, Op, run_ops
from .heads import Head, OutputLayer
from .network import Layout, compute_views

Array = NDArray[Any]


class Workspace:
    """Buffers and compiled phases for ``runs`` runs at batch size ``batch``.

    ``weights[l]`` (and, to train, ``weights_no_bias_t[l]`` = W_lᵀ without the bias column
    and ``grad_weights[l]`` receiving dL/d[W_l | b_l]) are compute views as made by
    :func:`compute_views`: ``(n_out, n_in + 1)`` for one run, ``(K, n_out, n_in + 1)`` else.
    """

    def __init__(
        self,
        layout: Layout,
        activations: Sequence[str],
        head: Head,
        batch: int,
        weights: Sequence[Array],
        weights_no_bias_t: Sequence[Array] | None = None,
        grad_weights: Sequence[Array] | None = None,
    ) -> None:
        runs = 1 if weights[0].ndim == 2 else len(weights[0])
        dtype: Any = weights[0].dtype
        self.layout, self.head, self.batch, self.runs = layout, head, batch, runs
        sizes = layout.sizes
        #: ``(F + 1 + outputs, B)``: the features (with their row of ones) over the targets,
        #: so that a minibatch arrives in one copy.
        self.batch_columns: Array = np.ones((sizes[0] + 1 + sizes[-1], batch), dtype=dtype)
        self.x: Array = self.batch_columns[:sizes[0] + 1]
        self.y: Array = self.batch_columns[sizes[0] + 1:][None]
        hidden = [ACTIVATION_FUNCTIONS[name] for name in activations]
        self._allocate_layers(hidden, dtype)
        self.output = OutputLayer(
            self.z[-1], self.a[-1], self.grad_a[-1], self.delta[-1], self.scratch[-1], self.y,
            loss=np.zeros(runs), inv_batch=np.array(1.0 / batch), half_batch=np.array(batch / 2),
        )
        self._loss_stale = False
        self._product = np.dot if runs == 1 else np.matmul
        self.forward_ops = self._forward_ops(hidden, weights)
        self.loss_ops = head.delta_ops(self.output)
        self.backward_ops: list[Op] = []
        if weights_no_bias_t is not None and grad_weights is not None:
            self.backward_ops = self._backward_ops(hidden, weights_no_bias_t, grad_weights)

    def _allocate_layers(self, hidden: Sequence[Activation], dtype: Any) -> None:
        """Per layer l the views ``z[l]``, ``a[l]``, ``grad_a[l]``, ``delta[l]``,
        ``(K, n_l, B)``, and ``scratch[l]``, into contiguous full buffers."""
        sizes, runs, batch = self.layout.sizes, self.runs, self.batch
        # Hidden layers get one extra row: z holds the activation's sentinel there, so that
        # f over the whole (contiguous) buffer writes the next layer's row of ones.
        shapes = [(runs, n + 1, batch) for n in sizes[1:-1]] + [(runs, sizes[-1], batch)]
        self._z_full = [np.zeros(shape, dtype=dtype) for shape in shapes]
        for z_full, activation in zip(self._z_full, hidden, strict=False):
            z_full[:, -1, :] = activation.sentinel
        self._a_full = [np.ones(shape, dtype=dtype) for shape in shapes]
        self._grad_a_full = [np.zeros(shape, dtype=dtype) for shape in shapes]
        self._delta_full = [np.zeros(shape, dtype=dtype) for shape in shapes]
        self._scratch_full = [np.zeros(shape, dtype=dtype) for shape in shapes]
        self.a_with_ones = self._a_full[:-1]
        self.z = [full[:, :n, :] for full, n in zip(self._z_full, sizes[1:], strict=True)]
        self.a = [full[:, :n, :] for full, n in zip(self._a_full, sizes[1:], strict=True)]
        self.grad_a = [full[:, :n, :] for full, n in zip(self._grad_a_full, sizes[1:], strict=True)]
        self.delta = [full[:, :n, :] for full, n in zip(self._delta_full, sizes[1:], strict=True)]
        self.scratch = self._scratch_full

    def _forward_ops(self, hidden: Sequence[Activation], weights: Sequence[Array]) -> list[Op]:
        inputs = [self.x, *compute_views(self.a_with_ones)]
        z = compute_views(self.z)
        ops: list[Op] = []
        for layer, block in enumerate(weights):
            ops.append((self._product, (block, inputs[layer], z[layer])))
            if layer < len(hidden):
                ops += hidden[layer].forward_ops(self._z_full[layer], self._a_full[layer])
        return ops + self.head.forward_ops(self.output.z, self.output.a)

    def _backward_ops(
        self, hidden: Sequence[Activation], weights_no_bias_t: Sequence[Array],
        grad_weights: Sequence[Array],
    ) -> list[Op]:
        inputs_t = [np.swapaxes(a, -1, -2) for a in [self.x, *compute_views(self.a_with_ones)]]
        delta, grad_a = compute_views(self.delta), compute_views(self.grad_a)
        ops: list[Op] = []
        for layer in range(len(self.z) - 1, -1, -1):
            if layer < len(hidden):
                ops += hidden[layer].backward_ops(
                    self._grad_a_full[layer], self._z_full[layer], self._a_full[layer],
                    self._scratch_full[layer], self._delta_full[layer],
                )
            ops.append((self._product, (delta[layer], inputs_t[layer], grad_weights[layer])))
            if layer > 0:
                ops.append((
                    self._product, (weights_no_bias_t[layer], delta[layer], grad_a[layer - 1])
                ))
        return ops

    def load(self, features: Array, targets: Array) -> None:
        """Copy a batch in from rows: ``features: (B, F + 1)``, ``targets: (B, outputs)``."""
        np.copyto(self.x.T, features)
        np.copyto(self.y[0].T, targets)

    def mark_loss_stale(self) -> None:
        """The batch changed: :attr:`loss_value` recomputes the loss when read."""
        self._loss_stale = True

    def forward(self) -> None:
        """z and a for every layer, from ``x`` (the session runs the other phases' ops)."""
        run_ops(self.forward_ops)

    @property
    def loss_value(self) -> Array:
        """The batch loss per run, ``(K,)``."""
        if self._loss_stale:
            self.head.batch_loss(self.output)
            self._loss_stale = False
        return self.output.loss
