"""The after-action report of a training run: an HTML page with PNG plots on one time axis.

- timeline.png: the T clock against the run's time, with holds, cutoffs and the terminal
  count shaded, and the faults' onsets and checkpoint jumps marked;
- tags.png: the key tags of the faulted subsystem, with their launch commit limits;
- events.png: alarms (raised to acknowledged) and the team's actions and refusals;
- report.html: the score table, what else the team did, and the three plots.

Times are minutes of pad clock since the run's start. Plots are drawn with matplotlib's
object API on the Agg canvas (no display, no global pyplot state), on a worker thread when
drawn from asyncio code (`draw_report`): a second or more of plotting never stalls the loop.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from padctl.countdown import Criterion, format_t_time
from padctl.journal import JournalEntry
from padctl.off_loop import OffLoopWorker
from padctl.training._plan import TrainingPlan
from padctl.training._recorder import Recording
from padctl.training._scoring import Note, RunScore, Status
from padctl.training._traces import traces_html

if TYPE_CHECKING:  # matplotlib is imported when a report is drawn, not with padctl
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STATE_COLOURS = {
    "HOLDING": "#f5d76e",
    "TERMINAL_COUNT": "#b3d4f5",
    "CUTOFF": "#e74c3c",
    "SAFING": "#f1948a",
    "RECYCLING": "#c39bd3",
    "SCRUBBED": "#aab7b8",
    "LIFTOFF": "#82e0aa",
    "SECURED": "#d5dbdb",
}
STATUS_COLOURS = {
    Status.DONE: "#1e8449",
    Status.LATE: "#b9770e",
    Status.MISSED: "#c0392b",
    Status.PENDING: "#7f8c8d",
    Status.NOT_REACHED: "#7f8c8d",
}
MAX_TAG_PLOTS = 6


@dataclass(frozen=True)
class ReportInputs:
    plan: TrainingPlan
    score: RunScore
    recording: Recording
    entries: Sequence[JournalEntry]
    criteria: tuple[Criterion, ...]
    result: str
    end_reason: str
    trainee: str
    tag_history: Path | None = None  # the tags' history the run kept (None: none)
    plot_tags: tuple[str, ...] = ()


async def draw_report(folder: Path, inputs: ReportInputs) -> Path:
    """`write_report` on a worker thread of its own; the HTML file's path."""
    return await OffLoopWorker("padctl-training-report").run(write_report, folder, inputs)


