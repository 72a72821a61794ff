"""The shape every pad area shares: actuators, commands in, measurements out."""

from __future__ import annotations

from simulators.physics._actuators import Actuator
from simulators.physics._common import CommandTable, Outputs


class Area:
    """A pad area: its actuators' tags plus the area's own measurements and commands."""

    def actuators(self) -> list[Actuator]:
        """Everything in the area that moves (the targets of actuator faults)."""
        return []

    def commands(self) -> CommandTable:
        """Writable tag -> setter, for the actuators and the area's own commands."""
        table: CommandTable = {}
        for actuator in self.actuators():
            table.update(actuator.commands())
        table.update(self._own_commands())
        return table

    def outputs(self, out: Outputs) -> None:
        """Write every measured tag of the area into `out`."""
        for actuator in self.actuators():
            actuator.outputs(out)
        self._measure(out)

    def _own_commands(self) -> CommandTable:
        return {}

    def _measure(self, out: Outputs) -> None:
        raise NotImplementedError
