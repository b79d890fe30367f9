"""Classroom mode in two browsers: a presenter presents, a viewer joins at /join/CODE and
follows every step, phase, selection and the projector switch with its controls disabled
(and refused by the server if forged), forks the class into a session of its own, and is
told when the class ends.

(Not named test_classroom.py: tests/server/test_classroom.py exists, and pytest's default
import mode needs unique basenames in test folders without __init__.py.)"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from e2e_helpers import console_tab, edge_point, screenshot

from backprop_playground.wire.frame import (
    FLAG_DELTA,
    FLAG_MAPS_SKIPPED,
    FLAG_RUNNING,
    body_of,
    decode_blocks,
    decode_header,
)

TIMEOUT = 15_000
VIEWPORT = {"width": 1280, "height": 720}


@dataclass
class Classroom:
    """A presenter tab presenting, and a viewer tab joined with the code."""

    browser: Any
    base_url: str
    presenter: Any = None
    viewer: Any = None
    code: str = ""
    contexts: list[Any] = field(default_factory=list)

    def tab(self) -> Any:
        """A fresh browser context (own storage) with one tab collecting console errors."""
        return console_tab(self.browser, self.contexts, VIEWPORT)

    def join(self) -> Any:
        """A new viewer tab at /join/CODE, past its first frame."""
        tab = self.tab()
        tab.goto(f"{self.base_url}/join/{self.code}")
        tab.wait_for_function("() => window.playground?.store.role === 'viewer'"
                              " && window.playground.store.frame !== null", timeout=TIMEOUT)
        return tab


@pytest.fixture
def classroom(browser: Any, server_url: str) -> Iterator[Classroom]:
    room = Classroom(browser, server_url)
    try:
        room.presenter = room.tab()
        room.presenter.goto(f"{server_url}/")
        wait_js(room.presenter, "store().frame !== null && store().role === 'presenter'")
        room.presenter.get_by_test_id("present").click()
        room.presenter.get_by_test_id("class-card").wait_for(state="visible", timeout=TIMEOUT)
        wait_js(room.presenter, f"{text('class-code')}.length === 6")
        room.code = room.presenter.get_by_test_id("class-code").inner_text()
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", room.code), room.code
        room.viewer = room.join()
        wait_js(room.presenter, f"{text('viewer-count')} === '1'")
        yield room
        for tab in (room.presenter, room.viewer):
            assert tab.console_errors == [], tab.console_errors
    finally:
        for context in room.contexts:
            context.close()


# ------------------------------------------------------------------------ helpers
def text(testid: str) -> str:
    """JavaScript for the text of the element with this test id."""
    return f"document.querySelector('[data-testid={testid}]').textContent"


def wait_js(tab: Any, condition: str) -> None:
    """Wait until ``condition`` (JavaScript; ``store()`` is the page's store) holds."""
    tab.wait_for_function(
        f"() => {{ const store = () => window.playground?.store ?? {{}}; return {condition}; }}",
        timeout=TIMEOUT)


def js(tab: Any, expression: str) -> Any:
    return tab.evaluate(f"() => {{ const store = window.playground.store; return {expression}; }}")


def step_count(tab: Any) -> int:
    return int(tab.get_by_test_id("step-count").inner_text())


def phase(tab: Any) -> str:
    return str(tab.get_by_test_id("phase").get_attribute("data-current"))


def session_id(tab: Any) -> str:
    return str(tab.evaluate("() => window.playground.connection.session.id"))


def info(room: Classroom, tab: Any) -> dict[str, Any]:
    url = f"{room.base_url}/api/sessions/{session_id(tab)}"
    with urllib.request.urlopen(url) as response:
        result: dict[str, Any] = json.load(response)
    return result


def gradient(tab: Any) -> str:
    return str(tab.get_by_test_id("inspector-gradient").get_attribute("data-value"))


# -------------------------------------------------------------------------- tests
def test_viewer_follows_steps_phases_and_play(classroom: Classroom) -> None:
    presenter, viewer = classroom.presenter, classroom.viewer
    assert step_count(viewer) == 0 and phase(viewer) == "idle"
    assert viewer.get_by_test_id("viewer-badge").is_visible()
    assert viewer.get_by_test_id("viewer-code").inner_text() == classroom.code
    assert not viewer.get_by_test_id("present").is_visible()
    presenter.get_by_test_id("step").click()
    wait_js(viewer, f"{text('step-count')} === '1'")
    assert phase(viewer) == "update"
    for expected in ("forward", "loss", "backward", "update"):
        presenter.get_by_test_id("phase-step").click()
        for tab in (viewer, presenter):
            wait_js(tab, f"document.querySelector('[data-testid=phase]').dataset.current"
                         f" === '{expected}'")
    assert step_count(viewer) == step_count(presenter) == 2
    presenter.get_by_test_id("play").click()
    wait_js(viewer, f"Number({text('step-count')}) >= 12")
    assert phase(viewer) == "running"
    presenter.get_by_test_id("play").click()
    wait_js(presenter, "store().frame && !store().frame.running")
    wait_js(viewer, "store().frame && !store().frame.running")
    stopped = js(presenter, "store.frame.step")
    assert info(classroom, presenter)["step"] == stopped
    for tab in (viewer, presenter):
        wait_js(tab, f"Number({text('step-count')}) === {stopped}")
    assert phase(viewer) != "running"


RECORD_FRAMES = """() => {
    // each running frame the page shows: its sequence and a fingerprint of its numbers
    window.recorded = new Map();
    const look = () => {
        const frame = window.playground.store.frame;
        if (frame && frame.running && !window.recorded.has(frame.sequence)) {
            const sum = (arrays) => arrays.reduce((t, a) => t + a.reduce((u, v) => u + v, 0), 0);
            window.recorded.set(frame.sequence, [sum(frame.neuronMaps), sum(frame.outputMaps),
                sum(frame.layers.map((layer) => layer.weights)), frame.batchLoss, frame.step]);
        }
        requestAnimationFrame(look);
    };
    look();
}"""


def _fingerprints(frames: list[bytes]) -> dict[str, list[float]]:
    """What RECORD_FRAMES records of each running frame with maps, from the frames' bytes as
    the server sent them, decoded here (a delta frame on the body of the frame before)."""
    found, base = {}, None
    for data in frames:
        header = decode_header(data)
        body = body_of(data, base)
        blocks = decode_blocks(data, base)
        if header["flags"] & FLAG_MAPS_SKIPPED:  # no base: the page keeps the one before
            continue
        base = body
        if not header["flags"] & FLAG_RUNNING:
            continue
        sums = [sum(float(np.sum(array, dtype=np.float64)) for array in blocks[name])
                for name in ("neuron_maps", "output_maps", "weights")]
        found[str(header["sequence"])] = [*sums, float(header["batch_loss"]), header["step"]]
    return found


def test_a_viewer_reads_delta_frames_to_the_same_numbers(classroom: Classroom) -> None:
    """A viewer's page asks for delta frames and gets them while the class runs (flag delta
    on the wire); every frame it decodes holds the numbers the server sent, as the frames'
    bytes decode here (to float32 rounding of the sums)."""
    viewer = classroom.tab()
    frames: list[bytes] = []
    viewer.on("websocket", lambda socket: socket.on(
        "framereceived", lambda payload: frames.append(payload)
        if isinstance(payload, bytes) else None))
    viewer.goto(f"{classroom.base_url}/join/{classroom.code}")
    wait_js(viewer, "store().role === 'viewer' && store().frame !== null")
    viewer.evaluate(RECORD_FRAMES)
    classroom.presenter.get_by_test_id("play").click()
    wait_js(viewer, f"Number({text('step-count')}) >= 60")
    classroom.presenter.get_by_test_id("play").click()
    wait_js(viewer, "store().frame && !store().frame.running")
    seen = js(viewer, "Object.fromEntries(window.recorded)")
    truth = _fingerprints(list(frames))
    common = sorted(set(seen) & set(truth))
    assert len(common) >= 5, (len(seen), len(truth))
    for key in common:
        assert seen[key][3:] == pytest.approx(truth[key][3:]), key
        assert seen[key][:3] == pytest.approx(truth[key][:3], rel=1e-6, abs=1e-6), key
    assert sum(1 for data in frames if decode_header(data)["flags"] & FLAG_DELTA) >= 5


def test_viewer_inspector_shows_the_presenters_gradient(classroom: Classroom) -> None:
    presenter, viewer = classroom.presenter, classroom.viewer
    x, y = edge_point(presenter, 1, 0, 1)
    presenter.mouse.click(x, y)
    wait_js(viewer, "store().serverState?.selection?.layer === 1")
    assert js(viewer, "store.serverState.selection") == {"layer": 1, "neuron": 0, "source": 1}
    presenter.get_by_test_id("step").click()
    for tab in (presenter, viewer):
        wait_js(tab, "store().frame?.step === 1 && store().frame.selection?.samples.length > 0")
        tab.get_by_test_id("inspector-gradient").wait_for(timeout=TIMEOUT)
    value = gradient(presenter)
    assert value not in ("", "NaN", "None")
    assert gradient(viewer) == value
    assert float(value) != 0.0
    presenter.get_by_test_id("step").click()  # and on the next step too
    wait_js(viewer, "store().frame?.step === 2")
    wait_js(presenter, "store().frame?.step === 2")
    assert gradient(viewer) == gradient(presenter) != value
    screenshot(presenter, "classroom-presenter")
    screenshot(viewer, "classroom-viewer")


def test_viewer_controls_are_off_and_forged_commands_are_refused(classroom: Classroom) -> None:
    presenter, viewer = classroom.presenter, classroom.viewer
    for testid in ("play", "step", "phase-step", "reset", "learning-rate", "speed",
                   "activation", "loss", "optimizer", "batch-size", "regularization",
                   "regularization-rate", "add-layer", "remove-layer"):
        assert viewer.get_by_test_id(testid).is_disabled(), testid
        assert presenter.get_by_test_id(testid).is_enabled(), testid
    assert js(viewer, "document.body.classList.contains('viewer')")
    reply = viewer.evaluate("() => window.playground.connection.send("
                            "(id) => JSON.stringify({v: 1, type: 'play', id}))")
    assert reply["type"] == "error" and reply["field"] == "type", reply
    assert "read-only" in reply["message"]
    reply = viewer.evaluate("() => window.playground.connection.send("
                            "(id) => JSON.stringify({v: 1, type: 'end_class', id}))")
    assert reply["type"] == "error" and reply["field"] == "type", reply
    viewer.keyboard.press("ArrowRight")  # the keyboard shortcuts are refused too
    viewer.wait_for_timeout(400)
    assert not js(presenter, "store.frame.running")
    assert step_count(presenter) == step_count(viewer) == 0
    assert info(classroom, presenter)["running"] is False
    assert info(classroom, presenter)["step"] == 0
    assert presenter.get_by_test_id("class-code").inner_text() == classroom.code


def test_projector_mode_follows_the_presenter(classroom: Classroom) -> None:
    presenter, viewer = classroom.presenter, classroom.viewer
    assert not js(viewer, "document.body.classList.contains('projector')")
    presenter.get_by_test_id("projector-toggle").click()
    wait_js(viewer, "document.body.classList.contains('projector')")
    assert js(presenter, "document.body.classList.contains('projector')")
    big = viewer.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert big >= 18
    presenter.get_by_test_id("projector-toggle").click()
    wait_js(viewer, "!document.body.classList.contains('projector')")


def test_late_viewer_joins_in_projector_mode(classroom: Classroom) -> None:
    classroom.presenter.get_by_test_id("projector-toggle").click()
    wait_js(classroom.viewer, "document.body.classList.contains('projector')")
    late = classroom.join()
    assert js(late, "store.serverState.view.projector") is True
    late.wait_for_function("() => document.body.classList.contains('projector')", timeout=1000)


def test_viewer_projector_toggle_is_disabled(classroom: Classroom) -> None:
    assert classroom.viewer.get_by_test_id("projector-toggle").is_disabled()


def test_viewer_forks_the_class_into_its_own_session(classroom: Classroom) -> None:
    presenter, viewer = classroom.presenter, classroom.viewer
    presenter.get_by_test_id("step").click()
    presenter.get_by_test_id("step").click()
    presenter.get_by_test_id("step").click()
    for tab in (viewer, presenter):
        wait_js(tab, "store().frame?.step === 3")
    class_loss = js(presenter, "store.frame.trainLoss")
    assert js(viewer, "store.frame.trainLoss") == class_loss
    class_id = session_id(viewer)
    with viewer.expect_response(lambda r: r.url.endswith("/fork"), timeout=TIMEOUT) as forked:
        viewer.get_by_test_id("fork").click()
    assert forked.value.status == 201
    viewer.wait_for_url(re.compile(rf"/#session=[^&]+&class={classroom.code}$"),
                        timeout=TIMEOUT)
    wait_js(viewer, "store().frame !== null && store().role === 'presenter'")
    assert session_id(viewer) != class_id
    first = js(viewer, "{step: store.frame.step, loss: store.frame.trainLoss,"
                       " received: store.framesReceived}")
    assert first["received"] == 1
    assert first["step"] == 3 and first["loss"] == class_loss, first
    back = viewer.get_by_test_id("back-to-class")
    assert back.is_visible()
    assert back.get_attribute("href") == f"/join/{classroom.code}"
    assert not js(viewer, "document.body.classList.contains('viewer')")
    assert viewer.get_by_test_id("step").is_enabled()
    viewer.get_by_test_id("step").click()
    wait_js(viewer, f"{text('step-count')} === '4'")
    viewer.wait_for_timeout(200)
    assert step_count(presenter) == 3
    assert info(classroom, presenter)["step"] == 3
    assert js(presenter, "store.viewers") == 0  # the forker left the class


def test_end_class_tells_the_viewer(classroom: Classroom) -> None:
    presenter, viewer = classroom.presenter, classroom.viewer
    presenter.get_by_test_id("end-class").click()
    banner = viewer.get_by_test_id("class-banner")
    banner.wait_for(state="visible", timeout=TIMEOUT)
    assert "ended" in banner.inner_text()
    wait_js(viewer, f"{text('connection')} === 'class ended'")
    assert not viewer.get_by_test_id("fork").is_visible()
    wait_js(presenter, f"{text('present')} === 'Present'")
    assert not presenter.get_by_test_id("class-card").is_visible()
    presenter.get_by_test_id("step").click()  # the presenter carries on, privately
    wait_js(presenter, f"{text('step-count')} === '1'")
    viewer.wait_for_timeout(300)
    assert step_count(viewer) == 0
    late = classroom.tab()  # the code is gone
    late.goto(f"{classroom.base_url}/join/{classroom.code}")
    wait_js(late, f"{text('connection')} === 'no such class'")
    missing = late.get_by_test_id("unknown-code")
    assert f"No class with the code “{classroom.code}”" in missing.inner_text()
