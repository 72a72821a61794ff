"""Pad-wide facts that are padctl's own, not a PLC's: the count's phase, for interlocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from padctl.plant import Quality, Sample

FLAGS = {
    "terminal_count": "the countdown is in its automatic terminal count",
    "count_active": "a countdown is running (counting, holding or in terminal count)",
}
_FLAG_CONDITION = re.compile(r"^\s*@([a-z_]+)\s*==\s*(true|false)\s*$")


@dataclass
class PadContext:
    """Flags the countdown sets and interlocks read, as `@flag == true` conditions."""

    flags: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(FLAGS, False))

    def set(self, flag: str, value: bool) -> None:
        if flag not in FLAGS:
            raise KeyError(f"no pad context flag {flag!r} (known: {', '.join(FLAGS)})")
        self.flags[flag] = value

    def sample(self, flag: str, now_s: float) -> Sample:
        """A flag as a GOOD sample, so conditions judge it like any tag."""
        return Sample(
            tag=f"@{flag}",
            value=self.flags[flag],
            quality=Quality.GOOD,
            t_source_s=now_s,
            t_received_s=now_s,
        )


def parse_flag(text: str) -> tuple[str, bool] | None:
    """(`flag`, expected) for an `@flag == true|false` condition; None for a tag condition."""
    match = _FLAG_CONDITION.match(text)
    if match is None:
        if text.strip().startswith("@"):
            raise ValueError(f"condition {text!r}: a flag compares only as '@flag == true|false'")
        return None
    flag = match.group(1)
    if flag not in FLAGS:
        raise ValueError(f"condition {text!r}: no pad context flag {flag!r}")
    return flag, match.group(2) == "true"
