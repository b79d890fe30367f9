"""The page at every screen it is used on — phone portrait and landscape, 1024×600, 1280×720
(a projector), 1920×1080 and 4K — in normal and projector mode, for a presenter and for a
viewer of a presented class: no horizontal scrolling, every control reachable, the network
large enough to read (full width on a phone), text no smaller than 12 px (projector: 18 px),
and no layout shift from load to the first trained frame. Each case leaves a screenshot in
docs/screenshots/viewport-<w>x<h>-<mode>-<role>.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import SCREENSHOTS, edge_point

TIMEOUT = 15_000
VIEWPORTS = [(390, 844), (844, 390), (1024, 600), (1280, 720), (1920, 1080), (3840, 2160)]
PHONES = {(390, 844), (844, 390)}

# Layout shifts without recent input, summed from the first paint on (buffered).
CLS_OBSERVER = """
window.__layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__layoutShift += entry.value;
  }
}).observe({ type: 'layout-shift', buffered: true });
"""

# The smallest font size of visible DOM text (SVG text at its drawn size), with where it is.
SMALLEST_TEXT = """(root) => {
  const scope = root ? document.querySelector(root) : document.body;
  const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  let smallest = { size: Infinity, where: '', text: '' };
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element) continue;
    if (['SCRIPT', 'STYLE', 'TITLE', 'OPTION'].includes(element.tagName)) continue;
    if (!element.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rect = range.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    let size = parseFloat(getComputedStyle(element).fontSize);
    const svg = element instanceof SVGElement ? element.ownerSVGElement ?? element : null;
    if (svg) size *= /** @type {SVGSVGElement} */ (svg).getScreenCTM()?.a ?? 1;
    if (size < smallest.size) {
      const where = `${element.tagName}.${element.getAttribute('class') ?? ''}`;
      smallest = { size, where, text: node.textContent.trim().slice(0, 30) };
    }
  }
  return smallest;
}"""

# Every enabled control that is shown can be scrolled to and is the element under its centre,
# inside the viewport's width. Returns the ones that are not.
UNREACHABLE = """() => {
  const bad = [];
  const controls = document.querySelectorAll(
    'button, select, input, summary, a[href], output[tabindex], [role="tab"]');
  for (const control of controls) {
    if (!control.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    if (control.disabled || getComputedStyle(control).pointerEvents === 'none') continue;
    control.scrollIntoView({ block: 'center', inline: 'center' });
    const rect = control.getBoundingClientRect();
    const [x, y] = [rect.left + rect.width / 2, rect.top + rect.height / 2];
    const hit = document.elementFromPoint(x, y);
    const onTop = hit !== null
      && (hit === control || control.contains(hit) || hit.closest('label')?.contains(control));
    if (!onTop || rect.left < -1 || rect.right > innerWidth + 1) {
      const name = control.dataset.testid ?? control.tagName;
      bad.push(`${name}: under ${hit?.tagName}.${hit?.className} at ${x | 0},${y | 0}`);
    }
  }
  scrollTo(0, 0);
  return bad;
}"""


def shown(tab: Any, testid: str) -> dict[str, float]:
    """The element's page box when it is visible (zero size otherwise)."""
    box: dict[str, float] = tab.evaluate(
        """(testid) => {
            const element = document.querySelector(`[data-testid="${testid}"]`);
            const visible = element?.checkVisibility(
                { visibilityProperty: true, opacityProperty: true });
            const rect = element.getBoundingClientRect();
            return visible ? { width: rect.width, height: rect.height } : { width: 0, height: 0 };
        }""", testid)
    return box


class Room:
    """One presenter presenting a class that trains; viewers join it at any viewport."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 720})
        self.presenter = self.context.new_page()
        self.presenter.goto(f"{base_url}/")
        self.presenter.wait_for_function("() => window.playground?.store.frame !== null",
                                         timeout=TIMEOUT)
        self.presenter.get_by_test_id("present").click()
        self.presenter.wait_for_function(
            "() => document.querySelector('[data-testid=class-code]').textContent.length === 6",
            timeout=TIMEOUT)
        self.code = self.presenter.get_by_test_id("class-code").inner_text()
        self.presenter.get_by_test_id("class-card-hide").click()
        self.presenter.get_by_test_id("play").click()

    def projector(self, on: bool) -> None:
        """Switch the presenter's projector mode (the class follows)."""
        if self.presenter.evaluate("() => window.playground.store.ui.projector") != on:
            self.presenter.get_by_test_id("projector-toggle").click()
        self.presenter.wait_for_function(
            "(on) => window.playground.store.serverState?.view?.projector === on", arg=on,
            timeout=TIMEOUT)


@pytest.fixture(scope="module")
def room(browser: Any, server_url: str) -> Iterator[Room]:
    class_room = Room(browser, server_url)
    yield class_room
    class_room.context.close()


def open_tab(browser: Any, size: tuple[int, int]) -> tuple[Any, Any, list[str]]:
    """A fresh context at this viewport measuring layout shifts, collecting page errors."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  device_scale_factor=1)
    context.add_init_script(CLS_OBSERVER)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    return context, tab, errors


def first_trained_frames(tab: Any) -> None:
    """Wait until the page has drawn frames of a running training."""
    tab.wait_for_function("() => { const s = window.playground?.store; return s?.frame?.running"
                          " && s.frame.step > 0 && s.framesRendered > 5; }", timeout=TIMEOUT)
    tab.wait_for_timeout(250)


@pytest.mark.parametrize("role", ["presenter", "viewer"])
@pytest.mark.parametrize("mode", ["normal", "projector"])
@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_the_page_fits_reads_and_stays_still(browser: Any, room: Room, server_url: str,
                                             size: tuple[int, int], mode: str, role: str) -> None:
    """At every viewport, mode and role: no horizontal scrolling; the phase, the network, the
    output plot and the loss chart shown, the network ≥ 300×200 CSS px (phones: ≥ 90 % of the
    width); no visible text under 12 px (projector: 18 px, phones 12 px); the projector's loss
    chart ≥ 150 px high from 1280×720 up; cumulative layout shift < 0.1 from load to the
    first trained frames; every enabled control reachable (on a phone with the menu open)."""
    projector = mode == "projector"
    phone = size in PHONES
    context, tab, errors = open_tab(browser, size)
    try:
        if role == "viewer":
            room.projector(projector)
            tab.goto(f"{server_url}/join/{room.code}")
        else:
            tab.goto(f"{server_url}/" + ("#projector=1" if projector else ""))
            tab.wait_for_function("() => window.playground?.store.frame !== null", timeout=TIMEOUT)
            # not a click: a click is input, and shifts just after input are not counted
            tab.evaluate("() => window.playground.connection.send("
                         "(id) => JSON.stringify({v: 1, type: 'play', id}))")
        first_trained_frames(tab)
        assert tab.evaluate("() => document.body.classList.contains('projector')") == projector
        shift = tab.evaluate("() => window.__layoutShift")
        assert shift < 0.1, f"cumulative layout shift {shift:.3f}"
        assert tab.evaluate("() => document.scrollingElement.scrollWidth") <= size[0]
        for testid in ("phase", "output-map", "loss-chart"):
            box = shown(tab, testid)
            assert box["width"] > 0 and box["height"] > 0, testid
        network = shown(tab, "network")
        assert network["width"] >= 300 and network["height"] >= 200, network
        if phone:
            assert network["width"] >= 0.9 * size[0], network
        if projector and size[0] >= 1280:
            assert shown(tab, "loss-chart")["height"] >= 150
        smallest = tab.evaluate(SMALLEST_TEXT, None)
        floor = 18 if projector and not phone else 12
        assert smallest["size"] >= floor - 0.01, smallest
        tab.screenshot(path=str(SCREENSHOTS / f"viewport-{size[0]}x{size[1]}-{mode}-{role}.png"))
        if phone and role == "presenter":
            tab.get_by_test_id("menu").click()
        assert tab.evaluate(UNREACHABLE) == []
        assert tab.evaluate("() => document.scrollingElement.scrollWidth") <= size[0]
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("size", sorted(PHONES), ids=[f"{w}x{h}" for w, h in sorted(PHONES)])
def test_the_phone_menu_is_a_keyboard_button(browser: Any, server_url: str,
                                             size: tuple[int, int]) -> None:
    """On a phone the settings bar and the data panel are behind the menu button: it says
    aria-expanded, opens with Enter (the controls then show and fit the width), and Escape
    closes it with the focus back on it."""
    context, tab, _ = open_tab(browser, size)
    try:
        tab.goto(f"{server_url}/")
        tab.wait_for_function("() => window.playground?.store.frame !== null", timeout=TIMEOUT)
        menu = tab.get_by_test_id("menu")
        assert menu.get_attribute("aria-expanded") == "false"
        assert not tab.get_by_test_id("speed").is_visible()
        assert not tab.get_by_test_id("datasets").is_visible()
        menu.focus()
        tab.keyboard.press("Enter")
        assert menu.get_attribute("aria-expanded") == "true"
        for testid in ("speed", "sweep-toggle", "datasets", "join-code", "projector-toggle",
                       "add-layer"):
            assert tab.get_by_test_id(testid).is_visible(), testid
        assert tab.evaluate("() => document.scrollingElement.scrollWidth") <= size[0]
        tab.keyboard.press("Escape")
        assert menu.get_attribute("aria-expanded") == "false"
        assert not tab.get_by_test_id("speed").is_visible()
        assert tab.evaluate("() => document.activeElement?.dataset.testid") == "menu"
    finally:
        context.close()


def test_the_projector_inspector_reads_and_fits(browser: Any, server_url: str) -> None:
    """Projector mode at 1280×720: the inspector of a selected weight shows no text under
    18 px and fits its column without scrolling."""
    context, tab, errors = open_tab(browser, (1280, 720))
    try:
        tab.goto(f"{server_url}/#projector=1")
        tab.wait_for_function("() => window.playground?.store.frame !== null", timeout=TIMEOUT)
        x, y = edge_point(tab, 1, 0, 1)
        tab.mouse.click(x, y)
        tab.get_by_test_id("step").click()
        tab.get_by_test_id("tab-inspector").click()
        tab.get_by_test_id("inspector-gradient").wait_for(timeout=TIMEOUT)
        tab.wait_for_timeout(300)
        smallest = tab.evaluate(SMALLEST_TEXT, "[data-testid=inspector]")
        assert smallest["size"] >= 18 - 0.01, smallest
        overflow = tab.evaluate("() => { const view = document.querySelector("
                                "'[data-testid=inspector]'); return view.scrollHeight"
                                " - view.clientHeight; }")
        assert overflow <= 1, f"the inspector overflows by {overflow} px"
        assert errors == []
    finally:
        context.close()
