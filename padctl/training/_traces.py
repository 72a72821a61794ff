"""The report's tag traces: for each scored response, the involved tags over its response
window (from the fault's onset to the response, or to its deadline when it never came), read
from the tag history the run kept: lowest, highest and last value, and the worst quality."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from padctl.history import HistoryError, HistoryReader
from padctl.training._plan import TrainingPlan
from padctl.training._scoring import ResponseScore, RunScore

MAX_TRACED_TAGS = 6


def involved_tags(plan: TrainingPlan, score: ResponseScore, plot_tags: Sequence[str]) -> list[str]:
    """The tags a response is about: those its fault's words name, then the run's plot tags."""
    fault = next((f for f in plan.faults if f.id == score.response.after), None)
    named = [] if fault is None else fault.text.split()
    return list(dict.fromkeys([*named, *plot_tags]))


def traces_html(
    plan: TrainingPlan, score: RunScore, history: Path | None, plot_tags: Sequence[str]
) -> str:
    """The report's section of tag traces (saying so when the run kept no history)."""
    if history is None:
        return "<p>No tag history was kept for this run (padctl train --tag-history FILE).</p>"
    try:
        reader = HistoryReader(history)
    except HistoryError as error:
        return f"<p>No tag history to read: {html.escape(str(error))}</p>"
    e = html.escape
    parts = []
    try:
        for scored in score.responses:
            if scored.onset_s is None:
                continue
            from_s = score.start_clock_s + scored.onset_s
            window_s = scored.took_s if scored.took_s is not None else scored.response.within_s
            summaries = reader.summaries(
                involved_tags(plan, scored, plot_tags),
                from_clock_s=from_s,
                to_clock_s=from_s + window_s,
            )[:MAX_TRACED_TAGS]
            rows = "".join(
                f"<tr><td>{e(s.tag)}</td><td>{_number(s.low)}</td><td>{_number(s.high)}</td>"
                f"<td>{_number(s.last)}</td><td>{e(s.unit)}</td><td>{s.rows}</td>"
                f"<td>{e(s.worst_quality)}</td></tr>"
                for s in summaries
            )
            parts.append(
                f"<h3>{e(scored.response.label)}: +{scored.onset_s / 60.0:.1f} min, "
                f"{window_s:.0f} s</h3>"
                + (
                    "<table class='trace'><tr><th>tag</th><th>lowest</th><th>highest</th>"
                    f"<th>last</th><th>unit</th><th>changes kept</th><th>worst quality</th></tr>"
                    f"{rows}</table>"
                    if rows
                    else "<p>no involved tag in the history</p>"
                )
            )
    finally:
        reader.close()
    return "".join(parts) or "<p>no response had an onset</p>"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
