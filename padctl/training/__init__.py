"""Training runs on the simulated pad: scripted faults, instructor controls, scoring, report.

padctl's side of `padctl train` (docs/training.md): the plan a scenario file becomes, the
trainer that plays it on a station, checkpoints of the whole run, the autopilot team,
scoring from the journal, the after-action report and the history of runs. The simulated
pad itself is passed in (`PadSimulator`, `PadFactory`): padctl never imports simulators.
"""

from padctl.training._autopilot import Autopilot, TeamMember
from padctl.training._checkpoints import (
    CheckpointError,
    PadSimulator,
    StationCheckpoint,
    capture_station,
    file_digest,
    load_checkpoint,
    restore_station,
    save_checkpoint,
    stale_sources,
)
from padctl.training._console import TrainingConsole, open_console
from padctl.training._controls import InstructorControls
from padctl.training._history import DEFAULT_HISTORY_FILE, RunRecord, record_run, runs
from padctl.training._plan import (
    TEAM_ONLY,
    EndWhen,
    ExpectedResponse,
    PlannedFault,
    ResponseKind,
    TrainingPlan,
)
from padctl.training._recorder import Recorder, Recording
from padctl.training._report import ReportInputs, draw_report, write_report
from padctl.training._run import (
    PadFactory,
    RunSetup,
    TrainingOutcome,
    TrainingSession,
    TrainOptions,
    nominal_checkpoints,
    run_training,
)
from padctl.training._run_state import TrainingRefused
from padctl.training._scenario import (
    FaultWords,
    FaultWordsOf,
    Scenario,
    ScenarioError,
    checkpoint_path,
    load_scenario,
    scenario_problems,
)
from padctl.training._scoring import Note, ResponseScore, RunScore, Status, score_run
from padctl.training._trainer import Trainer

__all__ = [
    "DEFAULT_HISTORY_FILE",
    "TEAM_ONLY",
    "Autopilot",
    "CheckpointError",
    "EndWhen",
    "ExpectedResponse",
    "FaultWords",
    "FaultWordsOf",
    "InstructorControls",
    "Note",
    "PadFactory",
    "PadSimulator",
    "PlannedFault",
    "Recorder",
    "Recording",
    "ReportInputs",
    "ResponseKind",
    "ResponseScore",
    "RunRecord",
    "RunScore",
    "RunSetup",
    "Scenario",
    "ScenarioError",
    "StationCheckpoint",
    "Status",
    "TeamMember",
    "TrainOptions",
    "Trainer",
    "TrainingConsole",
    "TrainingOutcome",
    "TrainingPlan",
    "TrainingRefused",
    "TrainingSession",
    "capture_station",
    "checkpoint_path",
    "draw_report",
    "file_digest",
    "load_checkpoint",
    "load_scenario",
    "nominal_checkpoints",
    "open_console",
    "record_run",
    "restore_station",
    "run_training",
    "runs",
    "save_checkpoint",
    "scenario_problems",
    "score_run",
    "stale_sources",
    "write_report",
]
