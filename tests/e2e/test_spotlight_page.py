"""Spotlight a fork, in three browsers: a presenter presents, a viewer joins and forks the
class and trains its fork; the presenter sees the fork in its anonymous Forks list, shows
it read-only on its own screen (network, output, step counter, loss of the fork, every
control off and a forged command refused), and "Back to class" returns to the class
exactly as it was; the fork's owner sees it is shown and can opt out, which takes it off
the list. Screenshots of the list and the spotlight at 1280×720 in projector mode."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from e2e_helpers import console_tab, screenshot

TIMEOUT = 15_000
VIEWPORT = {"width": 1280, "height": 720}
STORE = "window.playground?.store ?? {}"


@dataclass
class Room:
    """The presenter's tab presenting a class, and the tabs that join it."""

    browser: Any
    base_url: str
    presenter: Any = None
    code: str = ""
    contexts: list[Any] = field(default_factory=list)
    tabs: list[Any] = field(default_factory=list)

    def tab(self) -> Any:
        """A fresh context (own storage) with one tab collecting console errors."""
        tab = console_tab(self.browser, self.contexts, VIEWPORT)
        self.tabs.append(tab)
        return tab


def wait_js(target: Any, condition: str) -> None:
    """Wait until ``condition`` holds in a tab or frame (``store`` is its page's store)."""
    target.wait_for_function(f"() => {{ const store = {STORE}; return {condition}; }}",
                             timeout=TIMEOUT)


def js(target: Any, expression: str) -> Any:
    return target.evaluate(f"() => {{ const store = {STORE}; return {expression}; }}")


def steps(target: Any) -> int:
    return int(target.locator("[data-testid=step-count]").inner_text().replace(",", ""))


@pytest.fixture
def room(browser: Any, server_url: str) -> Iterator[Room]:
    room = Room(browser, server_url)
    try:
        room.presenter = room.tab()
        room.presenter.goto(f"{server_url}/")
        wait_js(room.presenter, "store.frame && store.role === 'presenter'")
        room.presenter.get_by_test_id("present").click()
        wait_js(room.presenter, "store.serverState?.class?.code?.length === 6")
        room.code = js(room.presenter, "store.serverState.class.code")
        yield room
        for tab in room.tabs:
            assert tab.console_errors == [], tab.console_errors
    finally:
        for context in room.contexts:
            context.close()


def fork_of_a_viewer(room: Room) -> Any:
    """A viewer joins and presses Fork; its tab, on its fork's page."""
    viewer = room.tab()
    viewer.goto(f"{room.base_url}/join/{room.code}")
    wait_js(viewer, "store.role === 'viewer' && store.frame")
    viewer.get_by_test_id("fork").click()
    wait_js(viewer, "store.role === 'presenter' && store.frame && store.serverState?.fork")
    return viewer


def class_as_it_is(tab: Any) -> dict[str, Any]:
    """What "back to class" must give back: the class's run state, counters and view."""
    state = js(tab, "JSON.stringify(store.serverState)")
    return {"state": json.loads(state), "step": steps(tab),
            "loss": tab.get_by_test_id("loss-train").inner_text(),
            "session": js(tab, "window.playground.connection.session.id"),
            "projector": js(tab, "document.body.classList.contains('projector')"),
            "frame": js(tab, "store.frame.sequence")}


