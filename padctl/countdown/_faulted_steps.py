"""A faulted step is a decision: the conductor retries it or skips it, with a reason.

An event that stopped the count (a command faulted or was refused, a wait or an expectation
ran out) is kept aside (`EventRunner.faulted`); a resume must say what becomes of it.
"""

from __future__ import annotations

from typing import Literal, get_args

from padctl.countdown._count_record import CountRecord
from padctl.countdown._events import EventRunner, FaultedStep
from padctl.countdown._timeline import CountdownRefused

StepChoice = Literal["retry", "skip"]
STEP_CHOICES: tuple[str, ...] = get_args(StepChoice)


def describe_faulted(steps: list[FaultedStep]) -> str:
    """The faulted steps, by name, with why each stopped the count."""
    return "; ".join(f"step {step.name!r} stopped the count ({step.reason})" for step in steps)


def check_step_choice(faulted: list[FaultedStep], step: str | None, reason: str) -> None:
    """Refuse a resume that does not decide a faulted step, or decides one that is not there."""
    if step is not None and step not in STEP_CHOICES:
        raise CountdownRefused("resume", f"step must be retry or skip, not {step!r}")
    if faulted and step is None:
        raise CountdownRefused(
            "resume", describe_faulted(faulted) + ": choose retry or skip, with a reason"
        )
    if step is not None and not faulted:
        raise CountdownRefused("resume", f"no faulted step to {step}")
    if step is not None and not reason.strip():
        raise CountdownRefused(
            "resume", f"a reason is needed to {step} " + describe_faulted(faulted)
        )


async def decide_faulted_steps(
    events: EventRunner, record: CountRecord, step: StepChoice, *, reason: str, actor: str
) -> None:
    """Retry or skip every faulted step, each journaled with who and why."""
    decided = events.retry_faulted() if step == "retry" else events.skip_faulted()
    for faulted in decided:
        payload = {
            "event": faulted.name,
            "fault": faulted.reason,
            "not_done": faulted.not_done,
            "reason": reason,
        }
        words = "retried" if step == "retry" else "skipped"
        await record.journal(f"step_{words}", payload, actor)
        left = f" (not done: {', '.join(faulted.not_done)})" if faulted.not_done else ""
        record.emit(step.upper(), f"{faulted.name} {words} by {actor}: {reason}{left}")
