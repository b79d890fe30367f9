"""The views' pure JavaScript helpers (frontend/render/format.js, inspector.js, charts.js).

``node --test tests/frontend/views.test.mjs`` covers formatting, ticks and the chain-rule
arithmetic on hand-made numbers. The second test feeds real trainer frames (encoded by
``encode_frame``, decoded by protocol.js) to the inspector's ``chainRuleNumbers`` and checks
the claim the inspector makes on screen: summed over the batch, ∂L/∂z · a_source equals the
gradient the server reports (the loss is the batch mean, so ∂L/∂z already holds 1/B).
"""

from __future__ import annotations

import json
from pathlib import Path

from node_runner import run_node

from backprop_playground.live.frames import build_frame
from backprop_playground.settings import Settings
from backprop_playground.trainer import (
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from backprop_playground.wire.catalogue import options
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import encode_frame

ROOT = Path(__file__).resolve().parents[2]


def test_custom_data_node_tests_pass(tmp_path: Path) -> None:
    """CSV parsing (row errors, nothing half-loaded) and click editing of the user's points,
    within the limits the server's catalogue serves."""
    (tmp_path / "options.json").write_text(json.dumps(options(Settings())))
    result = run_node(["--test", "tests/frontend/custom_data.test.mjs"],
                      {"FRAME_FIXTURES": str(tmp_path)})
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"


def test_views_node_tests_pass() -> None:
    result = run_node(["--test", "tests/frontend/views.test.mjs"])
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"


def test_charts_node_tests_pass() -> None:
    """The charts' history columns grow in place; learning-rate and sweep labels never overlap."""
    result = run_node(["--test", "tests/frontend/charts.test.mjs"])
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"


CHAIN_SCRIPT = """
import { readFileSync } from 'node:fs';
import { decodeFrame } from PROTOCOL_JS;
import { chainRuleNumbers, sumMatches } from INSPECTOR_JS;
const out = {};
for (const [name, path] of Object.entries(JSON.parse(process.argv[1]))) {
  const bytes = readFileSync(path);
  const end = bytes.byteOffset + bytes.byteLength;
  const frame = await decodeFrame(bytes.buffer.slice(bytes.byteOffset, end));
  const n = chainRuleNumbers(frame.selection);
  out[name] = {
    batch: frame.batchSize, samples: n.perSample.length, sum: n.sum, absSum: n.absSum,
    reported: n.reported, matches: sumMatches(n.sum, n.reported, n.absSum),
    weight: frame.selection.weight, update: frame.selection.update,
    softmax: n.perSample.some((s) => Number.isNaN(s.dadz)),
    products: n.perSample.map((s) => s.product),
    deltas: n.perSample.map((s) => s.delta * s.aSource),
  };
}
console.log(JSON.stringify(out));
"""


def _cases() -> dict[str, tuple[TrainerConfig, Selection]]:
    tanh = TrainerConfig(hyper=Hyperparameters(batch_size=10))
    return {
        "hidden_edge": (tanh, Selection(layer=0, neuron=1, source=0)),
        "hidden_bias": (tanh, Selection(layer=1, neuron=0)),
        "sigmoid_output_edge": (tanh, Selection(layer=2, neuron=0, source=1)),
        "tanh_output_edge": (
            TrainerConfig(network=NetworkConfig(loss="squared_error"),
                          hyper=Hyperparameters(batch_size=32)),
            Selection(layer=2, neuron=0, source=0)),
        "softmax_output_edge": (
            TrainerConfig(data=DataConfig(dataset="spiral3"), hyper=Hyperparameters(batch_size=16)),
            Selection(layer=2, neuron=2, source=1)),
        "relu_regression_edge": (
            TrainerConfig(network=NetworkConfig(activation="relu"),
                          data=DataConfig(dataset="plane"),
                          hyper=Hyperparameters(batch_size=8, optimizer="adam")),
            Selection(layer=1, neuron=1, source=3)),
        "l2_edge": (
            TrainerConfig(hyper=Hyperparameters(batch_size=10, regularization="l2",
                                                regularization_rate=0.3)),
            Selection(layer=0, neuron=2, source=1)),
        "partial_batch": (
            TrainerConfig(hyper=Hyperparameters(batch_size=50)),
            Selection(layer=0, neuron=0, source=0)),
    }


def test_chain_rule_sum_matches_the_trainer_gradient(tmp_path: Path) -> None:
    paths = {}
    for name, (config, selection) in _cases().items():
        session = TrainingSession(config)
        session.run(3)
        frame = build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                            selection=selection)
        path = tmp_path / f"{name}.bin"
        path.write_bytes(encode_frame(frame))
        paths[name] = str(path)
    protocol_js = json.dumps((ROOT / "frontend/protocol.js").as_uri())
    inspector_js = json.dumps((ROOT / "frontend/render/inspector.js").as_uri())
    script = CHAIN_SCRIPT.replace("PROTOCOL_JS", protocol_js).replace("INSPECTOR_JS", inspector_js)
    result = run_node(["--input-type=module", "-e", script, json.dumps(paths)])
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    for name in ("hidden_edge", "hidden_bias", "sigmoid_output_edge", "tanh_output_edge",
                 "softmax_output_edge", "relu_regression_edge"):
        case = out[name]
        assert case["samples"] == case["batch"], name
        assert case["matches"], f"{name}: Σ = {case['sum']}, reported {case['reported']}"
        # the product of the three factors equals ∂L/∂z · a_source point by point
        for product, direct in zip(case["products"], case["deltas"], strict=True):
            assert abs(product - direct) <= 1e-5 * max(abs(direct), 1e-6), name
    assert out["softmax_output_edge"]["softmax"]
    assert not out["sigmoid_output_edge"]["softmax"]

    # L2: the reported gradient also holds λ·w (at the weight before this step's update)
    l2 = out["l2_edge"]
    before = l2["weight"] - l2["update"]
    assert not l2["matches"]
    assert abs(l2["sum"] + 0.3 * before - l2["reported"]) <= 1e-5 * (l2["absSum"] + abs(before))

    # more points than the 32 shown: the partial sum is not the gradient
    partial = out["partial_batch"]
    assert partial["batch"] == 50 and partial["samples"] == 32
