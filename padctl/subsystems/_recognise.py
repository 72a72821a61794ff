"""Start-up: the state a subsystem takes up is the one the plant shows on GOOD data."""

from __future__ import annotations

from collections.abc import Callable

from padctl.plant import Plant
from padctl.procedure import Condition
from padctl.subsystems._compiled import CompiledSubsystem
from padctl.subsystems._spec import FAULT

# Wall seconds start-up waits for GOOD data to recognise the plant's state from.
RECOGNISE_FRESH_WALL_S = 5.0


class StateRecognition:
    """Recognises a subsystem's state from its `recognise` table: the first entry whose
    conditions all hold. None holding is FAULT, never an assumed safe state."""

    def __init__(
        self,
        *,
        compiled: CompiledSubsystem,
        plant: Plant,
        holds: Callable[[Condition], bool],
        describe: Callable[[Condition], str],
    ) -> None:
        self._compiled = compiled
        self._plant = plant
        self._holds = holds
        self._describe = describe
        tags = {c.tag for _, rules in compiled.recognise for c in rules}
        self._tags = {tag for tag in tags if not tag.startswith("@")}

    async def wait_for_good_data(self, wait_wall_s: float) -> bool:
        """Wait (at most `wait_wall_s`) until every tag the table reads is GOOD."""
        return await self._plant.table.wait_for(
            lambda _t: all(self._plant.read(tag).is_good for tag in self._tags),
            timeout_s=0.0,
            grace_wall_s=wait_wall_s,
        )

    def recognise(self) -> tuple[str | None, str]:
        """(the state the plant shows, "") or (FAULT, what each state lacked); (None, "")
        when the subsystem recognises nothing (it starts in its initial state)."""
        recognise = self._compiled.recognise
        for state, conditions in recognise:
            if conditions and all(self._holds(c) for c in conditions):
                return state, ""
        if not recognise:
            return None, ""
        lacking = [
            f"{state}: " + "; ".join(self._describe(c) for c in rules if not self._holds(c))
            for state, rules in recognise
        ]
        return FAULT, "plant state not recognised at start-up (" + " | ".join(lacking) + ")"
