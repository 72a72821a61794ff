"""The overview mimic, the devices of the subsystem pages, the instructor's and the fault
panels, in Debian's Chromium: legible and uncluttered at the control room's screen sizes,
devices in the states their signals say, panels only where they apply and only for the roles
allowed, and their commands reaching the pad and the journal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e_fixtures import (
    PADCTL,
    PASSWORD,
    ConsoleServer,
    Operator,
    _wait_for_url,
    answered,
    browser_marks,
    chromium,
    console_server,
    make_users_file,
    open_console,
    stop_process,
)

pytestmark = browser_marks(timeout_s=180)

WAIT_MS = 20_000  # bounded waits in the browser (wall time)
SCREENS = ((1366, 768), (1920, 1080))  # the control room's screens
MIN_LABEL_PX = 14.0
TRAINING = Path(__file__).parent / "data" / "training" / "jump.yaml"

# Every pair of mimic blocks and labels that overlap; every block line outside its block; every
# text of the drawing smaller than the minimum, by its computed size and as drawn on screen.
MIMIC_PROBLEMS = """(minPx) => {
  const box = (el) => el.getBoundingClientRect();
  const name = (el) => el.classList.contains("block-box") ? `block ${el.parentNode.dataset.block}`
    : el.classList.contains("valve") ? `valve ${el.dataset.device}` : `label "${el.textContent}"`;
  const items = [...document.querySelectorAll(
    ".mimic .block-box, .mimic .mimic-label, .mimic .valve")];
  const problems = [];
  for (let i = 0; i < items.length; i += 1) {
    for (let j = i + 1; j < items.length; j += 1) {
      const a = box(items[i]);
      const b = box(items[j]);
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
        problems.push(`overlap: ${name(items[i])} / ${name(items[j])}`);
      }
    }
  }
  for (const group of document.querySelectorAll(".mimic [data-block]")) {
    const outer = box(group.querySelector(".block-box"));
    for (const line of group.querySelectorAll("text")) {
      const r = box(line);
      if (r.width === 0) continue;
      if (r.left < outer.left - 0.5 || r.right > outer.right + 0.5 || r.top < outer.top - 0.5
          || r.bottom > outer.bottom + 0.5) {
        problems.push(`outside its block: ${group.dataset.block} "${line.textContent}"`);
      }
    }
  }
  for (const text of document.querySelectorAll(".mimic text")) {
    if (!text.textContent.trim() || text.closest(".block-alarm")) continue;
    const size = parseFloat(getComputedStyle(text).fontSize);
    const drawn = size * text.getScreenCTM().a;
    if (size < minPx || drawn < minPx) {
      problems.push(`small: "${text.textContent}" ${size}px, drawn ${drawn.toFixed(1)}px`);
    }
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_users_file(tmp_path_factory.mktemp("mimic-users") / "users.yaml")


@asynccontextmanager
async def _consoles(
    folder: Path, users: Path, rate: float, *names: str
) -> AsyncIterator[tuple[ConsoleServer, list[Operator]]]:
    """`padctl serve --sim` and a browser logged in as each of `names`."""
    async with console_server(folder, users, rate=rate) as server, chromium() as browser:
        yield server, [await open_console(browser, server, name) for name in names]


async def _shot(operator: Operator, folder: Path, name: str) -> None:
    # As bytes, written here: Playwright's own file writing would leave executor threads.
    (folder / f"{name}.png").write_bytes(await operator.page.screenshot(full_page=True))


async def test_the_mimic_is_legible_uncluttered_and_names_authority_once(
    tmp_path: Path, users_file: Path
) -> None:
    async with _consoles(tmp_path, users_file, 10.0, "conductor", "padsystems") as (_, users):
        tc, pads = users
        await pads.show("subsystem/hold_downs")
        await pads.page.click("#take-authority")
        await answered(pads, "Take authority: accepted")
        holder = tc.page.locator('#authority-list [data-authority="hold_downs"]')
        await expect(holder).to_contain_text("padsystems", timeout=WAIT_MS)
        await expect(tc.page.locator("#authority-list [data-authority]")).to_have_count(1)
        # The key values' sparklines span what this console has seen (30 pad seconds at least),
        # not five minutes of which it has seen the last sliver.
        spark = tc.page.locator(".key-values svg.spark").first
        await expect(spark).not_to_have_attribute("data-points", "0", timeout=WAIT_MS)
        span_s = await spark.evaluate("(el) => el.dataset.to - el.dataset.from")
        assert 29 <= span_s < 299
        mimic = tc.page.locator(".mimic")
        await expect(mimic.locator('[data-block="hold_downs"] .block-state')).not_to_have_text("")
        for width, height in SCREENS:
            await tc.page.set_viewport_size({"width": width, "height": height})
            await tc.page.wait_for_function(
                "(w) => document.documentElement.clientWidth <= w", arg=width
            )
            problems = await tc.page.evaluate(MIMIC_PROBLEMS, MIN_LABEL_PX)
            assert problems == [], f"at {width}x{height}: {problems}"
            # Authority once, beside the mimic: never on the blocks.
            text = await mimic.text_content() or ""
            assert "padsystems" not in text and "auth" not in text
            await _shot(tc, tmp_path, f"overview-{width}x{height}")
        assert tc.errors == [] and pads.errors == []


# Cases of the derivation: signals (command, on switch, off switch or None), seconds since the
# command changed, stroke time -> the state.
DERIVATION_CASES: list[tuple[tuple[Any, Any, Any], float, str]] = [
    ((True, True, False), 100, "on"),
    ((False, False, True), 100, "off"),
    ((True, False, False), 2, "travelling"),  # left the closed end, not yet open
    ((True, False, True), 2, "travelling"),  # just commanded, still at the closed end
    ((True, False, True), 100, "disagree"),  # commanded open long ago, still closed
    ((False, True, False), 100, "disagree"),  # commanded closed, open
    ((True, False, False), 100, "fault"),  # stuck between the ends
    ((False, True, True), 2, "fault"),  # both limit switches made
    ((True, True, None), 100, "on"),  # a pump running
    ((True, False, None), 2, "travelling"),  # starting
    ((True, False, None), 100, "disagree"),  # commanded to run, not running
    ((None, True, False), 100, "unknown"),  # no good data
]
DERIVE = """([cases, timeout]) => import("/js/devices.js").then(({ deviceState }) =>
  cases.map(([[command, on, off], since]) => {
    const tag = (value) => value === null ? { value: null, quality: "BAD" }
      : { value, quality: "GOOD" };
    return deviceState({ command: tag(command), on: tag(on), off: off === null ? null : tag(off) },
      since, timeout);
  }))"""
# Mechanism cases: (clamped switch, released switch), (clamp command, release command),
# seconds since the commands changed -> (state, position).
MECHANISM_CASES: list[tuple[tuple[Any, Any], tuple[bool, bool], float, list[Any]]] = [
    ((True, False), (False, False), 100, ["on", "clamped"]),
    ((True, False), (True, False), 100, ["on", "clamped"]),
    ((True, False), (False, True), 2, ["travelling", "clamped"]),
    ((True, False), (False, True), 100, ["disagree", "clamped"]),
    ((False, False), (False, True), 2, ["travelling", None]),
    ((False, False), (False, False), 100, ["fault", None]),
    ((True, True), (False, False), 100, ["fault", None]),
    ((None, False), (False, False), 100, ["unknown", None]),
]
DERIVE_MECHANISM = """([cases, timeout]) => import("/js/devices.js").then(({ mechanismState }) =>
  cases.map(([[clamped, released], [clamp, release], since]) => {
    const tag = (value) => value === null ? { value: null, quality: "BAD" }
      : { value, quality: "GOOD" };
    const { state, position } = mechanismState(
      { clamped: tag(clamped), released: tag(released) },
      { clamped: tag(clamp), released: tag(release) }, since, timeout);
    return [state, position];
  }))"""
SEEN = """(row) => {
  window.seenStates = [row.dataset.state];
  new MutationObserver(() => window.seenStates.push(row.dataset.state))
    .observe(row, { attributes: true, attributeFilter: ["data-state"] });
}"""


async def _seen(operator: Operator, *states: str) -> None:
    await operator.page.wait_for_function(
        "(want) => want.every((s) => (window.seenStates || []).includes(s))",
        arg=list(states),
        timeout=WAIT_MS,
    )


async def test_devices_show_the_states_their_signals_say(tmp_path: Path, users_file: Path) -> None:
    async with _consoles(tmp_path, users_file, 2.0, "padsystems") as (server, users):
        (pads,) = users
        derived = await pads.page.evaluate(DERIVE, [[[s, t] for s, t, _ in DERIVATION_CASES], 11])
        assert derived == [want for _, _, want in DERIVATION_CASES]
        cases = [[p, c, t] for p, c, t, _ in MECHANISM_CASES]
        derived = await pads.page.evaluate(DERIVE_MECHANISM, [cases, 45])
        assert derived == [want for _, _, _, want in MECHANISM_CASES]

        # Mechanisms too: the hold-down clamps, each at its end.
        await pads.show("subsystem/hold_downs")
        clamps = pads.page.locator('.devices-panel tr[data-device^="HDC-M-70"]')
        await expect(clamps).to_have_count(4)
        for row in await clamps.all():
            await expect(row).to_have_attribute("data-state", "on", timeout=WAIT_MS)
            await expect(row.locator(".device-state")).to_have_text("clamped")

        # The devices come first; the raw signals are there, folded away.
        await pads.show("subsystem/water_deluge")
        page = pads.page
        devices = page.locator(".devices-panel tr[data-device]")
        await expect(devices).to_have_count(3)  # two valves and the pump, from the definition
        raw = page.locator("details.raw-signals")
        assert await raw.get_attribute("open") is None
        await expect(raw.locator('tr[data-row="DLG-FV-801-ZSO"]')).to_be_hidden()
        valve = page.locator('tr[data-device="DLG-FV-801"]')
        await expect(valve).to_have_attribute("data-state", "off", timeout=WAIT_MS)
        await expect(valve.locator(".device-state")).to_have_text("closed")

        # Driven open on the simulated pad: closed, travelling, open; then closed again.
        await page.click("#take-authority")
        await answered(pads, "Take authority: accepted")
        await page.click('[data-cmd="arm"]')
        pump = page.locator('tr[data-device="DLG-P-801"]')
        await expect(pump).to_have_attribute("data-state", "on", timeout=WAIT_MS)
        await expect(pump.locator(".device-state")).to_have_text("running")
        await expect(page.locator("#sub-state")).to_have_text("ARMED", timeout=WAIT_MS)
        await valve.evaluate(SEEN)
        await page.click('[data-cmd="start_flow"]')
        await page.click('[data-confirm="start_flow"]', timeout=WAIT_MS)
        await expect(valve).to_have_attribute("data-state", "on", timeout=WAIT_MS)
        await expect(valve.locator(".device-state")).to_have_text("open")
        await _seen(pads, "off", "travelling", "on")
        await _shot(pads, tmp_path, "water-deluge-open")
        await pads.show("overview")  # the valve on the mimic's deluge line too
        symbol = page.locator('.mimic .valve[data-device="DLG-FV-801"]')
        await expect(symbol).to_have_attribute("data-state", "on", timeout=WAIT_MS)
        await expect(page.locator('.mimic .valve[data-device="LOX-FV-101"]')).to_have_attribute(
            "data-state", "off"
        )
        await pads.show("subsystem/water_deluge")
        await valve.evaluate(SEEN)
        await expect(page.locator("#sub-state")).to_have_text("FLOWING", timeout=WAIT_MS)
        await page.click('[data-cmd="stop_flow"]')
        await expect(valve).to_have_attribute("data-state", "off", timeout=WAIT_MS)
        await _seen(pads, "on", "travelling", "off")

        # Command closed, position open: a disagreement; both switches made: a fault.
        other = page.locator('tr[data-device="DLG-FV-802"]')
        await server.inject("override DLG-FV-802-ZSC 0")
        await server.inject("override DLG-FV-802-ZSO 1")
        await expect(other).to_have_attribute("data-state", "disagree", timeout=WAIT_MS)
        await expect(other.locator(".device-state")).to_have_text("command/position disagree")
        await server.inject("override DLG-FV-802-ZSC 1")
        await expect(other).to_have_attribute("data-state", "fault", timeout=WAIT_MS)
        await _shot(pads, tmp_path, "water-deluge-disagree")
        assert pads.errors == []


GATING = """() => import("/js/panels.js").then(({ TrainingPanels }) => {
  const panels = (config, role) => new TrainingPanels({
    store: { config, permitted: (command) => ({
      "train.status": ["instructor"], "sim.inject": ["admin"] })[command].includes(role) },
    link: { send: () => new Promise(() => {}) }, messages: { note() {} },
  });
  const ids = (p) => { const out = [...p.el.children].map((el) => el.id); p.destroy(); return out; };
  return {
    realPadAdmin: ids(panels({ simulated: false, training: false }, "admin")),
    trainingAdmin: ids(panels({ simulated: true, training: true }, "admin")),
    trainingInstructor: ids(panels({ simulated: true, training: true }, "instructor")),
  };
})"""


async def test_the_fault_panel_is_an_admins_on_simulators_only(
    tmp_path: Path, users_file: Path
) -> None:
    async with _consoles(tmp_path, users_file, 10.0, "admin", "conductor") as (_, users):
        admin, tc = users
        await expect(admin.page.locator("#fault-panel")).to_be_visible()
        await expect(admin.page.locator("#instructor-panel")).to_have_count(0)  # no training
        await expect(tc.page.locator("#fault-panel")).to_have_count(0)
        assert await admin.page.evaluate(GATING) == {
            "realPadAdmin": [],
            "trainingAdmin": ["fault-panel"],
            "trainingInstructor": ["instructor-panel"],
        }

        await admin.page.click("#sim-inject")  # nothing to inject: not sent
        await expect(admin.page.locator(".toast", has_text="not sent").first).to_be_visible()
        await admin.page.fill("#sim-fault", "stall MECH")
        await admin.page.click("#sim-inject")
        await expect(admin.page.locator("#sim-last")).to_contain_text("applied", timeout=WAIT_MS)
        await expect(tc.page.locator("#data-stale")).to_contain_text("MECH", timeout=WAIT_MS)
        await admin.show("journal")
        row = admin.page.locator(".journal tr", has_text="sim.inject").first
        await expect(row).to_contain_text("stall MECH", timeout=WAIT_MS)
        await _shot(admin, tmp_path, "fault-panel")
        assert admin.errors == [] and tc.errors == []


@asynccontextmanager
async def _training_run(folder: Path, users: Path) -> AsyncIterator[ConsoleServer]:
    """`padctl train` with its console served on 127.0.0.1 (the run starts paused)."""
    log_path = folder / "train.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            PADCTL,
            "train",
            str(TRAINING),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--users",
            str(users),
            "--journal",
            str(folder / "journal.sqlite"),
            stdin=asyncio.subprocess.PIPE,  # the instructor's terminal, kept open
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=folder,
        )
    try:
        url = await _wait_for_url(process, log_path, 90.0)
        yield ConsoleServer(url=url.rstrip("/"), process=process, log=log_path)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        await stop_process(process)


