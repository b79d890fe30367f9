"""The inspector and the loss panel on real trainer frames (frontend/render/inspector/,
render/loss_panel.js), and the ``setParameter`` builder against the server's parser.

``node --test tests/frontend/inspector.test.mjs`` covers the pure helpers on hand-made
numbers. Here frames built by the trainer (``build_frame`` → ``encode_frame``, decoded by
protocol.js) check the claims the page makes on screen: the update rule shown, with the
frame's rule inputs, gives the change the trainer applied (SGD, momentum, Adam; L1, L2); a
neuron's fan-in sum gives its δ; the listed loss terms average to the batch loss.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
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
from backprop_playground.wire.commands import Selection, parse_command
from backprop_playground.wire.frame import encode_frame

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"


def test_inspector_node_tests_pass(tmp_path: Path) -> None:
    """The pure helpers, with the server's catalogue (its optimizers' rules, loss curves)."""
    (tmp_path / "options.json").write_text(json.dumps(options(Settings())))
    result = run_node(["--test", "tests/frontend/inspector.test.mjs"],
                      {"FRAME_FIXTURES": str(tmp_path)})
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "# skipped 0" in result.stdout


FRAMES_SCRIPT = """
import { readFileSync } from 'node:fs';
import { decodeFrame } from FRONTEND/protocol.js;
import { applyRule, changeAgrees, ranOptimizer, withExactConstants }
  from FRONTEND/render/inspector/update_rule.js;
import { fanIn, fanInAgrees } from FRONTEND/render/inspector/fan_in.js;
import { batchShares } from FRONTEND/render/inspector/batch_strip.js;
import { batchLossSum, lossesAgree } from FRONTEND/render/loss_panel.js;
const out = {};
for (const [name, { path, hyper }] of Object.entries(JSON.parse(process.argv[1]))) {
  const bytes = readFileSync(path);
  const end = bytes.byteOffset + bytes.byteLength;
  const frame = await decodeFrame(bytes.buffer.slice(bytes.byteOffset, end));
  const sel = frame.selection;
  const rule = withExactConstants(sel.rule, hyper);
  const result = applyRule(rule, sel.gradient);
  const sample = sel.samples[frame.focus];
  const f = sel.kind === 'neuron' && sel.layer < frame.layers.length - 1
    ? fanIn(frame, sel.layer, sel.neuron, sample.dadz) : null;
  const loss = batchLossSum(frame.batch, frame.batchSize);
  out[name] = {
    optimizer: ranOptimizer(rule), t: rule.t, change: result.change, applied: sel.update,
    agrees: changeAgrees(result, sel.update),
    sharesAgree: batchShares(sel, frame.batchSize, rule.penalty).agrees,
    fanIn: f && f.value, fanInDelta: f && f.delta, fanInAgrees: f ? fanInAgrees(f) : null,
    loss: loss.value, batchLoss: frame.batchLoss,
    lossAgrees: lossesAgree(loss.value, frame.batchLoss),
  };
}
console.log(JSON.stringify(out));
"""

EDGE = Selection(layer=1, neuron=0, source=1)


def _hyper(optimizer: str, regularization: str) -> Hyperparameters:
    return Hyperparameters(batch_size=10, optimizer=optimizer, regularization=regularization,
                           regularization_rate=0.01 if regularization != "none" else 0.0)


CASES: dict[str, tuple[TrainerConfig, Selection]] = {
    f"{optimizer}_{regularization}": (TrainerConfig(hyper=_hyper(optimizer, regularization)), EDGE)
    for optimizer in ("sgd", "momentum", "adam") for regularization in ("none", "l1", "l2")
}
CASES["adam_bias"] = (TrainerConfig(hyper=_hyper("adam", "l2")), Selection(layer=0, neuron=2))
CASES["momentum_output_bias"] = (TrainerConfig(hyper=_hyper("momentum", "none")),
                                 Selection(layer=2, neuron=0))
CASES["relu_hidden_neuron"] = (
    TrainerConfig(network=NetworkConfig(activation="relu", hidden_layers=[5, 3]),
                  data=DataConfig(dataset="xor"), hyper=_hyper("sgd", "l1")),
    Selection(layer=1, neuron=2))
CASES["softmax_edge"] = (
    TrainerConfig(data=DataConfig(dataset="spiral3"), hyper=_hyper("adam", "none")),
    Selection(layer=2, neuron=1, source=0))


def _frames(tmp_path: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """Encode a frame of each case after three steps; the trainer's own (float64) change of
    the selected parameter in the third step."""
    paths: dict[str, Any] = {}
    changes: dict[str, float] = {}
    for name, (config, selection) in CASES.items():
        session = TrainingSession(config)
        session.run(2)

        def value(s: TrainingSession = session, t: Selection = selection) -> float:
            weights, bias = s.get_weights(0)[t.layer]
            return float(bias[t.neuron] if t.source is None else weights[t.neuron, t.source])

        before = value()
        session.run(1)
        changes[name] = value() - before
        frame = build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                            selection=selection)
        path = tmp_path / f"{name}.bin"
        path.write_bytes(encode_frame(frame))
        hyper = config.hyper
        paths[name] = {"path": str(path), "hyper": {
            "learning_rate": hyper.learning_rate, "momentum": hyper.momentum, "beta1": hyper.beta1,
            "beta2": hyper.beta2, "epsilon": hyper.epsilon}}
    return paths, changes


def _run(paths: dict[str, Any]) -> dict[str, Any]:
    script = re.sub(r"FRONTEND/([\w/]+\.js)",
                    lambda m: json.dumps((FRONTEND / m.group(1)).as_uri()), FRAMES_SCRIPT)
    result = run_node(["--input-type=module", "-e", script, json.dumps(paths)])
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_the_rule_shown_gives_the_change_the_trainer_applied(tmp_path: Path) -> None:
    """For every optimizer and penalty, the frame's rule inputs through the page's rule give
    the applied Δθ to float32 precision, and the trainer's own float64 change."""
    paths, changes = _frames(tmp_path)
    out = _run(paths)
    for name, case in out.items():
        expected = name.split("_")[0] if name.split("_")[0] in ("sgd", "momentum", "adam") else None
        if expected:
            assert case["optimizer"] == expected, name
        assert case["agrees"], f"{name}: rule {case['change']}, applied {case['applied']}"
        assert case["sharesAgree"], f"{name}: Σ shares + penalty is not the reported gradient"
        assert np.isclose(case["change"], changes[name], rtol=2e-5, atol=1e-10), (
            name, case["change"], changes[name])


