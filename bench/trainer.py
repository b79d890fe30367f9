"""Trainer throughput: epochs per second on the standard workloads, and output-map time.

One epoch = one pass over 250 training points (circle, 500 points, 50 % train), tanh hidden
layers, tanh + squared error, SGD, learning rate 0.03. Prints one JSON line per figure;
each figure is the median of several repeats.

    python bench/trainer.py [--repeats 7] [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence

from backprop_playground.trainer import (
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)

WORKLOADS: dict[str, tuple[tuple[int, ...], int, Sequence[float] | None]] = {
    "4x2_b10": ((4, 2), 10, None),
    "8x6_b10": ((8,) * 6, 10, None),
    "8x8_b250": ((8, 8), 250, None),
    "sweep8_4x2_b10": ((4, 2), 10, [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]),
}
TARGETS = {"4x2_b10": 3000, "8x6_b10": 940, "8x8_b250": 12000, "sweep8_4x2_b10": 13500}


def workload_config(hidden: tuple[int, ...], batch: int) -> TrainerConfig:
    return TrainerConfig(
        network=NetworkConfig(hidden_layers=hidden, activation="tanh", loss="squared_error"),
        data=DataConfig(dataset="circle", n_points=500, train_fraction=0.5),
        hyper=Hyperparameters(learning_rate=0.03, batch_size=batch, optimizer="sgd"),
    )


def epochs_per_second(session: TrainingSession, seconds: float, repeats: int) -> float:
    """Median over ``repeats`` of epochs/s, each timing whole epochs for about ``seconds``."""
    session.run_epochs(3)  # warm up: compile the plans, touch the buffers
    start = time.perf_counter()
    session.run_epochs(5)
    per_epoch = (time.perf_counter() - start) / 5
    epochs = max(5, int(seconds / per_epoch))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run_epochs(epochs)
        rates.append(epochs / (time.perf_counter() - start))
    return statistics.median(rates)


def map_milliseconds(repeats: int) -> float:
    """Median time to compute every neuron's output map of the 8x6 net on a 100x100 grid."""
    session = TrainingSession(workload_config((8,) * 6, 10))
    session.run(10)
    session.output_maps(100)
    times = []
    for _ in range(max(repeats, 20)):
        start = time.perf_counter()
        session.output_maps(100)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one repeat")
    args = parser.parse_args()
    for name, (hidden, batch, rates) in WORKLOADS.items():
        session = TrainingSession(workload_config(hidden, batch), rates)
        rate = epochs_per_second(session, args.seconds, args.repeats) * session.runs
        print(json.dumps({"workload": name, "epochs_per_s": round(rate, 1),
                          "runs": session.runs, "target": TARGETS[name]}), flush=True)
    maps_ms = round(map_milliseconds(args.repeats), 3)
    print(json.dumps({"workload": "maps_8x6_100x100", "ms": maps_ms, "target_ms": 2.0}),
          flush=True)


if __name__ == "__main__":
    main()
