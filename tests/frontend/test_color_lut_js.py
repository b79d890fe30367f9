"""The maps' colour lookup tables (frontend/render/color_lut.js) and the codes the frame
decoder keeps for them (``mapCodes`` in frontend/frame_decoder.js).

``node --test tests/frontend/color_lut.test.mjs`` checks the tables on hand-made numbers; here
it also gets a real frame from the server's encoder (8-bit maps) in FRAME_FIXTURES.
"""

from __future__ import annotations

from pathlib import Path

from node_runner import run_node

from backprop_playground.live.frames import build_frame
from backprop_playground.trainer import TrainerConfig, TrainingSession
from backprop_playground.wire.frame import encode_frame


def test_color_lut_node_tests_pass(tmp_path: Path) -> None:
    """Every one of the 256 codes of a map is coloured exactly as the palette colours its
    dequantised value; painting reuses the ImageData and the table; a real frame's painted
    maps equal the palette function applied to each decoded value."""
    session = TrainingSession(TrainerConfig())
    session.run(5)
    frame = build_frame(session, sequence=1, running=True, metrics=session.evaluate(),
                        selection=None)
    (tmp_path / "frame.bin").write_bytes(encode_frame(frame))
    result = run_node(["--test", "tests/frontend/color_lut.test.mjs"],
                      {"FRAME_FIXTURES": str(tmp_path)})
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "# skipped 0" in result.stdout, result.stdout
