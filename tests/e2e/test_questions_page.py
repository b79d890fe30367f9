"""Ask the class in three browsers: the presenter (projector mode) asks, two viewers (one on
a phone) answer on their own screens, the presenter's card tallies the answers live, the
reveal runs the step, and the tally beside the truth shows on all three screens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from e2e_helpers import console_tab, screenshot

TIMEOUT = 15_000
DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


@dataclass
class Room:
    """A presenting tab and the viewers' tabs, each collecting console errors."""

    browser: Any
    base_url: str
    code: str = ""
    presenter: Any = None
    viewers: list[Any] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def tab(self, viewport: dict[str, int], **options: Any) -> Any:
        return console_tab(self.browser, self.contexts, viewport, **options)

    def join(self, viewport: dict[str, int], **options: Any) -> Any:
        tab = self.tab(viewport, **options)
        tab.goto(f"{self.base_url}/join/{self.code}")
        wait_js(tab, "store().role === 'viewer' && store().frame !== null")
        self.viewers.append(tab)
        return tab

    @property
    def screens(self) -> list[Any]:
        return [self.presenter, *self.viewers]


@pytest.fixture
def room(browser: Any, server_url: str) -> Iterator[Room]:
    room = Room(browser, server_url)
    try:
        room.presenter = room.tab(DESKTOP)
        room.presenter.goto(f"{server_url}/")
        wait_js(room.presenter, "store().frame !== null && store().role === 'presenter'")
        room.presenter.get_by_test_id("present").click()
        wait_js(room.presenter, "store().serverState?.class != null")
        room.code = str(room.presenter.evaluate(
            "() => window.playground.store.serverState.class.code"))
        room.presenter.get_by_test_id("class-card-hide").click()
        yield room
        for tab in room.screens:
            assert tab.console_errors == [], tab.console_errors
    finally:
        for context in room.contexts:
            context.close()


def wait_js(tab: Any, condition: str) -> None:
    """Wait until ``condition`` (JavaScript; ``store()`` is the page's store) holds."""
    tab.wait_for_function(
        f"() => {{ const store = () => window.playground?.store ?? {{}}; return {condition}; }}",
        timeout=TIMEOUT)


def card_text(tab: Any, testid: str) -> str:
    return str(tab.get_by_test_id("question-card").get_by_test_id(testid).inner_text())


def test_ask_answer_tally_reveal_on_three_screens(room: Room) -> None:
    """A question opened by the presenter is answered on both viewers, tallied live on the
    presenter's screen (counts, percent), revealed (the step runs to its update) and the
    tally beside the truth shows on all three screens, the true option highlighted."""
    presenter = room.presenter
    laptop = room.join(DESKTOP)
    phone = room.join(PHONE, is_mobile=True, has_touch=True)
    wait_js(presenter, "store().viewers === 2")
    presenter.get_by_test_id("projector-toggle").click()
    for _ in range(3):
        presenter.get_by_test_id("step").click()
    wait_js(presenter, "store().frame.step === 3")

    # the menu: the weight question needs a selected weight, the sweep question a sweep
    presenter.get_by_test_id("ask").click()
    weight = presenter.get_by_test_id("ask-weight_direction")
    assert weight.get_attribute("aria-disabled") == "true"
    assert "Select a weight" in str(weight.get_attribute("title"))
    assert presenter.get_by_test_id("ask-sweep_winner").get_attribute("aria-disabled") == "true"
    presenter.get_by_test_id("ask-update_lowers_loss").click()

    for tab in room.screens:
        tab.get_by_test_id("question-card").wait_for(state="visible", timeout=TIMEOUT)
        assert "Will this update lower the batch loss?" in tab.get_by_test_id(
            "question-card").inner_text()
    assert presenter.get_by_test_id("question-card").get_by_test_id("answer-yes").count() == 0

    laptop.get_by_test_id("answer-no").click()
    laptop.get_by_test_id("answer-yes").click()  # changed: counted once
    phone.get_by_test_id("answer-no").tap()
    wait_js(phone, "document.querySelector('[data-testid=my-answer]')"
                   ".textContent.startsWith('Your answer: No —')")
    wait_js(presenter, "document.querySelector('[data-testid=question-status]')"
                       ".textContent === '2 of 2 answered'")
    assert card_text(presenter, "tally-count-yes") == "1 · 50 %"
    assert card_text(presenter, "tally-count-no") == "1 · 50 %"
    for viewer in room.viewers:  # viewers see no counts before the reveal
        assert viewer.get_by_test_id("question-card").locator(".q-tally").count() == 0
    screenshot(presenter, "ask-presenter-tally")
    screenshot(phone, "ask-viewer-phone")

    presenter.get_by_test_id("question-reveal").click()
    wait_js(presenter, "store().serverState?.question?.status === 'revealed'")
    assert presenter.evaluate("() => window.playground.store.frame.step") == 4
    truth = presenter.evaluate("() => window.playground.store.serverState.question.truth")
    expected = "Yes" if truth["option"] == "yes" else "No"
    for tab in room.screens:
        wait_js(tab, "document.querySelector('[data-testid=question-truth]') !== null")
        line = card_text(tab, "question-truth")
        assert line.startswith(f"Truth: {expected} — batch loss ")
        assert re.search(r"batch loss [\d.e-]+ → [\d.e-]+", line), line
        highlighted = tab.get_by_test_id("question-card").locator(".q-row.truth")
        assert highlighted.get_attribute("data-testid") == f"tally-{truth['option']}"
        assert card_text(tab, "tally-count-yes") == "1 · 50 %"
    assert card_text(phone, "my-verdict") == (
        "You answered No: right!" if truth["option"] == "no"
        else "You answered No: not this time.")
    screenshot(presenter, "ask-revealed-presenter")
    screenshot(phone, "ask-revealed-phone")

    presenter.get_by_test_id("question-close").click()
    for tab in room.screens:
        tab.get_by_test_id("question-card").wait_for(state="hidden", timeout=TIMEOUT)


def test_the_sweep_question_trains_n_steps_before_the_reveal(room: Room) -> None:
    """During a sweep the menu asks which rate wins after N steps; the reveal trains the N
    steps and every screen shows the winner beside each run's loss."""
    presenter = room.presenter
    viewer = room.join(DESKTOP)
    presenter.get_by_test_id("sweep-toggle").click()
    wait_js(presenter, "store().serverState?.sweep != null")
    presenter.get_by_test_id("ask").click()
    presenter.get_by_test_id("ask-steps").fill("20")
    presenter.get_by_test_id("ask-sweep_winner").click()
    viewer.get_by_test_id("question-card").wait_for(state="visible", timeout=TIMEOUT)
    options = viewer.get_by_test_id("question-card").locator(".q-option")
    assert options.count() >= 2 and options.first.inner_text().startswith("η = ")
    options.first.click()
    wait_js(presenter, "document.querySelector('[data-testid=question-status]')"
                       ".textContent === '1 of 1 answered'")
    step = int(presenter.evaluate("() => window.playground.store.frame.step"))
    presenter.get_by_test_id("question-reveal").click()
    wait_js(presenter, "store().serverState?.question?.status === 'revealed'")
    wait_js(presenter, f"store().frame.step === {step + 20}")
    for tab in (presenter, viewer):
        wait_js(tab, "document.querySelector('[data-testid=question-truth]') !== null")
        assert "after 20 steps, training loss η " in card_text(tab, "question-truth")
        assert tab.get_by_test_id("question-card").locator(".q-row.truth").count() == 1
    screenshot(viewer, "ask-revealed-sweep")
