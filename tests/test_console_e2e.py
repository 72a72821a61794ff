"""The operator console end to end: `padctl serve --sim` in a child process, Debian's Chromium.

Operators log in through the login page, each in a browser context of their own, and work
the displays as they would: take authority, start a short count (tests/data/console), see it
hold on a fault injected at the simulated pad, see and acknowledge the alarm, answer the
GO/NO-GO poll, resume and reach liftoff. Screenshots of the main displays are saved under
test-artifacts/console/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e_fixtures import (
    ARTIFACTS,
    Operator,
    browser_marks,
    chromium,
    console_server,
    make_users_file,
    open_console,
    wait_until,
)

pytestmark = browser_marks(timeout_s=150)

RATE = 20.0  # the five-minute test count in about fifteen seconds
WAIT_MS = 20_000  # bounded waits in the browser (wall time)
T_TEXT = re.compile(r"^T[-+]\d\d:\d\d:\d\d$")


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_users_file(tmp_path_factory.mktemp("console-users") / "users.yaml")


async def _screenshot(operator: Operator, name: str) -> None:
    # As bytes, written here: Playwright's own file writing would leave executor threads.
    _save(name, await operator.page.screenshot())


def _save(name: str, png: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(png)


async def _answered(operator: Operator, text: str) -> None:
    """The server's answer to the last command shows as a toast (and in the command log)."""
    await expect(operator.page.locator(".toast", has_text=text).first).to_be_visible(
        timeout=WAIT_MS
    )


async def _t_seconds(operator: Operator) -> float:
    text = await operator.page.locator("#t-clock").inner_text()
    assert T_TEXT.match(text), text
    hours, minutes, seconds = (int(x) for x in text[2:].split(":"))
    return (-1 if text[1] == "-" else 1) * (hours * 3600 + minutes * 60 + seconds)


async def test_a_count_holds_on_a_pad_fault_and_resumes_to_liftoff(
    tmp_path: Path, users_file: Path
) -> None:
    async with (
        console_server(tmp_path, users_file, rate=RATE) as server,
        chromium() as browser,
    ):
        tc = await open_console(browser, server, "conductor")
        pads = await open_console(browser, server, "padsystems")

        # The pad systems operator takes authority over the hold-downs; every console shows it.
        await pads.show("subsystem/hold_downs")
        await pads.page.click("#take-authority")
        await _answered(pads, "Take authority: accepted")
        await expect(pads.page.locator("#sub-holder")).to_have_text("padsystems (you)")
        holder = tc.page.locator('#authority-list [data-authority="hold_downs"]')
        await expect(holder).to_contain_text("padsystems", timeout=WAIT_MS)

        # The test conductor starts the count; the pad fault holds it on LCC-HDC-001.
        await tc.show("poll")
        await tc.page.click('[data-count="start"]')
        await _answered(tc, "count start: accepted")
        await expect(tc.page.locator("#count-state")).to_have_text("COUNTING", timeout=WAIT_MS)
        applied = await server.inject("override HDC-M-701-CLAMPED 0")
        assert applied["accepted"] is True
        await expect(tc.page.locator("#count-state")).to_have_text("HOLDING", timeout=WAIT_MS)
        await expect(tc.page.locator("#hold-reason")).to_contain_text("LCC-HDC-001")
        await expect(pads.page.locator("#count-state")).to_have_text("HOLDING", timeout=WAIT_MS)
        # T stopped in the hold: both operators' consoles read the same clock.
        t_conductor, t_pad_systems = await _t_seconds(tc), await _t_seconds(pads)
        assert t_conductor == t_pad_systems and t_conductor < -60

        # The hold-downs' uncommanded-change alarm, as every console shows it.
        await expect(pads.page.locator("#alarm-banner")).to_have_class(
            re.compile("has-unack"), timeout=WAIT_MS
        )
        await expect(pads.page.locator("#alarm-count")).to_be_visible()
        await pads.show("alarms")
        alarm = pads.page.locator('tr[data-alarm="HOLD_DOWNS-UNCOMMANDED"]')
        await expect(alarm).to_have_attribute("data-state", "UNACK", timeout=WAIT_MS)
        await expect(alarm).to_contain_text("HDC-M-701-CLAMPED")
        await expect(alarm.locator(".prio")).to_have_text("▲ HIGH")
        await _screenshot(pads, "alarms")
        await tc.show("overview")
        await expect(tc.page.locator('[data-block="hold_downs"] .alarm-shape')).to_be_visible()
        await _screenshot(tc, "overview")

        # Acknowledged while the condition stands; cleared at the pad, it returns to normal.
        await alarm.locator('[data-action="ack"]').click()
        await _answered(pads, "acknowledge HOLD_DOWNS-UNCOMMANDED: accepted")
        await expect(alarm).to_have_attribute("data-state", "ACKED", timeout=WAIT_MS)
        await server.inject("unoverride HDC-M-701-CLAMPED")
        await expect(alarm).to_have_count(0, timeout=WAIT_MS)  # NORMAL leaves the list

        # Each position answers the poll for itself; every position sees the whole board.
        await pads.show("poll")
        await expect(pads.page.locator('tr[data-position="test_conductor"]')).to_have_count(1)
        await pads.page.click('tr[data-position="pad_systems"] [data-answer="go"]')
        await _answered(pads, "poll pad_systems: GO: accepted")
        await tc.show("poll")
        board = tc.page.locator("#poll-board")
        await expect(board.locator('tr[data-position="pad_systems"] .poll-answer')).to_have_text(
            "GO", timeout=WAIT_MS
        )
        await expect(board.locator("#poll-status")).to_contain_text("1 of 2 GO")
        await _screenshot(tc, "poll")
        await board.locator('tr[data-position="test_conductor"] [data-answer="go"]').click()
        await expect(board.locator("#poll-status")).to_have_text("ALL GO", timeout=WAIT_MS)
        await tc.page.click('[data-count="resume"]')
        await _answered(tc, "count resume: accepted")

        # The built-in hold before the terminal count polls again, then ends by itself.
        await expect(tc.page.locator("#hold-reason")).to_contain_text("BIH-1", timeout=WAIT_MS)
        await pads.page.click('tr[data-position="pad_systems"] [data-answer="go"]')
        await board.locator('tr[data-position="test_conductor"] [data-answer="go"]').click()
        await pads.show("subsystem/hold_downs")
        await expect(tc.page.locator("#count-state")).to_have_text(
            "TERMINAL COUNT", timeout=WAIT_MS
        )
        await expect(pads.page.locator("#sub-state")).to_have_text("RELEASE_ARMED", timeout=WAIT_MS)
        await _screenshot(pads, "subsystem-hold-downs")
        await expect(tc.page.locator("#count-result")).to_have_text("LIFTOFF", timeout=WAIT_MS)
        await expect(pads.page.locator("#sub-state")).to_have_text("RELEASED")

        # The journal keeps it all; filtered by kind on the page.
        await tc.show("journal")
        await expect(tc.page.locator('tr[data-kind="countdown_state"]').first).to_be_visible()
        await _screenshot(tc, "journal")
        await tc.page.fill("#journal-kind", "poll_answer")
        rows = tc.page.locator('tr[data-kind="poll_answer"]')
        await expect(rows).to_have_count(4)
        await tc.page.fill("#journal-kind", "")
        await tc.page.fill("#journal-text", "LCC-HDC-001")
        await expect(tc.page.locator('tr[data-kind="countdown_state"]').first).to_be_visible()
        # ... or searched in the whole journal on the server.
        await tc.page.fill("#journal-text", "")
        await tc.page.fill("#journal-actor", "padsystems")
        await tc.page.click("#journal-search")
        await expect(tc.page.locator("#journal-status")).to_contain_text("search:")
        actors = await tc.page.locator(".journal tbody tr td:nth-child(4)").all_inner_texts()
        assert actors and set(actors) == {"padsystems"}
        assert tc.errors == [] and pads.errors == []