def test_fan_in_and_batch_loss_on_real_frames(tmp_path: Path) -> None:
    """δ_j = f′(z_j)·Σ_k w_kj δ_k for hidden neurons (weights as before the update); the
    listed loss terms average to the frame's batch loss."""
    paths, _ = _frames(tmp_path)
    out = _run(paths)
    for name in ("adam_bias", "relu_hidden_neuron"):
        case = out[name]
        assert case["fanInAgrees"], (name, case["fanIn"], case["fanInDelta"])
    for name, case in out.items():
        assert case["lossAgrees"], (name, case["loss"], case["batchLoss"])


def test_a_live_optimizer_change_leaves_the_frame_with_the_new_rules_inputs(tmp_path: Path) -> None:
    """Why the page remembers the rule that ran: switched between two steps, the frame's rule
    inputs are already Adam's (t = 0), while Δθ is still the SGD step's."""
    session = TrainingSession(TrainerConfig(hyper=_hyper("sgd", "none")))
    session.run(2)
    session.set_hyperparameters(optimizer="adam")
    frame = build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                        selection=EDGE)
    path = tmp_path / "switched.bin"
    path.write_bytes(encode_frame(frame))
    hyper = {"learning_rate": 0.03, "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    case = _run({"switched": {"path": str(path), "hyper": hyper}})["switched"]
    assert case["optimizer"] == "adam" and case["t"] == 0
    assert not case["agrees"]


@pytest.mark.parametrize(("target", "value"), [
    ({"layer": 0, "neuron": 1, "source": 0}, -1.5),
    ({"layer": 2, "neuron": 0, "source": None}, 3.0)])
def test_set_parameter_builder_is_accepted_by_the_server(target: dict[str, Any],
                                                         value: float) -> None:
    """protocol.js's setParameter builds the command the server parses (a bias: source null)."""
    protocol = json.dumps((FRONTEND / "protocol.js").as_uri())
    given = {k: v for k, v in target.items() if v is not None}
    script = (f"import {{ setParameter }} from {protocol};\n"
              f"console.log(setParameter({json.dumps(given)}, {value}, 9));")
    result = run_node(["--input-type=module", "-e", script])
    assert result.returncode == 0, result.stderr
    command = parse_command(result.stdout.strip()).model_dump()
    assert command["type"] == "set_parameter" and command["id"] == 9
    assert command["target"] == target and command["value"] == value