async def test_the_instructor_panel_drives_a_training_run(tmp_path: Path) -> None:
    users = make_users_file(tmp_path / "users.yaml", ("conductor",))
    adding = await asyncio.create_subprocess_exec(
        PADCTL, "users", "add", "teacher", "--role", "instructor", "--password-stdin",
        "--users", str(users), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.wait_for(adding.communicate((PASSWORD + "\n").encode()), 30)
    assert adding.returncode == 0
    async with _training_run(tmp_path, users) as server, chromium() as browser:
        teacher = await open_console(browser, server, "teacher")
        tc = await open_console(browser, server, "conductor")
        panel = teacher.page.locator("#instructor-panel")
        await expect(panel).to_be_visible()
        await expect(tc.page.locator("#instructor-panel")).to_have_count(0)
        await expect(teacher.page.locator("#fault-panel")).to_have_count(0)  # an admin's
        status = teacher.page.locator("#train-status")
        await expect(status).to_contain_text("Checkpoint jump test", timeout=WAIT_MS)
        await expect(status).to_have_attribute("data-paused", "true")

        await teacher.page.click("#train-resume")
        await expect(status).to_have_attribute("data-paused", "false", timeout=WAIT_MS)
        await teacher.page.fill("#train-rate", "50")
        await teacher.page.click("#train-set-rate")
        await expect(status).to_have_attribute("data-requested-rate", "50", timeout=WAIT_MS)
        await teacher.page.fill("#train-fault", "stuck LOX-FV-102")
        await teacher.page.click("#train-inject")
        await answered(teacher, "inject stuck LOX-FV-102: accepted")
        await teacher.page.click("#train-pause")
        await expect(status).to_have_attribute("data-paused", "true", timeout=WAIT_MS)
        await teacher.page.click('#train-checkpoints [data-checkpoint="start"]')
        await answered(teacher, "jump to start: accepted")
        await _shot(teacher, tmp_path, "instructor-panel")
        await teacher.show("journal")
        for command in ("train.resume", "train.rate", "train.inject", "train.pause", "train.jump"):
            row = teacher.page.locator(".journal tr", has_text=command).first
            await expect(row).to_contain_text("teacher", timeout=WAIT_MS)
        assert teacher.errors == [] and tc.errors == []
