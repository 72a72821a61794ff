"""One rule for what a tag may be written with: true or false for a bool tag, a finite number
(never a bool) for any other. The allow-list check and both codecs ask it."""

from __future__ import annotations

import math

from padctl.definition import Tag, TagType
from padctl.plant._errors import WriteRefused
from padctl.plant._sample import TagValue


def checked_kind(tag: Tag, value: object) -> TagValue:
    """`value` if it is of `tag`'s kind; WriteRefused naming what was wrong if not."""
    if tag.type is TagType.BOOL:
        if not isinstance(value, bool):
            raise WriteRefused(tag.name, f"expected true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WriteRefused(
            tag.name, f"expected a number in {tag.unit} ({tag.type.value}), got {value!r}"
        )
    if not math.isfinite(value):
        raise WriteRefused(tag.name, f"value {value!r} is not a finite number")
    return value
