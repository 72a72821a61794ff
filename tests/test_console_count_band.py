"""The count at a glance in Chromium at 1920x1080 and 1366x768: the state band's colour per
state, clocks of at least 48 px with the hold reason beside them; the count's controls grouped
by consequence, each stop with its own reason, disabled with the engine's reason when the
engine would refuse (and the server still refusing a forced click); a faulted step as a
retry-or-skip decision; the whole GO/NO-GO board on every position."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e_fixtures import (
    Operator,
    browser_marks,
    chromium,
    console_server,
    make_users_file,
    open_console,
)

pytestmark = browser_marks(timeout_s=150)

RATE = 20.0
WAIT_MS = 20_000
SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768)}
NEUTRAL, AMBER, RED = "rgb(230, 230, 230)", "rgb(255, 179, 0)", "rgb(212, 0, 0)"
STEP = "Pad systems activation, vehicle on ground power"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_users_file(tmp_path_factory.mktemp("band-users") / "users.yaml")


async def _sized(operator: Operator, size: str) -> Operator:
    width, height = SIZES[size]
    await operator.page.set_viewport_size({"width": width, "height": height})
    await operator.show("poll")
    return operator


async def _style(operator: Operator, selector: str, prop: str) -> str:
    return str(
        await operator.page.locator(selector).evaluate(
            "(el, prop) => getComputedStyle(el)[prop]", prop
        )
    )


async def _band_is(operator: Operator, colour: str) -> None:
    band = operator.page.locator("#clock")
    await expect(band).to_have_css("background-color", colour, timeout=WAIT_MS)
    for clock in ("#t-clock", "#l-clock"):
        assert float((await _style(operator, clock, "fontSize")).removesuffix("px")) >= 48
        assert await operator.page.locator(clock).is_visible()


async def _disabled_because(operator: Operator, name: str, reason: str) -> None:
    button = operator.page.locator(f'[data-count="{name}"]')
    await expect(button).to_be_disabled(timeout=WAIT_MS)
    await expect(button).to_have_attribute("title", re.compile(reason), timeout=WAIT_MS)


async def _toast(operator: Operator, text: str) -> None:
    toast = operator.page.locator(".toast", has_text=text).first
    await expect(toast).to_be_visible(timeout=WAIT_MS)


async def _grouped(operator: Operator) -> None:
    """Abort and Scrub stand apart from Hold and Resume, each stop with its own reason."""
    page = operator.page
    for name in ("scrub", "abort"):
        assert await page.locator(f'#count-stop [data-count="{name}"]').count() == 1
        assert await page.locator(f'#count-routine [data-count="{name}"]').count() == 0
    for name in ("start", "hold", "resume", "recycle"):
        assert await page.locator(f'#count-routine [data-count="{name}"]').count() == 1
    inputs = ["#hold-reason-input", "#scrub-reason", "#abort-reason"]
    for selector in inputs:
        assert await page.locator(selector).count() == 1
    routine = await page.locator("#count-routine").bounding_box()
    stop = await page.locator("#count-stop").bounding_box()
    assert routine is not None and stop is not None
    apart_x = stop["x"] - (routine["x"] + routine["width"])
    apart_y = stop["y"] - (routine["y"] + routine["height"])
    assert apart_x >= 40 or apart_y >= 10, (routine, stop)


async def test_the_band_the_grouped_controls_the_faulted_step_and_the_whole_board(
    tmp_path: Path, users_file: Path
) -> None:
    async with (
        console_server(tmp_path, users_file, rate=RATE) as server,
        chromium() as browser,
    ):
        big = await _sized(await open_console(browser, server, "conductor"), "1920x1080")
        small = await _sized(await open_console(browser, server, "conductor"), "1366x768")
        viewer = await _sized(await open_console(browser, server, "viewer"), "1366x768")
        pads = await _sized(await open_console(browser, server, "padsystems"), "1366x768")
        conductors = {"1920x1080": big, "1366x768": small}

        async def shots(name: str) -> None:
            for size, operator in conductors.items():
                (tmp_path / f"{name}-{size}.png").write_bytes(await operator.page.screenshot())

        for tc in conductors.values():
            await _grouped(tc)
            await _band_is(tc, NEUTRAL)
            await expect(tc.page.locator('[data-count="start"]')).to_be_enabled(timeout=WAIT_MS)
            for name in ("hold", "resume", "scrub", "abort"):
                await _disabled_because(tc, name, "the count is idle")

        # The vehicle bus never shows voltage: the first event's energize faults.
        assert (await server.inject("override PWR-ET-842 0"))["accepted"] is True
        await big.page.click('[data-count="start"]')
        await _toast(big, "count start: accepted")
        for tc in conductors.values():
            await _disabled_because(tc, "start", "the count is counting")
        await expect(big.page.locator("#window-t0")).to_be_visible(timeout=WAIT_MS)

        # The faulted step holds the count: amber, the hold reason beside the clocks, and a
        # decision to make; a plain resume is disabled with the engine's reason.
        for tc in conductors.values():
            await expect(tc.page.locator("#count-state")).to_have_text("HOLDING", timeout=WAIT_MS)
            await _band_is(tc, AMBER)
            await expect(tc.page.locator("#hold-reason")).to_contain_text("ground_power.energize")
            decision = tc.page.locator("#count-decision")
            await expect(decision).to_be_visible()
            await expect(decision.locator(f'[data-step="{STEP}"]')).to_be_visible()
            await _disabled_because(tc, "resume", "stopped the count")
        await shots("holding")

        # A forced click (the button enabled by hand) is still refused by the server.
        resume = big.page.locator('[data-count="resume"]')
        await resume.evaluate("(button) => { button.disabled = false; button.click(); }")
        await _toast(
            big, f"count resume: REFUSED (countdown) countdown resume refused: step '{STEP}'"
        )

        # Every position sees the whole board: who answered, what and when.
        board = viewer.page.locator("#poll-board")
        await expect(board.locator("tr[data-position]")).to_have_count(2, timeout=WAIT_MS)
        await big.page.click('tr[data-position="test_conductor"] [data-answer="go"]')
        await pads.page.click('tr[data-position="pad_systems"] [data-answer="no-go"]')
        row = board.locator('tr[data-position="test_conductor"]')
        await expect(row.locator(".poll-answer")).to_have_text("GO", timeout=WAIT_MS)
        await expect(row.locator(".poll-by")).to_have_text("conductor")
        await expect(row.locator(".poll-when")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
        no_go = board.locator('tr[data-position="pad_systems"]')
        await expect(no_go.locator(".poll-answer")).to_have_text("NO-GO", timeout=WAIT_MS)
        await expect(no_go.locator(".poll-by")).to_have_text("padsystems")
        (tmp_path / "board-viewer-1366x768.png").write_bytes(await viewer.page.screenshot())
        await _disabled_because(big, "skip", "no GO from pad_systems")
        await pads.page.click('tr[data-position="pad_systems"] [data-answer="go"]')

        # Skip needs its own reason; the choice is the server's to journal.
        await expect(big.page.locator('[data-count="skip"]')).to_be_enabled(timeout=WAIT_MS)
        await big.page.fill("#step-reason", "bus voltage checked by hand")
        await big.page.click('[data-count="skip"]')
        await _toast(big, "count resume (skip): accepted")
        for tc in conductors.values():
            await expect(tc.page.locator("#count-state")).to_have_text("COUNTING", timeout=WAIT_MS)
            await _band_is(tc, NEUTRAL)
            await expect(tc.page.locator("#count-decision")).to_be_hidden()
        await expect(big.page.locator(".timeline")).to_contain_text(
            f"{STEP} skipped by conductor: bus voltage checked by hand", timeout=WAIT_MS
        )
        await shots("counting")

        # A hold's reason does not carry over into an abort: the abort asks for its own.
        await big.page.fill("#hold-reason-input", "weather")
        await big.page.click('[data-count="abort"]')
        await _toast(big, "count abort: a reason is required (not sent)")
        await big.page.fill("#abort-reason", "range fouled")
        await big.page.click('[data-count="abort"]')
        await _toast(big, "count abort: ARMED")
        await big.page.locator(".arm .btn-confirm").first.click()
        for tc in conductors.values():
            await _band_is(tc, RED)
            await _disabled_because(tc, "resume", "recycle or scrub instead")
        await shots("cutoff")
        assert not big.errors and not small.errors and not viewer.errors and not pads.errors
