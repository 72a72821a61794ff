"""The alarm list and the journal as people read them, in Debian's Chromium against
`padctl serve --sim` at rate 20: an alarm's occurrence and acknowledgement in UTC wall time
and T-time, who acknowledged it; shelving offered only to whom the server would allow, within
the pad's limit; out of service and back with a note; the journal's lines (when, T, who, what,
why), its kind and severity filters, folded logins and its pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e_fixtures import (
    PASSWORD,
    ConsoleServer,
    Operator,
    browser_marks,
    make_users_file,
    open_console,
    server_and_browser,
)

pytestmark = browser_marks(timeout_s=150)

RATE = 20.0
WAIT_MS = 20_000
UTC_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d) UTC$")
T_TEXT = re.compile(r"^T[-+]\d\d:\d\d:\d\d$")
ALARM = "HOLD_DOWNS-UNCOMMANDED"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_users_file(tmp_path_factory.mktemp("alarms-journal-users") / "users.yaml")


def _seconds_from_now(utc_text: str) -> float:
    """How far a shown `HH:MM:SS UTC` is from the wall clock now (seconds, across midnight)."""
    match = UTC_TIME.match(utc_text)
    assert match, utc_text
    hours, minutes, seconds = (int(x) for x in match.groups())
    now = datetime.now(UTC)
    apart_s = abs((hours - now.hour) * 3600 + (minutes - now.minute) * 60 + seconds - now.second)
    return min(apart_s, 86_400 - apart_s)


async def _logins(server: ConsoleServer, user: str, times: int, password: str = PASSWORD) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for _ in range(times):
            await client.post("/api/login", json={"username": user, "password": password})


async def _toast(operator: Operator, text: str) -> None:
    await expect(operator.page.locator(".toast", has_text=text).first).to_be_visible(
        timeout=WAIT_MS
    )


async def test_alarm_times_shelving_and_out_of_service_as_shown(
    tmp_path: Path, users_file: Path
) -> None:
    async with server_and_browser(tmp_path, users_file, rate=RATE) as (server, browser):
        tc = await open_console(browser, server, "conductor")
        pads = await open_console(browser, server, "padsystems")
        admin = await open_console(browser, server, "admin")
        await pads.show("subsystem/hold_downs")
        await pads.page.click("#take-authority")
        await expect(pads.page.locator("#sub-holder")).to_have_text("padsystems (you)")
        await server.inject("override HDC-M-701-CLAMPED 0")

        # When it occurred: UTC wall time (the pad clock, 20 times faster, is far ahead by
        # now) and the count's T then (the count is idle: T stands where the clock shows it).
        await pads.show("alarms")
        row = pads.page.locator(f'tr[data-alarm="{ALARM}"]')
        await expect(row).to_have_attribute("data-state", "UNACK", timeout=WAIT_MS)
        occurred = row.locator(".alarm-occurred")
        assert _seconds_from_now(await occurred.locator(".utc").inner_text()) <= 5
        t_clock = await pads.page.locator("#t-clock").inner_text()
        await expect(occurred.locator(".t-time")).to_have_text(t_clock)
        await expect(row.locator(".alarm-acked")).to_have_text("—")

        # Shelving is offered to the holder of the subsystem, within the pad's limit (2 h),
        # and not to the test conductor (the server would refuse it).
        options = await row.locator('[data-field="duration"] option').all_inner_texts()
        assert options == ["5 min", "15 min", "1 h", "2 h"]
        await tc.show("alarms")
        tc_row = tc.page.locator(f'tr[data-alarm="{ALARM}"]')
        await expect(tc_row).to_have_attribute("data-state", "UNACK", timeout=WAIT_MS)
        await expect(tc_row.locator('[data-action="shelve"]')).to_have_count(0)
        await expect(tc_row.locator('[data-action="ack"]')).to_have_count(1)

        # Acknowledged: when (UTC and T) and by whom, on every console.
        await row.locator('[data-action="ack"]').click()
        await expect(tc_row).to_have_attribute("data-state", "ACKED", timeout=WAIT_MS)
        acked = tc_row.locator(".alarm-acked")
        await expect(acked.locator(".by")).to_have_text("by padsystems")
        assert _seconds_from_now(await acked.locator(".utc").inner_text()) <= 5
        await expect(acked.locator(".t-time")).to_have_text(T_TEXT)
        await server.inject("unoverride HDC-M-701-CLAMPED")

        # Out of service: an admin, with a note; every console shows it, and who and why.
        await admin.show("alarms")
        await admin.page.check("#alarms-all")
        deluge = admin.page.locator('tr[data-alarm="WATER_DELUGE-FAULT"]')
        await deluge.locator('[data-action="out-of-service"]').click()
        await _toast(admin, "a note is required (not sent)")
        await expect(deluge).to_have_attribute("data-state", "NORMAL")
        await deluge.locator('.service-form [data-field="note"]').fill("nozzle rework")
        await deluge.locator('[data-action="out-of-service"]').click()
        out = pads.page.locator('tr[data-alarm="WATER_DELUGE-FAULT"]')
        await expect(out).to_have_attribute("data-state", "OUT_OF_SERVICE", timeout=WAIT_MS)
        await expect(out.locator(".alarm-state")).to_contain_text("OUT OF SERVICE")
        await expect(out.locator(".service-note")).to_have_text("by admin: nozzle rework")
        await expect(out.locator('[data-action="in-service"]')).to_have_count(0)  # admin only
        await deluge.locator('.service-form [data-field="note"]').fill("nozzles replaced")
        await deluge.locator('[data-action="in-service"]').click()
        await expect(out).to_have_count(0, timeout=WAIT_MS)  # back in NORMAL: off the list
        assert tc.errors == [] and pads.errors == [] and admin.errors == []


async def test_the_journal_reads_as_who_what_why_filters_folds_and_pages(
    tmp_path: Path, users_file: Path
) -> None:
    async with server_and_browser(tmp_path, users_file, rate=RATE) as (server, browser):
        await _logins(server, "padsystems", 8)
        await _logins(server, "viewer", 1, password="not the password")  # a warning
        viewer = await open_console(browser, server, "viewer")
        admin = await open_console(browser, server, "admin")
        await admin.show("alarms")
        await admin.page.check("#alarms-all")
        deluge = admin.page.locator('tr[data-alarm="WATER_DELUGE-FAULT"]')
        await deluge.locator('.service-form [data-field="note"]').fill("nozzle rework")
        await deluge.locator('[data-action="out-of-service"]').click()
        await expect(deluge).to_have_attribute("data-state", "OUT_OF_SERVICE", timeout=WAIT_MS)

        # A line reads as when (UTC, T), who, what and why.
        await viewer.show("journal")
        lines = viewer.page.locator(".journal tbody tr")
        await viewer.page.fill("#journal-kind", "alarm_out_of_service")
        await expect(lines).to_have_count(1, timeout=WAIT_MS)
        cells = await lines.first.locator("td").all_inner_texts()
        assert re.match(r"^\d\d:\d\d:\d\d$", cells[1]) and T_TEXT.match(cells[2]), cells
        assert cells[3] == "admin" and "WATER_DELUGE-FAULT" in cells[4], cells
        assert cells[5] == "nozzle rework", cells

        # Logins: one line per user while they come one after another (eight and one).
        await viewer.page.fill("#journal-kind", "console_login")
        folded = viewer.page.locator('.journal tr.folded[data-kind="console_login"]')
        await expect(folded.first).to_be_visible(timeout=WAIT_MS)
        texts = await viewer.page.locator(".journal tbody tr td:nth-child(5)").all_inner_texts()
        assert "login \u00d78" in texts, texts  # login x8
        await viewer.page.uncheck("#journal-fold")
        await expect(folded).to_have_count(0, timeout=WAIT_MS)
        await expect(lines).to_have_count(10, timeout=WAIT_MS)  # 8 + viewer + admin

        # Severity: warnings and worse only (the failed login, the alarm out of service).
        await viewer.page.fill("#journal-kind", "")
        await viewer.page.select_option("#journal-severity", "warning")
        await expect(
            viewer.page.locator('.journal tr[data-kind="console_login_failed"]')
        ).to_have_count(1, timeout=WAIT_MS)
        severities = await lines.evaluate_all("(rows) => rows.map((r) => r.dataset.severity)")
        assert severities and set(severities) <= {"warning", "critical"}, severities

        # Pages: the server pages back; older lines below, and back to the newest.
        await viewer.page.select_option("#journal-severity", "")
        await viewer.page.select_option("#journal-lines", "10")
        await expect(lines).to_have_count(10, timeout=WAIT_MS)
        await expect(viewer.page.locator("#journal-newer")).to_be_hidden()
        first_ids = [int(x) for x in await lines.locator("td:nth-child(1)").all_inner_texts()]
        await viewer.page.click("#journal-older")
        await expect(viewer.page.locator("#journal-status")).to_contain_text("page 2")
        older_ids = [int(x) for x in await lines.locator("td:nth-child(1)").all_inner_texts()]
        assert older_ids and max(older_ids) < min(first_ids), (first_ids, older_ids)
        await viewer.page.click("#journal-newer")
        await expect(viewer.page.locator("#journal-status")).to_contain_text("page 1")
        assert viewer.errors == [] and admin.errors == []