def test_presenter_spotlights_a_students_fork_read_only(room: Room) -> None:
    """The list shows the fork anonymously; the spotlight shows the fork's own network,
    output, step and loss with every control off (a forged command is refused and changes
    nothing); the owner is told; back to class restores the class view unchanged."""
    presenter = room.presenter
    presenter.get_by_test_id("step").click()
    wait_js(presenter, "store.serverState?.step === 1")
    owner = fork_of_a_viewer(room)
    listing = owner.get_by_test_id("fork-listing")
    assert listing.is_visible() and owner.get_by_test_id("fork-listed").is_checked()
    assert "Let the teacher show my fork" in listing.inner_text()
    for _ in range(4):
        owner.get_by_test_id("step").click()
    wait_js(owner, "store.serverState?.step === 5")
    presenter.get_by_test_id("projector-toggle").click()
    wait_js(presenter, "document.body.classList.contains('projector')")
    row = presenter.get_by_test_id("fork-row-1")
    row.wait_for(state="visible", timeout=TIMEOUT)
    wait_js(presenter, "document.querySelector('[data-testid=fork-row-1]')"
                       ".textContent.includes('step 5')")
    text = row.inner_text()
    assert text.startswith("fork 1 · step 5 · test loss ")
    assert js(owner, "window.playground.connection.session.id") not in presenter.content()
    presenter.get_by_test_id("class-card-hide").click()
    screenshot(presenter, "spotlight-list")
    classmate = room.tab()
    classmate.goto(f"{room.base_url}/join/{room.code}")
    wait_js(classmate, "store.role === 'viewer' && store.frame")
    assert not classmate.get_by_test_id("fork-banner").is_visible()
    before = class_as_it_is(presenter)

    presenter.get_by_test_id("spotlight-1").click()
    overlay = presenter.get_by_test_id("spotlight")
    overlay.wait_for(state="visible", timeout=TIMEOUT)
    assert presenter.get_by_test_id("spotlight-title").inner_text() == "Fork 1 — read-only"
    frame = presenter.frame_locator("[data-testid=spotlight-frame]")
    shown = presenter.frames[-1]
    wait_js(shown, "store.role === 'viewer' && store.frame && store.frame.step === 5")
    assert js(shown, "window.playground.connection.session.id") == \
        js(owner, "window.playground.connection.session.id")
    assert frame.get_by_test_id("step-count").inner_text() == "5"
    loss = frame.get_by_test_id("loss-train").inner_text()
    assert loss == owner.get_by_test_id("loss-train").inner_text()
    frame.get_by_test_id("tab-output").click()  # a view of one's own, as on any viewer's page
    assert frame.get_by_test_id("network").is_visible()
    assert frame.get_by_test_id("output-map").is_visible()
    assert frame.get_by_test_id("play").is_disabled() and frame.get_by_test_id("step").is_disabled()
    assert not frame.get_by_test_id("fork").is_visible()
    assert js(shown, "document.body.classList.contains('projector')")
    refused = shown.evaluate("() => window.playground.connection.send((id) => "
                             "JSON.stringify({v: 1, type: 'step', n: 3, id}))")
    assert refused["type"] == "error" and refused["field"] == "type"
    wait_js(owner, "store.serverState?.fork?.shown === true")
    classmate.get_by_test_id("fork-banner").get_by_text("The teacher is showing fork 1").wait_for(
        timeout=TIMEOUT)
    assert not classmate.get_by_test_id("fork-listing").is_visible()
    assert "showing your fork (fork 1)" in owner.get_by_test_id("fork-banner").inner_text()
    owner.get_by_test_id("step").click()  # the fork's owner keeps full control
    wait_js(shown, "store.frame.step === 6")
    wait_js(presenter, "document.querySelector('[data-testid=fork-row-1]')"
                       "?.classList.contains('shown')")
    frame.get_by_test_id("tab-output").click()
    screenshot(presenter, "spotlight-fork")

    presenter.get_by_test_id("spotlight-back").click()
    overlay.wait_for(state="hidden", timeout=TIMEOUT)
    assert presenter.locator("[data-testid=spotlight-frame]").count() == 0
    assert class_as_it_is(presenter) == before
    wait_js(owner, "store.serverState?.fork?.shown === false")
    classmate.get_by_test_id("fork-banner").wait_for(state="hidden", timeout=TIMEOUT)
    presenter.get_by_test_id("step").click()  # the class is steered as before
    wait_js(presenter, "store.serverState?.step === 2")


def test_an_opted_out_fork_leaves_the_list(room: Room) -> None:
    """Unticking "Let the teacher show my fork" takes the fork off the presenter's list;
    ticking it again brings it back under its number."""
    owner = fork_of_a_viewer(room)
    row = room.presenter.get_by_test_id("fork-row-1")
    row.wait_for(state="visible", timeout=TIMEOUT)
    owner.get_by_test_id("fork-listed").uncheck()
    row.wait_for(state="detached", timeout=TIMEOUT)
    wait_js(owner, "store.serverState?.fork?.listed === false")
    room.presenter.get_by_test_id("forks").wait_for(state="hidden", timeout=TIMEOUT)  # none listed
    owner.get_by_test_id("fork-listed").check()
    row.wait_for(state="visible", timeout=TIMEOUT)


def test_opting_out_while_shown_ends_the_spotlight(room: Room) -> None:
    """A fork whose owner opts out while it is shown leaves the presenter's screen, with a
    notice saying why."""
    owner = fork_of_a_viewer(room)
    room.presenter.get_by_test_id("spotlight-1").click()
    overlay = room.presenter.get_by_test_id("spotlight")
    overlay.wait_for(state="visible", timeout=TIMEOUT)
    # the class sees the fork (its page in the overlay has joined) before the owner opts out:
    # a page still looking the code up would be told, rightly, that it no longer exists (404)
    wait_js(room.presenter.frames[-1], "store.role === 'viewer' && store.frame")
    owner.get_by_test_id("fork-listed").uncheck()
    overlay.wait_for(state="hidden", timeout=TIMEOUT)
    notices = room.presenter.get_by_test_id("notices")
    notices.get_by_text("stopped sharing").wait_for(timeout=TIMEOUT)
    class_id = js(room.presenter, "window.playground.connection.session.id")
    url = f"{room.base_url}/api/sessions/{class_id}"
    with urllib.request.urlopen(url) as response:
        assert json.load(response)["step"] == 0
