"""Procedures: reviewable step files of permissives, commands and expected feedback."""

from padctl.procedure._conditions import Condition, ConditionError, parse_condition
from padctl.procedure._files import sequences_dir
from padctl.procedure._model import (
    Procedure,
    ProcedureError,
    Step,
    load_procedure,
    procedure_summary,
)
from padctl.procedure._runner import ProcedureRunner, StepFailed, TimelineEvent

__all__ = [
    "Condition",
    "ConditionError",
    "Procedure",
    "ProcedureError",
    "ProcedureRunner",
    "Step",
    "StepFailed",
    "TimelineEvent",
    "load_procedure",
    "parse_condition",
    "procedure_summary",
    "sequences_dir",
]