async def test_operators_share_the_clock_a_viewer_is_refused_and_arms_need_a_second_person(
    tmp_path: Path, users_file: Path
) -> None:
    async with (
        console_server(tmp_path, users_file, rate=RATE) as server,
        chromium() as browser,
    ):
        # The login page refuses a wrong password, with the server's words.
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(server.url + "/")
        await page.wait_for_url("**/login.html", timeout=WAIT_MS)
        await page.fill("#username", "viewer")
        await page.fill("#password", "not the password")
        await page.click("#login-button")
        await expect(page.locator("#login-error")).to_have_text(
            "wrong user name or password", timeout=WAIT_MS
        )
        await context.close()
        tc = await open_console(browser, server, "conductor")
        viewer = await open_console(browser, server, "viewer")
        pads = await open_console(browser, server, "padsystems")

        # A viewer's command goes to the server, which refuses it and says why.
        await viewer.show("subsystem/erector")
        await viewer.page.click("#take-authority")
        await _answered(viewer, "erector: Take authority: REFUSED (forbidden)")
        await expect(viewer.page.locator("#sub-holder")).to_have_text("nobody")
        await viewer.page.locator("#log").evaluate("(log) => log.closest('details').open = true")
        await expect(viewer.page.locator("#log li").first).to_contain_text("viewer")

        # A second-person command whose interlocks are not met is refused at the arming, with
        # the interlock's reason: nobody is summoned to confirm it.
        await pads.show("subsystem/hold_downs")
        await pads.page.click("#take-authority")
        await expect(pads.page.locator("#sub-holder")).to_have_text("padsystems (you)")
        await pads.page.click('[data-cmd="arm_release"]')
        await _answered(pads, "REFUSED (subsystem)")
        await expect(pads.page.locator(".toast").first).to_contain_text("terminal count running")
        await expect(pads.page.locator("#arms")).to_be_hidden()

        # A second-person command whose interlocks hold: armed by one operator, confirmed by
        # another; the vent reads closed meanwhile, so the subsystem refuses it on its
        # permissive when it runs, reason shown.
        prop = await open_console(browser, server, "propellants")
        await prop.show("subsystem/kerosene_loading")
        await prop.page.click("#take-authority")
        await expect(prop.page.locator("#sub-holder")).to_have_text("propellants (you)")
        await prop.page.click('[data-cmd="start_drain"]')
        await _answered(prop, "kerosene_loading.start_drain: ARMED - a second person must confirm")
        await expect(prop.page.locator("#arms .arm-status")).to_have_text(
            "awaiting a second person", timeout=WAIT_MS
        )
        remaining = tc.page.locator("#arms .arm-left")
        await expect(remaining).to_have_text(re.compile(r"^\d+\.\d s$"), timeout=WAIT_MS)
        await server.inject("override RG1-VV-101-ZSO 0")
        await tc.show("subsystem/kerosene_loading")
        vent = tc.page.locator('[data-tag="RG1-VV-101-ZSO"]')
        await expect(vent).to_have_text("FALSE", timeout=WAIT_MS)
        await tc.page.click("#arms .btn-confirm")
        await _answered(tc, "REFUSED (subsystem)")
        await expect(tc.page.locator(".toast").first).to_contain_text("vehicle RG-1 vent open")
        await expect(tc.page.locator("#arms")).to_be_hidden(timeout=WAIT_MS)
        await server.inject("unoverride RG1-VV-101-ZSO")

        # An alarm shelved for a chosen time, by the holder of its subsystem's authority: the
        # note is required (the page says so, and sends nothing without it).
        await server.inject("override HDC-M-701-CLAMPED 0")
        await pads.show("alarms")
        alarm = pads.page.locator('tr[data-alarm="HOLD_DOWNS-UNCOMMANDED"]')
        await expect(alarm).to_have_attribute("data-state", "UNACK", timeout=WAIT_MS)
        await alarm.locator('[data-field="duration"]').select_option(label="15 min")
        await alarm.locator('[data-action="shelve"]').click()
        await _answered(pads, "a note is required (not sent)")
        await alarm.locator('[data-field="note"]').fill("clamp 1 switch under repair")
        await alarm.locator('[data-action="shelve"]').click()
        await _answered(pads, "shelve HOLD_DOWNS-UNCOMMANDED: accepted")
        await expect(alarm).to_have_attribute("data-state", "SHELVED", timeout=WAIT_MS)
        await expect(alarm.locator(".shelf-left")).to_contain_text("min more")
        await server.inject("unoverride HDC-M-701-CLAMPED")
        await tc.show("subsystem/hold_downs")
        clamp = tc.page.locator('[data-tag="HDC-M-701-CLAMPED"]')
        await expect(clamp).to_have_text("TRUE", timeout=WAIT_MS)  # before the count needs it

        # Two operators see the same clock, counting.
        await tc.show("poll")
        await tc.page.click('[data-count="start"]')
        await expect(viewer.page.locator("#count-state")).to_have_text("COUNTING", timeout=WAIT_MS)
        started = time.monotonic()
        t_conductor, t_viewer = await _t_seconds(tc), await _t_seconds(viewer)
        apart_s = time.monotonic() - started
        # Read one after the other: apart by what T ran meanwhile, one update period and the
        # whole-second text, at most.
        assert abs(t_viewer - t_conductor) <= RATE * (apart_s + 0.15) + 1

        # The link goes silent while T runs: CLOCK STALE, and the clock stops within one update
        # period.
        assert await tc.page.locator("#count-state").inner_text() == "COUNTING"
        server.pause()
        try:
            for operator in (tc, viewer):
                await expect(operator.page.locator("#clock-stale")).to_be_visible(timeout=5_000)
            frozen = await tc.page.locator("#t-clock").inner_text()
            # Watched over a second of frames: the clock never runs on without updates.
            for _ in range(5):
                await tc.page.wait_for_timeout(200)
                assert await tc.page.locator("#t-clock").inner_text() == frozen
        finally:
            server.resume()
        await wait_until(
            lambda: tc.page.locator("#clock-stale").is_hidden(), 15, "CLOCK STALE cleared"
        )

        # Stale and bad data drawn distinctly: a stalled PLC, a transducer reading NaN.
        await server.inject("stall MECH")
        await server.inject("nan LOX-LT-101")
        await tc.show("subsystem/erector")
        await expect(tc.page.locator("#data-stale")).to_contain_text("MECH", timeout=WAIT_MS)
        angle = tc.page.locator('.value-cell:has([data-tag="ERC-ZT-501"])')
        await expect(angle).to_have_attribute("data-quality", "STALE", timeout=WAIT_MS)
        await expect(angle.locator(".quality-label")).to_have_text("STALE")
        level = tc.page.locator('.value-cell:has([data-tag="LOX-LT-101"])')
        await expect(level).to_have_attribute("data-quality", "BAD", timeout=WAIT_MS)
        await expect(level.locator(".quality-label")).to_have_text("BAD")
        await expect(level.locator(".value")).to_have_text("—")  # no number shown for it
        await _screenshot(tc, "subsystem-erector-stale-bad")

        assert tc.errors == [] and viewer.errors == [] and pads.errors == [] and prop.errors == []
