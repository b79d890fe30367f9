"""The inspector and the loss panel in Chromium, checked against the trainer: the update
rule shown gives the change in the weight between two snapshots (SGD, momentum, Adam; L1,
L2); one point's share is labelled apart from the batch gradient; a neuron's fan-in sum is
its δ; the network keeps its height when something is selected; the loss panel's formula
gives the batch loss and draws both losses; switching the loss leaves a labelled reference
curve; a typed weight is set from the next step (presenter only)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import numpy as np
import pytest
from e2e_helpers import edge_point, screenshot

from backprop_playground.trainer import restore

TIMEOUT = 15_000
EDGE = (1, 0, 1)  # hidden layer 1's neuron 1 → hidden layer 2's neuron 0


def open_page(page: Any, fragment: str = "") -> None:
    page.goto(f"{page.base_url}/{fragment}")
    page.wait_for_function("() => window.playground && window.playground.store.frame !== null",
                           timeout=TIMEOUT)


def wait(page: Any, condition: str) -> None:
    """Wait until ``condition`` holds (JavaScript; ``s`` is the page's store)."""
    page.wait_for_function(f"() => {{ const s = window.playground.store; return {condition}; }}",
                           timeout=TIMEOUT)


def js(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => {{ const s = window.playground.store; return {expression}; }}")


def snapshot(page: Any) -> Any:
    """The page's run as the server exports it (with the page's presenter token)."""
    session, token = page.evaluate("() => [window.playground.connection.session.id, "
                                   "window.playground.connection.credential()]")
    return exported(page, session, token)


def exported(page: Any, session: str, token: str) -> Any:
    request = urllib.request.Request(f"{page.base_url}/api/sessions/{session}/snapshot",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["trainer"]


def parameter(trainer: Any, layer: int, neuron: int, source: int | None) -> float:
    weights, bias = restore(trainer).get_weights(0)[layer]
    return float(bias[neuron] if source is None else weights[neuron, source])


def value(page: Any, testid: str, attribute: str = "data-value") -> float:
    return float(page.get_by_test_id(testid).get_attribute(attribute))


def step(page: Any) -> None:
    """One whole step, and its frame drawn."""
    before = js(page, "s.frame.step")
    page.get_by_test_id("step").click()
    wait(page, f"s.frame.step === {before + 1} && s.frame.phase === 'update' && !s.dirty")


def select_edge(page: Any, layer: int, neuron: int, source: int) -> None:
    page.mouse.click(*edge_point(page, layer, neuron, source))
    wait(page, f"s.serverState?.selection?.layer === {layer}"
               f" && s.serverState.selection.source === {source}")


def select_neuron(page: Any, level: int, index: int) -> None:
    """Click neuron ``index`` of ``level`` (1: the first hidden layer) in the diagram."""
    x, y = page.evaluate(
        """([level, index]) => {
            const v = window.playground.network;
            const n = v.layout.columns[level][index];
            const r = v.canvas.getBoundingClientRect();
            return [r.left + n.x, r.top + n.y];
        }""", [level, index])
    page.mouse.click(x, y)
    wait(page, f"s.serverState?.selection?.layer === {level - 1}"
               " && s.serverState.selection.source === null")


def set_hyper(page: Any, optimizer: str, regularization: str) -> None:
    """Through the hyperparameter bar, as a user would."""
    page.get_by_test_id("optimizer").select_option(optimizer)
    page.get_by_test_id("regularization").select_option(regularization)
    page.get_by_test_id("regularization-rate").select_option("0.01")
    wait(page, f"s.serverState?.hyper.optimizer === '{optimizer}'"
               f" && s.serverState.hyper.regularization === '{regularization}'"
               " && s.serverState.hyper.regularization_rate === 0.01")


def network_height(page: Any) -> float:
    box = page.get_by_test_id("network").bounding_box()
    assert box is not None
    return float(box["height"])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("regularization", ["l1", "l2"])
def test_the_update_shown_is_the_change_of_the_weight(page: Any, optimizer: str,
                                                      regularization: str) -> None:
    """After a step, the Δw the inspector's rule computes (with the frame's rule inputs)
    equals the weight's change between snapshots before and after that step, and it is the
    optimizer in use that the inspector names."""
    open_page(page)
    set_hyper(page, optimizer, regularization)
    select_edge(page, *EDGE)
    step(page)
    step(page)  # the optimizer's memory is not empty any more
    before = snapshot(page)
    step(page)
    after = snapshot(page)
    change = parameter(after, *EDGE) - parameter(before, *EDGE)
    update = page.get_by_test_id("inspector-update")
    shown = float(update.get_attribute("data-value"))
    assert update.get_attribute("data-optimizer") == optimizer
    assert page.get_by_test_id("inspector-applied-check").get_attribute("data-agrees") == "true"
    assert np.isclose(shown, change, rtol=2e-5, atol=1e-9), (shown, change)
    print(f"{optimizer}+{regularization}: shown {shown!r}, snapshots {change!r},"
          f" relative difference {abs(shown - change) / abs(change):.2e}")
    assert page.console_errors == []


def test_a_live_optimizer_change_shows_the_rule_that_ran(page: Any) -> None:
    """SGD → Adam between two steps: the inspector keeps showing the SGD step that ran (and
    says Adam applies from the next step); after the next step it shows Adam's rule."""
    open_page(page)
    select_edge(page, *EDGE)
    step(page)
    assert page.get_by_test_id("inspector-update").get_attribute("data-optimizer") == "sgd"
    page.get_by_test_id("optimizer").select_option("adam")
    wait(page, "s.serverState?.hyper.optimizer === 'adam' && !s.dirty")
    update = page.get_by_test_id("inspector-update")
    assert update.get_attribute("data-optimizer") == "sgd"
    assert page.get_by_test_id("inspector-applied-check").get_attribute("data-agrees") == "true"
    assert "Adam is in use from step 2" in page.get_by_test_id("inspector").inner_text()
    before = snapshot(page)
    step(page)
    change = parameter(snapshot(page), *EDGE) - parameter(before, *EDGE)
    assert update.get_attribute("data-optimizer") == "adam"
    assert np.isclose(float(update.get_attribute("data-value")), change, rtol=2e-5, atol=1e-9)
    assert "m̂" in page.get_by_test_id("inspector").inner_text()


def test_one_points_share_is_labelled_apart_from_the_batch_gradient(page: Any) -> None:
    """The single-point product is the focus point's share (1/B)·∂ℓ_b/∂w, not ∂L/∂w; the
    shares add up to the reported ∂L/∂w, which the chip labels."""
    open_page(page)
    select_edge(page, *EDGE)
    page.evaluate("() => window.playground.connection.send("
                  "(id) => JSON.stringify({type: 'focus', index: 3, id}))")
    step(page)
    wait(page, "s.frame.focus === 3 && !s.dirty")
    product = page.get_by_test_id("inspector-product")
    assert product.get_attribute("data-point") == "4"
    sample = js(page, "(({delta, aSource}) => delta * aSource)(s.frame.selection.samples[3])")
    assert np.isclose(float(product.get_attribute("data-value")), sample, rtol=1e-6)
    chain = page.locator(".insp-chain").inner_text()
    assert "point 4 (the focus point)'s share".lower() in chain.lower()
    assert "(1/B)·∂ℓ4/∂w" in chain.replace("\n", "")
    assert "∂L/∂w" not in chain, "one point's term is not the batch gradient"
    gradient = value(page, "inspector-gradient")
    assert "∂L/∂w" in page.get_by_test_id("inspector-gradient").inner_text()
    assert not np.isclose(float(product.get_attribute("data-value")), gradient)
    assert np.isclose(value(page, "inspector-sum"), gradient, rtol=2e-5)
    shares = page.locator("[data-testid=inspector-strip] .strip-dot").evaluate_all(
        "(dots) => dots.map((d) => Number(d.dataset.share))")
    assert len(shares) == 10 and np.isclose(sum(shares), gradient, rtol=2e-5)
    batch = page.locator(".insp-batch").inner_text()
    assert "each example wants its own nudge; the step follows their average" in batch
    assert "1/B" in batch


def test_the_fan_in_sum_of_a_neuron_is_its_delta(page: Any) -> None:
    """A hidden neuron: f′(z_j)·Σ_k w_kj δ_k, term by term, equals its δ for the focus point,
    the trainer's own."""
    open_page(page)
    select_neuron(page, 1, 1)
    before = snapshot(page)
    step(page)
    fan_in = page.get_by_test_id("inspector-fan-in")
    shown = float(fan_in.get_attribute("data-value"))
    trainer = restore(before)
    trainer.step()
    delta = float(trainer.tensors().layers[0].delta[0, 1])
    assert np.isclose(shown, delta, rtol=2e-5, atol=1e-10), (shown, delta)
    assert np.isclose(float(fan_in.get_attribute("data-delta")), delta, rtol=1e-6, atol=1e-10)
    text = page.locator(".insp-fan-in").inner_text()
    assert text.count(")·(") >= 2, "one term w_kj·δ_k per neuron of the next layer (2)"
    assert "✓" in text


def test_the_network_keeps_its_height_when_something_is_selected(page: Any) -> None:
    """1280×720: the diagram with a selection is at least 70 % as tall as without; the
    inspector shows its chain rule and its update rule (Adam, the longest) unscrolled."""
    open_page(page)
    page.get_by_test_id("optimizer").select_option("adam")
    wait(page, "s.serverState?.hyper.optimizer === 'adam'")
    step(page)
    without = network_height(page)
    select_edge(page, *EDGE)
    step(page)
    with_selection = network_height(page)
    print(f"network height: {without:.0f} px without, {with_selection:.0f} px with a selection"
          f" ({with_selection / without:.0%})")
    assert with_selection >= 0.7 * without
    inspector = page.get_by_test_id("inspector")
    box = inspector.bounding_box()
    assert box is not None
    for testid in ("inspector-product", "inspector-update"):
        part = page.get_by_test_id(testid).bounding_box()
        assert part is not None, testid
        assert part["y"] + part["height"] <= box["y"] + box["height"] + 0.5, testid
    assert inspector.evaluate("(e) => e.scrollHeight <= e.clientHeight")
    select_neuron(page, 1, 1)
    step(page)
    assert network_height(page) >= 0.7 * without
    fits = inspector.evaluate("(e) => e.scrollHeight <= e.clientHeight")
    assert fits, "a neuron's fan-in fits too"
    page.get_by_test_id("inspector-close").click()
    wait(page, "s.serverState.selection === null && !s.dirty")
    assert page.get_by_test_id("output-map").is_visible()


def test_the_loss_panel_gives_the_batch_loss_and_draws_both_losses(page: Any) -> None:
    """In the loss phase the loss panel opens: its formula's numbers give the frame's batch
    loss; cross-entropy and squared error are drawn against p with the focus point's p; the
    next phase goes back to the output."""
    open_page(page)
    for _ in range(2):
        page.get_by_test_id("phase-step").click()
    wait(page, "s.frame.phase === 'loss' && !s.dirty")
    panel = page.get_by_test_id("loss-panel")
    assert panel.is_visible()
    result = page.get_by_test_id("loss-result")
    assert np.isclose(value(page, "loss-result"), js(page, "s.frame.batchLoss"), rtol=1e-5)
    assert result.get_attribute("data-complete") == "true"
    assert "✓" in result.inner_text()
    for curve in ("bce", "squared_error"):
        assert page.get_by_test_id(f"loss-curve-{curve}").is_visible(), curve
        assert np.isfinite(value(page, f"loss-delta-{curve}"))
    focus_p = js(page, "s.frame.batch[s.frame.focus].pTrue")
    assert np.isclose(value(page, "loss-focus-marker", "data-p"), focus_p, rtol=1e-6)
    grad_output = js(page, "s.frame.batch[s.frame.focus].gradOutput")
    assert np.isclose(value(page, "loss-grad-output"), grad_output)
    assert "δ = dℓ/dz" in page.get_by_test_id("loss-sentence").inner_text()
    assert "sigmoid · cross-entropy" in panel.inner_text()
    page.get_by_test_id("phase-step").click()
    wait(page, "s.frame.phase === 'backward' && !s.dirty")
    assert page.get_by_test_id("output-map").is_visible() and not panel.is_visible()


def test_switching_the_loss_leaves_a_labelled_reference_curve(page: Any) -> None:
    """After training with cross-entropy, switching to squared error rebuilds the network
    from the seed (as a fresh session with that loss) and keeps the previous run's loss as a
    faded curve labelled with its loss."""
    open_page(page)
    page.get_by_test_id("play").click()
    wait(page, "s.frame.step >= 30")
    page.get_by_test_id("play").click()
    wait(page, "!s.frame.running && !s.dirty")
    trained = js(page, "s.history.map((row) => row[2]).filter(Number.isFinite)")
    page.get_by_test_id("loss").select_option("squared_error")
    wait(page, "s.config.network.loss === 'squared_error' && s.frame.step === 0 && !s.dirty")
    label = "previous: sigmoid · cross-entropy"
    series = page.evaluate("() => window.playground.charts.loss.plot.series.map((s) => s.label)")
    assert series[-1] == label
    kept = page.evaluate(
        "() => window.playground.charts.loss.plot.data[3].filter((v) => v != null)")
    assert len(kept) >= max(10, len(trained)), "the run so far"
    assert np.allclose(kept[:len(trained)], trained)
    assert page.get_by_test_id("loss-chart").get_attribute("data-reference") == label
    step(page)
    assert page.evaluate("() => window.playground.charts.loss.plot.series.at(-1).label") == label
    config = js(page, "s.config")
    with urllib.request.urlopen(urllib.request.Request(
            f"{page.base_url}/api/sessions", data=json.dumps({"config": config}).encode(),
            headers={"content-type": "application/json"})) as response:
        fresh = json.load(response)
    rebuilt = exported(page, fresh["id"], fresh["presenter_token"])
    trainer = restore(rebuilt)
    trainer.step()
    assert np.allclose(restore(snapshot(page)).get_weights(0)[0][0], trainer.get_weights(0)[0][0])
    screenshot(page, "loss-reference")
    assert page.console_errors == []


def test_typing_a_weight_sets_it_from_the_next_step(page: Any) -> None:
    """The presenter types a weight: the snapshot holds it and the page says from which step
    it trains; mid-step the server refuses, and the page names the field."""
    open_page(page)
    select_edge(page, *EDGE)
    editor = page.get_by_test_id("parameter-input")
    editor.fill("-1.5")
    page.get_by_test_id("parameter-set").click()
    status = page.get_by_test_id("parameter-status")
    page.wait_for_function("() => document.querySelector('[data-testid=parameter-status]')"
                           ".textContent.includes('step')", timeout=TIMEOUT)
    assert status.inner_text() == "applies from step 1"
    assert parameter(snapshot(page), *EDGE) == -1.5
    wait(page, "Math.abs(s.frame.selection.weight + 1.5) < 1e-6")
    page.get_by_test_id("phase-step").click()
    wait(page, "s.frame.phase === 'forward'")
    editor.fill("2")
    page.get_by_test_id("parameter-set").click()
    page.wait_for_function("() => document.querySelector('[data-testid=parameter-status]')"
                           ".textContent.startsWith('type:')", timeout=TIMEOUT)
    assert "half done" in status.inner_text()
    assert parameter(snapshot(page), *EDGE) == -1.5
    editor.fill("1e9")
    page.get_by_test_id("parameter-set").click()
    assert "from -100 to 100" in status.inner_text()


def test_a_viewer_sees_the_weight_editor_disabled(browser: Any, server_url: str) -> None:
    """In a class only the presenter can type a weight; a viewer's editor is off."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 720}) for _ in range(2)]
    try:
        presenter, viewer = (context.new_page() for context in contexts)
        presenter.base_url = server_url
        open_page(presenter)
        presenter.get_by_test_id("present").click()
        wait(presenter, "s.serverState?.class?.code?.length === 6")
        code = js(presenter, "s.serverState.class.code")
        presenter.get_by_test_id("class-card-hide").click()
        viewer.goto(f"{server_url}/join/{code}")
        wait(viewer, "s.role === 'viewer' && s.frame !== null")
        select_edge(presenter, *EDGE)
        wait(viewer, "s.serverState?.selection?.layer === 1 && s.frame.selection !== null")
        viewer.get_by_test_id("parameter-input").wait_for(timeout=TIMEOUT)
        assert viewer.get_by_test_id("parameter-input").is_disabled()
        assert viewer.get_by_test_id("parameter-set").is_disabled()
        assert presenter.get_by_test_id("parameter-input").is_enabled()
    finally:
        for context in contexts:
            context.close()
