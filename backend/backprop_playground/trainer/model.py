"""What a validated config builds: the data as feature matrices, the layout, the head.

Randomness comes from three independent streams spawned from the seed, so changing the batch
size never changes the data and changing the data never changes the initial weights:
``data`` (generation and split), ``init`` (initial weights), ``order`` (minibatch order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import TrainerConfig
from .datasets import Dataset, build_dataset
from .features import feature_matrix
from .heads import HEADS, Head
from .network import Layout, initial_parameters

Array = NDArray[Any]


@dataclass(frozen=True)
class Model:
    """The static part of a run.

    ``train_features: (n_train, F + 1)`` (trailing 1 = bias input), ``train_targets:
    (n_train, outputs)``, likewise for test; ``initial: (P,)`` one run's initial parameters.
    """

    config: TrainerConfig
    dataset: Dataset
    layout: Layout
    activations: tuple[str, ...]
    head: Head
    train_features: Array
    train_targets: Array
    test_features: Array
    test_targets: Array
    initial: Array

    @property
    def n_train(self) -> int:
        return len(self.train_features)


def seed_streams(seed: int) -> tuple[np.random.Generator, ...]:
    """The ``data``, ``init`` and ``order`` generators for ``seed``."""
    return tuple(np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(3))


def build_model(config: TrainerConfig) -> tuple[Model, np.random.Generator]:
    """Build the static model from a validated config; also return the ``order`` generator."""
    data_rng, init_rng, order_rng = seed_streams(config.seed)
    net = config.network
    assert net.problem is not None and net.loss is not None, "config must be validated"
    head = HEADS[net.loss]
    dataset = build_dataset(config.data, net.problem, net.n_classes, data_rng)
    features = feature_matrix(dataset.points, net.features)
    targets = head.targets(dataset.labels, net.n_classes)
    layout = Layout((len(net.features), *net.hidden_layers, head.n_outputs(net.n_classes)))
    activations = tuple(net.activation)
    model = Model(
        config=config,
        dataset=dataset,
        layout=layout,
        activations=activations,
        head=head,
        train_features=features[dataset.train_index],
        train_targets=targets[dataset.train_index],
        test_features=features[dataset.test_index],
        test_targets=targets[dataset.test_index],
        initial=initial_parameters(layout, activations, init_rng),
    )
    return model, order_rng
