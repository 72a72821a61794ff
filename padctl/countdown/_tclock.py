"""T-times: `T-01:23:45`, `T+00:00:10`, `T-0`, written as text in sequence files."""

from __future__ import annotations

import re

_T_TIME = re.compile(r"^T([+-])(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d+))?$|^T[+-]?0$")


def parse_t_time(text: str) -> float:
    """Seconds relative to T-0 (negative before liftoff): `T-00:10:00` -> -600.0."""
    value = str(text).strip()
    if value in ("T-0", "T+0", "T0"):
        return 0.0
    match = _T_TIME.match(value)
    if match is None or match.group(1) is None:
        raise ValueError(f"{text!r} is not a T-time like T-01:30:00, T-00:00:10 or T+00:00:05")
    sign, hours, minutes, seconds, fraction = match.groups()
    total = float(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))
    if (int(minutes) >= 60 and hours is not None) or int(seconds) >= 60:
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    if fraction:
        total += float("0." + fraction)
    return -float(total) if sign == "-" else float(total)


def format_t_time(seconds: float) -> str:
    """`T-01:23:45` style text for seconds relative to T-0 (whole seconds, rounded toward T-0)."""
    sign = "-" if seconds < 0 else "+"
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"T{sign}{hours:02d}:{minutes:02d}:{secs:02d}"


def format_l_time(seconds: float, *, decimals: int = 0) -> str:
    """`L+01:23:45` style text for seconds since the count started: whole seconds (cut, not
    rounded), or `L+01:23:45.67` rounded to `decimals` digits of the second."""
    seconds = max(0.0, seconds)
    if decimals > 0:
        whole, fraction = divmod(round(seconds * 10**decimals), 10**decimals)
    else:
        whole, fraction = int(seconds), 0
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"L+{hours:02d}:{minutes:02d}:{secs:02d}"
    return text + f".{fraction:0{decimals}d}" if decimals > 0 else text


def parse_duration(text: str | float | int) -> float:
    """Seconds from `HH:MM:SS`, `MM:SS` or a number of seconds."""
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"duration {text} must not be negative")
        return float(text)
    parts = str(text).strip().split(":")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not a duration like 00:30:00 or 90") from None
    if len(numbers) > 3 or any(n < 0 for n in numbers):
        raise ValueError(f"{text!r} is not a duration like 00:30:00 or 90")
    total = 0.0
    for number in numbers:
        total = total * 60 + number
    return total
