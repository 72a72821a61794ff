"""The console's long trends: `GET /api/history` on `padctl serve --sim --history FILE` (real
sockets, the real history file the station writes), and a subsystem page in Debian's Chromium
zoomed out to the whole count, drawing rows older than the browser's five live minutes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e_fixtures import (
    CHROMIUM,
    COUNT_FILE,
    LCC_FILE,
    PASSWORD,
    ConsoleServer,
    chromium,
    make_users_file,
    open_console,
    padctl_serve,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(150)]

TAG = "LOX-LT-001"  # a level of lox_loading, 0-100 %
OTHER_TAG = "LOX-PT-001"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_users_file(
        tmp_path_factory.mktemp("history-users") / "users.yaml", ("viewer", "admin")
    )


def _serve_options(folder: Path, users: Path, *extra: str) -> tuple[str, ...]:
    return (
        "--sim",
        "--users",
        str(users),
        "--sequence",
        str(COUNT_FILE),
        "--lcc",
        str(LCC_FILE),
        "--journal",
        str(folder / "journal.sqlite"),
        *extra,
    )


def _write_old_rows(path: Path, tag: str, start_wall_s: float, values: list[float]) -> None:
    """Rows a second apart from `start_wall_s`, written through the store beside the station."""
    from padctl.history import HistoryRow, HistoryStore

    store = HistoryStore(path)
    try:
        store.append(
            [
                HistoryRow(tag, start_wall_s + i, start_wall_s + i, value, "GOOD")
                for i, value in enumerate(values)
            ]
        )
    finally:
        store.close()


async def _logged_in(server: ConsoleServer, user: str = "viewer") -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=server.url, timeout=10)
    answer = await client.post("/api/login", json={"username": user, "password": PASSWORD})
    answer.raise_for_status()
    return client


async def test_the_history_endpoint_downsamples_refuses_bad_input_and_says_when_none_is_kept(
    tmp_path: Path, users_file: Path
) -> None:
    kept, bare = tmp_path / "kept", tmp_path / "bare"
    kept.mkdir()
    bare.mkdir()
    history_file = kept / "history.sqlite"
    async with (
        padctl_serve(
            kept, *_serve_options(kept, users_file, "--history", str(history_file))
        ) as server,
        padctl_serve(bare, *_serve_options(bare, users_file)) as no_history,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as anonymous:
            refused = await anonymous.get("/api/history", params={"tags": TAG})
            assert refused.status_code == 401, refused.text
        client = await _logged_in(server)
        try:
            # The station's own rows: every tag is kept when the recorder starts.
            answers: list[dict[str, Any]] = []

            async def kept_live() -> bool:
                now_s = time.time()
                answer = await client.get(
                    "/api/history",
                    params={"tags": f"{TAG},{OTHER_TAG}", "from": now_s - 600, "to": now_s + 1},
                )
                assert answer.status_code == 200, answer.text
                answers.append(answer.json())
                return all(answers[-1]["tags"][tag]["rows"] > 0 for tag in (TAG, OTHER_TAG))

            await wait_until(kept_live, 30, "the station's rows of both tags in the history")
            live = answers[-1]
            assert live["downsampling"] == "min-max per bucket"
            for tag in (TAG, OTHER_TAG):
                t_s, value, quality = live["tags"][tag]["points"][-1]
                assert time.time() - 600 < t_s <= time.time() + 1
                assert quality in ("GOOD", "UNCERTAIN", "BAD", "STALE")
                assert value is None or isinstance(value, float)

            # Downsampling: 5000 rows a day ago, one spike among them; 20 points at most.
            day_ago_s = time.time() - 86400.0
            values = [50.0 + (i % 7) for i in range(5000)]
            values[3333] = 99.5
            _write_old_rows(history_file, TAG, day_ago_s, values)
            answer = await client.get(
                "/api/history",
                params={"tags": TAG, "from": day_ago_s - 10, "to": day_ago_s + 6000, "points": 20},
            )
            assert answer.status_code == 200, answer.text
            trace = answer.json()["tags"][TAG]
            assert trace["rows"] == 5000
            assert 2 < len(trace["points"]) <= 20
            assert max(v for _, v, _ in trace["points"]) == 99.5  # the spike survives
            assert min(v for _, v, _ in trace["points"]) == 50.0
            assert answer.json()["from"] == pytest.approx(day_ago_s)  # the first kept row

            now_s = time.time()
            bad = {
                "unknown tag NOPE-1": {"tags": "NOPE-1", "from": now_s - 60, "to": now_s},
                "give one or more tag names": {"tags": "", "from": now_s - 60, "to": now_s},
                "must be before to": {"tags": TAG, "from": now_s, "to": now_s - 60},
                "span: at most": {"tags": TAG, "from": 1.0, "to": now_s},
                "points: 10 to 2000 (5 asked)": {
                    "tags": TAG,
                    "from": now_s - 60,
                    "to": now_s,
                    "points": 5,
                },
                "points: 10 to 2000 (9999 asked)": {
                    "tags": TAG,
                    "from": now_s - 60,
                    "to": now_s,
                    "points": 9999,
                },
                "points: a whole number": {
                    "tags": TAG,
                    "from": now_s - 60,
                    "to": now_s,
                    "points": "many",
                },
                "from: Unix seconds, not 'yesterday'": {"tags": TAG, "from": "yesterday", "to": 1},
                "to: give Unix seconds": {"tags": TAG, "from": now_s},
            }
            for reason, params in bad.items():
                answer = await client.get("/api/history", params=params)
                assert answer.status_code == 400, (reason, answer.text)
                assert reason in answer.json()["error"], (reason, answer.text)
        finally:
            await client.aclose()
        client = await _logged_in(no_history)
        try:
            answer = await client.get(
                "/api/history", params={"tags": TAG, "from": 1, "to": time.time()}
            )
            assert answer.status_code == 409, answer.text
            assert answer.json()["code"] == "no_history"
            assert "keeps no tag history" in answer.json()["error"]
        finally:
            await client.aclose()


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (chromium)")
async def test_a_trend_zoomed_out_to_the_whole_count_draws_rows_older_than_the_live_window(
    tmp_path: Path, users_file: Path
) -> None:
    history_file = tmp_path / "history.sqlite"
    options = _serve_options(tmp_path, users_file, "--history", str(history_file))
    async with padctl_serve(tmp_path, *options) as server:
        old_start_s = time.time() - 3000.0  # fifty minutes ago: beyond the live five
        _write_old_rows(history_file, TAG, old_start_s, [10.0 + i % 40 for i in range(600)])
        async with chromium() as browser:
            operator = await open_console(browser, server, "viewer")
            await operator.show("subsystem/lox_loading")
            page = operator.page
            spans = page.locator(".trend-spans")
            assert await spans.is_visible()
            spark = page.locator(f'tr[data-row="{TAG}"] svg.spark')

            async def drawn() -> dict[str, float]:
                attributes: dict[str, float] = await spark.evaluate(
                    "(el) => ({from: Number(el.dataset.from), to: Number(el.dataset.to),"
                    " points: Number(el.dataset.points)})"
                )
                return attributes

            async def live_drawn() -> bool:
                return (await drawn())["points"] > 0

            await wait_until(live_drawn, 20, "the live sparkline drawn")
            live = await drawn()
            assert live["to"] - live["from"] == pytest.approx(300, abs=1)

            await page.click('.trend-spans button[data-span="whole count"]')

            async def zoomed_out() -> bool:
                return (await drawn())["from"] < old_start_s + 1

            await wait_until(zoomed_out, 20, "the trend drawn from the history's first row")
            whole = await drawn()
            assert whole["from"] == pytest.approx(old_start_s, abs=1)
            assert whole["to"] == pytest.approx(time.time(), abs=30)
            # 600 old rows in the first fifth of the span: two points a bucket (of 139), at most
            # 280 points from history, then the live tail.
            assert 40 < whole["points"] <= 280 + 200
            assert await page.locator('.trend-spans button.on[data-span="whole count"]').count()

            await page.click('.trend-spans button[data-span="5 min"]')

            async def live_again() -> bool:
                span = await drawn()
                return span["to"] - span["from"] == pytest.approx(300, abs=1)

            await wait_until(live_again, 10, "the live five minutes drawn again")
            assert operator.errors == []
