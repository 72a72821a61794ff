"""Pad subsystems: one state machine per pad system, commands proven by feedback."""

from padctl.subsystems._alarms import SubsystemAlarm, subsystem_alarm_id, subsystem_of_alarm
from padctl.subsystems._automatic import AutomaticRules
from padctl.subsystems._checkout import CheckoutReport, StrokeResult
from padctl.subsystems._compiled import CompiledSubsystem, compile_spec
from padctl.subsystems._context import FLAGS, PadContext
from padctl.subsystems._diagram import mermaid, subsystems_markdown
from padctl.subsystems._errors import CommandRefused, SpecError, SubsystemError
from padctl.subsystems._liftoff import LIFTOFF_CONTACT_TAGS, LIFTOFF_VOTE, liftoff_contacts_made
from padctl.subsystems._registry import ALL_SPECS, build_subsystems, compile_all
from padctl.subsystems._spec import (
    FAULT,
    AutomaticRule,
    CommandSpec,
    Interlock,
    Mode,
    Origin,
    SubsystemSpec,
    Vote,
)
from padctl.subsystems._subsystem import Subsystem
from padctl.subsystems._ticket import CommandTicket

__all__ = [
    "ALL_SPECS",
    "FAULT",
    "FLAGS",
    "LIFTOFF_CONTACT_TAGS",
    "LIFTOFF_VOTE",
    "AutomaticRule",
    "AutomaticRules",
    "CheckoutReport",
    "CommandRefused",
    "CommandSpec",
    "CommandTicket",
    "CompiledSubsystem",
    "Interlock",
    "Mode",
    "Origin",
    "PadContext",
    "SpecError",
    "StrokeResult",
    "Subsystem",
    "SubsystemAlarm",
    "SubsystemError",
    "SubsystemSpec",
    "Vote",
    "build_subsystems",
    "compile_all",
    "compile_spec",
    "liftoff_contacts_made",
    "mermaid",
    "subsystem_alarm_id",
    "subsystem_of_alarm",
    "subsystems_markdown",
]
