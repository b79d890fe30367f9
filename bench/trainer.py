"""Trainer throughput: epochs per second on the standard workloads, output-map time, and
the cost of the step landscape.

One epoch = one pass over 250 training points (circle, 500 points, 50 % train), tanh hidden
layers, tanh + squared error, SGD, learning rate 0.03. Prints one JSON line per figure;
each figure is the median of several repeats.

``landscape_*`` lines: ``landscape_ms`` (``_best``), the median (least) time of one
``step_landscape()`` after a step, and the training speed with one landscape every 60 steps
(what the server does at 60 frames/s) against plain ``run(60)`` blocks, timed alternately
(best of each); ``slowdown_pct`` must stay within ``target_pct`` at the default net. On a
loaded machine the blocks are noisy: ``slowdown_pct_from_best_times`` gives the same ratio
from the best single times.

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
SEVEN_FEATURES = ("x1", "x2", "x1_squared", "x2_squared", "x1_times_x2", "sin_x1", "sin_x2")
#: The landscape's workloads: the default net, and a large one.
LANDSCAPE_WORKLOADS: dict[str, tuple[tuple[int, ...], tuple[str, ...], int]] = {
    "4x2_b10": ((4, 2), ("x1", "x2"), 10),
    "8x6_f7_b100": ((8,) * 6, SEVEN_FEATURES, 100),
}
LANDSCAPE_EVERY = 60  # steps between two landscapes
LANDSCAPE_TARGET_PCT = 10.0  # at the default net


def workload_config(hidden: tuple[int, ...], batch: int,
                    features: tuple[str, ...] = ("x1", "x2")) -> TrainerConfig:
    return TrainerConfig(
        network=NetworkConfig(hidden_layers=hidden, features=features, activation="tanh",
                              loss="squared_error"),
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


def landscape_figures(name: str, seconds: float, repeats: int) -> dict[str, object]:
    """One ``landscape_*`` line (see the module docstring)."""
    hidden, features, batch = LANDSCAPE_WORKLOADS[name]
    session = TrainingSession(workload_config(hidden, batch, features))
    session.run_epochs(3)
    times = []
    for _ in range(max(repeats, 20) * 10):
        session.run(1)  # a new step: the landscape is computed, not read from the cache
        start = time.perf_counter()
        session.step_landscape()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    session.run(LANDSCAPE_EVERY)
    blocks = max(3, int(seconds / 4 / (time.perf_counter() - start)))
    plain, framed = [], []
    for _ in range(repeats * 4):  # short blocks, alternated: a busy machine slows both alike
        plain.append(_block_rate(session, blocks, landscape=False))
        framed.append(_block_rate(session, blocks, landscape=True))
    steps_per_epoch = session.model.n_train / batch
    without, with_landscape = max(plain) / steps_per_epoch, max(framed) / steps_per_epoch
    # The same from the best single times: one landscape per LANDSCAPE_EVERY steps.
    step_seconds = 1 / max(plain)
    best = min(times) / (LANDSCAPE_EVERY * step_seconds + min(times))
    return {"workload": f"landscape_{name}",
            "landscape_ms": round(statistics.median(times) * 1e3, 4),
            "landscape_ms_best": round(min(times) * 1e3, 4),
            "epochs_per_s": round(without, 1),
            "epochs_per_s_with_landscape": round(with_landscape, 1),
            "slowdown_pct": round(100 * (1 - with_landscape / without), 1),
            "slowdown_pct_from_best_times": round(100 * best, 1),
            "every_steps": LANDSCAPE_EVERY,
            "target_pct": LANDSCAPE_TARGET_PCT if name == "4x2_b10" else None}


def _block_rate(session: TrainingSession, blocks: int, landscape: bool) -> float:
    """Steps per second over ``blocks`` blocks of run(60), each followed by a landscape."""
    start = time.perf_counter()
    for _ in range(blocks):
        session.run(LANDSCAPE_EVERY)
        if landscape:
            session.step_landscape()
    return blocks * LANDSCAPE_EVERY / (time.perf_counter() - start)


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
    for name in LANDSCAPE_WORKLOADS:
        print(json.dumps(landscape_figures(name, args.seconds, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
