"""Experiments and sharing in the browser: the learning-rate sweep view, links that carry the
setup (and shrug off hostile ones), your own points, and export → import of a run."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from e2e_helpers import screenshot

TIMEOUT = 15_000


def _open(page: Any, fragment: str = "") -> None:
    page.goto(f"{page.base_url}/{fragment}")
    page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)


def test_sweep_shows_one_panel_per_rate_and_promotes_a_run(page: Any) -> None:
    """Sweeping 4 rates shows 4 tiles and a loss chart; clicking a tile shows that run."""
    _open(page)
    page.get_by_test_id("sweep-rates").fill("0.003, 0.03, 0.3, 3")
    page.get_by_test_id("sweep-toggle").click()
    page.wait_for_function("() => window.playground.store.frame.sweep?.runs.length === 4",
                           timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => (window.playground.store.sweepHistory || []).length > 30",
                           timeout=TIMEOUT)
    assert page.locator(".sweep-tile").count() == 4
    chart = page.get_by_test_id("sweep-chart").locator("canvas").first.bounding_box()
    assert chart is not None and chart["width"] > 100 and chart["height"] > 40
    rates = page.evaluate("() => window.playground.store.frame.sweep.runs.map(r => r.learningRate)")
    assert [round(r, 4) for r in rates] == [0.003, 0.03, 0.3, 3.0]
    page.get_by_test_id("sweep-run-2").click()
    page.wait_for_function(
        "() => Math.abs(window.playground.store.frame.learningRate - 0.3) < 1e-6", timeout=TIMEOUT)
    screenshot(page, "sweep")
    page.get_by_test_id("sweep-toggle").click()
    page.wait_for_function("() => window.playground.store.frame.sweep === null", timeout=TIMEOUT)
    assert page.console_errors == []


def test_a_link_reproduces_the_setup(page: Any) -> None:
    """Opening a link with the setup in its hash builds that setup."""
    _open(page, "#dataset=xor&layers=3,3&lr=0.1&seed=4&features=x1,x2,x1_times_x2&activation=relu")
    config = page.evaluate("() => window.playground.store.config")
    assert config["data"]["dataset"] == "xor"
    assert config["network"]["hidden_layers"] == [3, 3]
    assert config["network"]["features"] == ["x1", "x2", "x1_times_x2"]
    assert config["network"]["activation"] == ["relu", "relu"]
    assert config["hyper"]["learning_rate"] == 0.1 and config["seed"] == 4
    assert "dataset=xor" in page.url and "layers=3%2C3" in page.url


def test_a_hostile_link_falls_back_to_defaults_with_a_notice(page: Any) -> None:
    """Huge numbers, unknown names and script text are ignored, the page works, nothing runs."""
    page.on("dialog", lambda dialog: (_ for _ in ()).throw(AssertionError("a dialog opened")))
    _open(page, "#dataset=<img src=x onerror=alert(1)>&lr=1e308&layers=999999&evil=1&noise=NaN")
    config = page.evaluate("() => window.playground.store.config")
    assert config["data"]["dataset"] == "circle" and config["hyper"]["learning_rate"] == 0.03
    notices = page.get_by_test_id("notice-link").inner_text()
    assert "ignored" in notices and "evil" in notices
    assert page.locator("img[src=x]").count() == 0
    page.get_by_test_id("step").click()
    page.wait_for_function("() => window.playground.store.frame.step === 1", timeout=TIMEOUT)
    assert page.console_errors == []


def test_clicking_the_plot_adds_points_and_a_bad_csv_is_refused_whole(page: Any,
                                                                      tmp_path: Path) -> None:
    """A click adds a training point of the chosen class (an edit: the 250 test points stay
    test points); a CSV with bad rows loads nothing and names each bad row; a good CSV
    replaces the data."""
    _open(page)
    box = page.get_by_test_id("output-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function("() => window.playground.store.config.data.dataset === 'custom'",
                           timeout=TIMEOUT)
    data = page.evaluate("() => window.playground.store.config.data")
    assert len(data["points"]) == 251 and data["points"][-1][2] == 1
    assert len(data["test_points"]) == 250
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\nabc,1,1\n7,0,1\n1,1,5\n")
    page.get_by_test_id("load-csv").set_input_files(str(bad))
    page.get_by_test_id("notice-csv").wait_for(state="visible", timeout=TIMEOUT)
    notice = page.get_by_test_id("notice-csv").inner_text()
    assert "row 3" in notice and "row 4" in notice and "row 5" in notice
    assert len(page.evaluate("() => window.playground.store.config.data.points")) == 251
    good = tmp_path / "good.csv"
    good.write_text("x1,x2,label\n" + "".join(f"{i % 5 - 2},{i // 5 - 2},{i % 2}\n"
                                             for i in range(25)))
    page.get_by_test_id("load-csv").set_input_files(str(good))
    page.wait_for_function(
        "() => window.playground.store.config.data.points?.length === 25", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.step > 20", timeout=TIMEOUT)
    screenshot(page, "custom-data")


def test_export_then_import_continues_the_run_exactly(page: Any, tmp_path: Path) -> None:
    """The JSON export, imported again, gives a session whose next steps equal the
    original's."""
    _open(page)
    page.get_by_test_id("step").click()
    page.wait_for_function("() => window.playground.store.frame.step === 1", timeout=TIMEOUT)
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    exported = tmp_path / "run.json"
    download.value.save_as(exported)
    original = page.evaluate("() => window.playground.connection.session.id")
    page.get_by_test_id("import-json").set_input_files(str(exported))
    page.wait_for_function(
        f"() => window.playground.connection.session?.id && "
        f"window.playground.connection.session.id !== '{original}' && "
        "window.playground.store.frame?.step === 1", timeout=TIMEOUT)
    imported = page.evaluate("() => window.playground.connection.session.id")

    def parameters(session_id: str) -> Any:
        # The export needs the session's presenter token, which the page keeps in storage.
        token = page.evaluate("(id) => JSON.parse(localStorage.getItem("
                              "'backprop-playground.tokens') || '{}')[id]", session_id)
        request = urllib.request.Request(f"{page.base_url}/api/sessions/{session_id}/snapshot",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as r:
            return json.load(r)["trainer"]["parameters"]

    assert parameters(imported) == parameters(original)
    assert json.loads(exported.read_text())["trainer"]["step"] == 1
