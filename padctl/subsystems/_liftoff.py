"""Liftoff, as the pad senses it: the vehicle's liftoff contacts, voted 2 of 3."""

from __future__ import annotations

from collections.abc import Callable

from padctl.plant import Sample

LIFTOFF_CONTACT_TAGS = ("VEH-LIFTOFF-1", "VEH-LIFTOFF-2", "VEH-LIFTOFF-3")
LIFTOFF_VOTE = 2  # contacts made, on GOOD data, that mean liftoff


def liftoff_contacts_made(read: Callable[[str], Sample]) -> list[str]:
    """The liftoff contacts made now, on GOOD data only."""
    made = []
    for tag in LIFTOFF_CONTACT_TAGS:
        sample = read(tag)
        if sample.value is True and sample.is_good:
            made.append(tag)
    return made