def write_report(folder: Path, inputs: ReportInputs) -> Path:
    """Write report.html and its PNGs into `folder`; the HTML file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    start_s = inputs.score.start_clock_s
    end_min = max(inputs.score.duration_s / 60.0, 0.1)
    plots = {
        "timeline.png": _timeline(inputs, start_s, end_min),
        "tags.png": _tags(inputs, start_s, end_min),
        "events.png": _events(inputs, start_s, end_min),
    }
    for name, figure in plots.items():
        figure.savefig(folder / name, dpi=110)
    page = folder / "report.html"
    page.write_text(_html(inputs, list(plots)), encoding="utf-8")
    return page


def _minutes(times_s: Sequence[float], start_s: float) -> list[float]:
    return [(t - start_s) / 60.0 for t in times_s]


def _mark_faults(axes: Axes, inputs: ReportInputs, *, label: bool) -> None:
    for fault_id, onset_s in inputs.score.onsets.items():
        axes.axvline(onset_s / 60.0, color="#c0392b", linestyle="--", linewidth=1.2)
        if label:
            axes.annotate(
                f"fault {fault_id}",
                (onset_s / 60.0, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -12),
                textcoords="offset points",
                color="#c0392b",
                fontsize=8,
            )


def _shade_states(axes: Axes, recording: Recording, start_s: float) -> None:
    times = _minutes(recording.times_s, start_s)
    begin = 0
    for index in range(1, len(times) + 1):
        if index == len(times) or recording.states[index] != recording.states[begin]:
            colour = STATE_COLOURS.get(recording.states[begin])
            if colour is not None and index - 1 > begin:
                axes.axvspan(times[begin], times[index - 1], color=colour, alpha=0.45, lw=0)
            begin = index


def _timeline(inputs: ReportInputs, start_s: float, end_min: float) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.6), layout="constrained")
    axes = figure.add_subplot()
    recording = inputs.recording
    _shade_states(axes, recording, start_s)
    axes.plot(
        _minutes(recording.times_s, start_s),
        [t / 60.0 for t in recording.t_clock_s],
        color="#1b2631",
        linewidth=1.6,
    )
    _mark_faults(axes, inputs, label=True)
    for entry in inputs.entries:
        if entry.kind == "training_jump" and entry.t_clock_s >= start_s:
            axes.axvline((entry.t_clock_s - start_s) / 60.0, color="#8e44ad", linewidth=1.5)
    seen = {state for state in recording.states if state in STATE_COLOURS}
    handles = [
        axes.fill_between([], [], color=STATE_COLOURS[s], alpha=0.45, label=s.lower())
        for s in STATE_COLOURS
        if s in seen
    ]
    if handles:
        axes.legend(handles=handles, loc="lower right", fontsize=8)
    ticks = axes.get_yticks()
    axes.set_yticks(ticks, [format_t_time(t * 60.0).removeprefix("T") for t in ticks])
    axes.set_xlim(0, end_min)
    axes.set_xlabel("run time (minutes of pad clock)")
    axes.set_ylabel("T clock")
    axes.set_title(f"{inputs.plan.title}: the count")
    axes.grid(alpha=0.3)
    return figure


def _tags(inputs: ReportInputs, start_s: float, end_min: float) -> Figure:
    series = [s for s in inputs.recording.series.values() if s.times_s][:MAX_TAG_PLOTS]
    rows = max(1, len(series))
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 1.9 * rows + 0.8), layout="constrained")
    axes_list = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    t_values = inputs.recording.t_clock_s
    t_range = (min(t_values), max(t_values)) if t_values else (0.0, 0.0)
    for axes, one in zip(axes_list, series, strict=False):
        minutes = _minutes(one.times_s, start_s)
        values = [float("nan") if v is None else v for v in one.values]
        style = "steps-post" if one.boolean else "default"
        axes.plot(minutes, values, color="#1f618d", linewidth=1.4, drawstyle=style)
        bad = [m for m, v in zip(minutes, one.values, strict=True) if v is None]
        if bad:
            axes.plot(bad, [0.0] * len(bad), "|", color="#c0392b", label="not GOOD")
            axes.legend(loc="upper left", fontsize=7)
        if one.boolean:
            axes.set_ylim(-0.2, 1.2)
            axes.set_yticks([0, 1], ["false", "true"])
        for criterion in inputs.criteria:
            active = criterion.active_from_s <= t_range[1] and criterion.active_to_s >= t_range[0]
            if one.tag not in criterion.tags or not active:
                continue
            for limit, word in ((criterion.low, "low"), (criterion.high, "high")):
                if limit is not None:
                    axes.axhline(limit, color="#d35400", linestyle=":", linewidth=1.2)
                    axes.annotate(
                        f"{criterion.id} {word} {limit:g}",
                        (1.0, limit),
                        xycoords=("axes fraction", "data"),
                        xytext=(-3, 2 if word == "low" else -9),
                        textcoords="offset points",
                        ha="right",
                        color="#d35400",
                        fontsize=7,
                    )
        _mark_faults(axes, inputs, label=False)
        axes.set_ylabel(f"{one.tag}\n[{one.unit}]", fontsize=8)
        axes.grid(alpha=0.3)
    if not series:
        axes_list[0].text(
            0.5, 0.5, "no tags recorded", ha="center", transform=axes_list[0].transAxes
        )
    axes_list[0].set_title("Key tags, with launch commit limits (dotted) and fault onsets (dashed)")
    axes_list[-1].set_xlim(0, end_min)
    axes_list[-1].set_xlabel("run time (minutes of pad clock)")
    return figure


def _events(inputs: ReportInputs, start_s: float, end_min: float) -> Figure:
    entries = [e for e in inputs.entries if e.t_clock_s >= start_s]
    rows: list[str] = []
    alarms: dict[str, list[tuple[float, float | None, bool]]] = {}
    raised: dict[str, float] = {}
    for entry in entries:
        alarm = str(entry.payload.get("alarm", ""))
        at = (entry.t_clock_s - start_s) / 60.0
        if entry.kind == "alarm_activated":
            raised[alarm] = at
        elif entry.kind in ("alarm_acknowledged", "alarm_shelved") and alarm in raised:
            alarms.setdefault(alarm, []).append((raised.pop(alarm), at, True))
    for alarm, at in raised.items():
        alarms.setdefault(alarm, []).append((at, None, False))
    rows += sorted(alarms)
    team = list(inputs.score.team)
    rows += [f"team: {name}" for name in team]
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 0.45 * max(len(rows), 2) + 1.6), layout="constrained")
    axes = figure.add_subplot()
    for row, alarm in enumerate(sorted(alarms)):
        for begin, end, answered in alarms[alarm]:
            width = (end if end is not None else end_min) - begin
            colour = "#e67e22" if answered else "#c0392b"
            axes.barh(row, max(width, end_min / 400), left=begin, color=colour, height=0.5)
    offset = len(alarms)
    for row, name in enumerate(team, start=offset):
        shown = 0
        for entry in entries:
            if name not in entry.actor.split("+"):
                continue
            at = (entry.t_clock_s - start_s) / 60.0
            if entry.kind == "console_accepted":
                axes.plot(at, row, "o", color="#1e8449", markersize=5)
                label = _action_label(entry.payload)
                if label:
                    shown += 1
                    lift = 5 if shown % 2 else -11  # alternate above and below the marker
                    axes.annotate(
                        label, (at, row), xytext=(2, lift), textcoords="offset points", fontsize=7
                    )
            elif entry.kind == "console_refused":
                axes.plot(at, row, "x", color="#c0392b", markersize=7)
    _mark_faults(axes, inputs, label=False)
    axes.set_yticks(range(len(rows)), rows, fontsize=8)
    axes.set_ylim(-0.8, max(len(rows), 1) - 0.2)
    axes.invert_yaxis()
    axes.set_xlim(0, end_min)
    axes.set_xlabel("run time (minutes of pad clock)")
    axes.set_title(
        "Alarms (orange: raised to acknowledged, red: never acknowledged); "
        "team actions (o accepted, x refused)",
        fontsize=9,
    )
    axes.grid(alpha=0.3, axis="x")
    return figure


def _action_label(payload: dict[str, object]) -> str:
    """A console command in a few words, for the plot ('' for the routine ones)."""
    command = str(payload.get("command", ""))
    args = payload.get("args")
    given = args if isinstance(args, dict) else {}
    subsystem = given.get("subsystem", "")
    if command in ("count.poll", "authority.take", "authority.release", "arm.confirm"):
        return ""
    if command == "subsystem.command":
        return f"{subsystem}.{given.get('name')}"
    if command == "subsystem.mode":
        return f"{subsystem} {given.get('mode')}"
    if command.startswith("subsystem."):
        return f"{command.removeprefix('subsystem.')} {subsystem}"
    if command.startswith("alarm."):
        return f"{command.removeprefix('alarm.')} {given.get('alarm_id')}"
    if command == "count.recycle":
        return f"recycle {given.get('point')}"
    return command


def _html(inputs: ReportInputs, plots: list[str]) -> str:
    score, plan = inputs.score, inputs.plan
    e = html.escape
    rows = []
    for s in score.responses:
        took = "" if s.took_s is None else f"{s.took_s:.0f} s"
        onset = "" if s.onset_s is None else f"+{s.onset_s / 60.0:.1f} min"
        rows.append(
            f"<tr><td>{e(s.response.label)}</td><td>{e(s.response.after)}</td>"
            f"<td>{s.response.within_s:g} s</td><td>{onset}</td><td>{took}</td>"
            f"<td style='color:{STATUS_COLOURS[s.status]};font-weight:bold'>{s.status.value}</td>"
            f"<td>{e(s.by)}</td><td>{e(s.detail)}</td></tr>"
        )
    sections = [
        ("Extra commands (not among the expected responses)", score.extra),
        ("Refused for authority or role", score.wrong_authority),
        ("Other refusals", score.refused),
        ("Alarms never acknowledged", score.ignored_alarms),
    ]
    notes = "".join(
        f"<h3>{e(title)} ({len(items)})</h3>" + _note_list(items) for title, items in sections
    )
    images = "".join(
        f"<p><img src='{name}' alt='{name}' style='max-width:100%'></p>" for name in plots
    )
    faults = "".join(
        f"<li><b>{e(f.id)}</b>: {e(f.label)} ({e(f.trigger_text)})</li>" for f in plan.faults
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Training report: {e(plan.title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:75em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:3px 8px;text-align:left}}
th{{background:#eee}}</style></head><body>
<h1>{e(plan.title)}</h1>
<p>{e(plan.description)}</p>
<p>Scenario <code>{e(plan.name)}</code>, trainee <b>{e(inputs.trainee)}</b>,
run of {score.duration_s / 60.0:.1f} min of pad clock at rate {plan.rate:g};
{score.attempts} attempt(s). Count: {e(inputs.result or "not ended")}.
Run ended: {e(inputs.end_reason)}.</p>
<h2>Score: {score.done} of {len(score.responses)} responses done in time</h2>
<table><tr><th>expected</th><th>after fault</th><th>within</th><th>fault at</th>
<th>took</th><th>result</th><th>by</th><th>detail</th></tr>{"".join(rows)}</table>
<h2>Faults</h2><ul>{faults}</ul>
<h2>Tag traces over each response window (from the tag history)</h2>
{traces_html(plan, score, inputs.tag_history, inputs.plot_tags)}
<h2>What else the team did</h2>{notes}
<h2>Plots</h2>{images}
</body></html>
"""


def _note_list(items: Sequence[Note]) -> str:
    if not items:
        return "<p>none</p>"
    lines = "".join(
        f"<li>+{n.at_s / 60.0:.1f} min {html.escape(n.actor)}: {html.escape(n.text)}</li>"
        for n in items
    )
    return f"<ul>{lines}</ul>"
