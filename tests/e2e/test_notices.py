"""The page's notice area, the unknown-join-code page and CSV files dropped on the output
plot, in Chromium: notices stay until dismissed or solved, name the field the server
refused, say why the server closed the socket; /join/<anything> that opens no class says so
with a way back; a dropped CSV loads like the CSV button."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from e2e_helpers import screenshot

TIMEOUT = 15_000
BAD_CSV = "x1,x2,label\n1,2,0\nabc,1,1\n7,0,1\n1,1,5\n"
GOOD_CSV = "x1,x2,label\n" + "".join(f"{i % 5 - 2},{i // 5 - 2},{i % 2}\n" for i in range(25))


def _open(page: Any, path: str = "/") -> None:
    page.goto(f"{page.base_url}{path}")
    page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)


def _notice(page: Any, topic: str) -> Any:
    return page.get_by_test_id(f"notice-{topic}")


def _points(page: Any) -> int:
    return int(page.evaluate("() => window.playground.store.config.data.points?.length ?? 0"))


def _font_px(locator: Any) -> float:
    return float(locator.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))


def _drop(page: Any, name: str, text: str, mime: str, selector: str) -> bool:
    """Drag a file over ``selector`` and drop it there, as a user does; True if the drop's
    default action (the browser opening the file) was prevented."""
    return bool(page.evaluate(
        """([name, text, mime, selector]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, { type: mime }));
            const target = document.querySelector(selector);
            const fire = (type) => {
                const event = new DragEvent(type, { dataTransfer: transfer, bubbles: true,
                                                    cancelable: true });
                target.dispatchEvent(event);
                return event;
            };
            fire('dragenter');
            const over = fire('dragover');
            window.__highlighted = target.classList.contains('drop-target')
                && over.defaultPrevented;
            return fire('drop').defaultPrevented;
        }""", [name, text, mime, selector]))


def test_a_bad_csv_notice_stays_until_a_good_csv_loads(page: Any, tmp_path: Path) -> None:
    """A refused CSV file's notice names the bad rows, is an alert in text of at least 14 px,
    is still there 6 s later, and goes when a good file loads."""
    _open(page)
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(BAD_CSV)
    good.write_text(GOOD_CSV)
    page.get_by_test_id("load-csv").set_input_files(str(bad))
    notice = _notice(page, "csv")
    notice.wait_for(state="visible", timeout=TIMEOUT)
    assert "row 3" in notice.inner_text() and "row 5" in notice.inner_text()
    assert notice.get_attribute("role") == "alert"
    assert _font_px(notice) >= 14
    page.wait_for_timeout(6000)
    assert notice.is_visible() and "bad.csv" in notice.inner_text()
    screenshot(page, "notice")
    page.get_by_test_id("load-csv").set_input_files(str(good))
    page.wait_for_function("() => window.playground.store.config.data.points?.length === 25",
                           timeout=TIMEOUT)
    notice.wait_for(state="detached", timeout=TIMEOUT)
    assert page.console_errors == []


def test_a_notice_is_dismissed_by_its_button_or_escape(page: Any) -> None:
    """× removes a notice; Escape removes the one that has focus; others stay."""
    _open(page)
    _drop(page, "a.png", "not a csv", "image/png", "[data-testid=output-map]")
    page.get_by_test_id("sweep-rates").fill("fast")
    page.get_by_test_id("sweep-toggle").click()
    csv, sweep = _notice(page, "csv"), _notice(page, "sweep")
    sweep.wait_for(state="visible", timeout=TIMEOUT)
    csv.locator(".notice-close").click()
    csv.wait_for(state="detached", timeout=TIMEOUT)
    assert sweep.is_visible()
    sweep.focus()
    page.keyboard.press("Escape")
    sweep.wait_for(state="detached", timeout=TIMEOUT)
    assert page.get_by_test_id("notices").evaluate("(e) => e.children.length") == 0


def test_a_refused_command_names_the_field(page: Any) -> None:
    """A command the server refuses (a batch size beyond its limit, from the batch select)
    shows a notice with the field the server named and its message."""
    _open(page)
    page.get_by_test_id("batch-size").evaluate(
        "(select) => { select.add(new Option('huge', '99999999')); }")
    page.get_by_test_id("batch-size").select_option("99999999")
    notice = _notice(page, "command")
    notice.wait_for(state="visible", timeout=TIMEOUT)
    assert "batch_size" in notice.inner_text()
    assert notice.get_attribute("role") == "alert"


def test_a_csv_dropped_on_the_output_plot_loads(page: Any) -> None:
    """Dragging a file over the output plot highlights it; dropping a CSV there loads its
    points as the CSV button would; a file that is not CSV gets a notice naming it; a file
    dropped elsewhere does not open in place of the page."""
    _open(page)
    assert _drop(page, "notes.txt", "hello", "text/plain", "[data-testid=output-map]")
    notice = _notice(page, "csv")
    notice.wait_for(state="visible", timeout=TIMEOUT)
    assert "notes.txt is not a CSV file" in notice.inner_text()
    assert _drop(page, "points.csv", GOOD_CSV, "text/csv", "[data-testid=output-map]")
    assert page.evaluate("() => window.__highlighted")
    page.wait_for_function("() => window.playground.store.config.data.points?.length === 25",
                           timeout=TIMEOUT)
    notice.wait_for(state="detached", timeout=TIMEOUT)
    assert page.get_by_test_id("output-map").evaluate(
        "(e) => !e.classList.contains('drop-target')")
    assert _drop(page, "points.csv", GOOD_CSV, "text/csv", "[data-testid=network]")
    assert "drop the CSV file on the output plot" in notice.inner_text()
    assert page.url.startswith(page.base_url) and _points(page) == 25
    assert page.console_errors == []


def test_unknown_join_codes_get_a_page_with_a_way_back(page: Any) -> None:
    """/join/ab/cd (no code at all) and /join/NOPE (no such class) say there is no class
    with that code, quoting it as text; the form opens another code, the link goes back to
    a working playground."""
    for path, quoted in (("/join/ab/cd", "ab/cd"), ("/join/NOPE", "NOPE"),
                         ("/join/%3Cimg%20src%3Dx%3E", "<img src=x>")):
        page.goto(f"{page.base_url}{path}")
        missing = page.get_by_test_id("unknown-code")
        missing.wait_for(state="visible", timeout=TIMEOUT)
        assert f"No class with the code “{quoted}”" in missing.inner_text()
        assert "may have ended" in missing.inner_text()
        assert page.evaluate("() => document.activeElement.id") == "unknown-code-input"
        assert page.locator("img[src=x]").count() == 0
    screenshot(page, "unknown-code")
    page.get_by_test_id("unknown-code-input").fill("zz9")
    page.get_by_test_id("unknown-code-input").press("Enter")
    page.wait_for_url(f"{page.base_url}/join/ZZ9", timeout=TIMEOUT)
    page.get_by_test_id("unknown-code").wait_for(state="visible", timeout=TIMEOUT)
    page.get_by_test_id("unknown-code-back").click()
    page.wait_for_url(f"{page.base_url}/#session=*", timeout=TIMEOUT)
    page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)
    assert page.get_by_test_id("unknown-code").count() == 0


def test_a_rate_limited_lookup_says_when_to_try_again(page: Any) -> None:
    """A join-code lookup refused with 429 says "try again in N s" (its Retry-After) at
    once, and looks the code up again by itself after that."""
    body = json.dumps({"detail": {"field": "code", "message": "too many join-code lookups"}})
    page.route("**/api/join/SLOW22", lambda route: route.fulfill(
        status=429, body=body, headers={"Retry-After": "2", "content-type": "application/json"}))
    page.goto(f"{page.base_url}/join/SLOW22")
    notice = _notice(page, "join")
    notice.wait_for(state="visible", timeout=1500)  # not hidden while the page waits
    assert "try again in 2 s" in notice.inner_text()
    page.unroute("**/api/join/SLOW22")
    page.get_by_test_id("unknown-code").wait_for(state="visible", timeout=TIMEOUT)


def test_a_close_by_the_server_shows_its_reason(page: Any) -> None:
    """When the server closes the socket with a reason (a wrong presenter token: 4403) the
    page says so and what happened next; the notice outlives the reconnect."""
    _open(page)
    session = page.evaluate("() => window.playground.connection.session.id")
    page.evaluate("""(id) => {
        const key = 'backprop-playground.tokens';
        const tokens = JSON.parse(localStorage.getItem(key) || '{}');
        tokens[id] = 'not-the-token';
        localStorage.setItem(key, JSON.stringify(tokens));
    }""", session)
    page.reload()
    notice = _notice(page, "server")
    notice.wait_for(state="visible", timeout=TIMEOUT)
    assert "closed the connection: wrong presenter token" in notice.inner_text()
    assert "new session" in notice.inner_text()
    page.wait_for_function(
        f"() => window.playground.store.frame && window.playground.connection.session.id !== "
        f"'{session}' && window.playground.store.connection === 'open'", timeout=TIMEOUT)
    assert notice.is_visible()


def test_an_unreachable_server_is_said_until_the_page_reconnects(page: Any) -> None:
    """While the socket is gone and the server cannot be reached the connection notice
    shows; once the page is connected again it goes by itself."""
    _open(page)
    page.route("**/api/sessions/*", lambda route: route.abort())
    page.evaluate("() => window.playground.connection.socket.close()")
    notice = _notice(page, "connection")
    notice.wait_for(state="visible", timeout=TIMEOUT)
    assert "reconnecting" in notice.inner_text()
    page.unroute("**/api/sessions/*")
    notice.wait_for(state="detached", timeout=TIMEOUT)
    assert page.evaluate("() => window.playground.store.connection") == "open"


def test_projector_mode_notices_are_large(page: Any) -> None:
    """In projector mode a notice's text is at least 18 px."""
    _open(page, "/#projector=1")
    _drop(page, "a.png", "x", "image/png", "[data-testid=output-map]")
    notice = _notice(page, "csv")
    notice.wait_for(state="visible", timeout=TIMEOUT)
    assert _font_px(notice) >= 18
    screenshot(page, "notice-projector")
