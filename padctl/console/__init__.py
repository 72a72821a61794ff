"""The operator console server: login, roles and authority, two-step commands, live state."""

from padctl.console._app import (
    STATIC_DIR,
    Console,
    ConsoleConfig,
    StationHandle,
    StationSource,
    create_app,
)
from padctl.console._arming import DEFAULT_ARM_TIMEOUT_WALL_S, SECOND_PERSON, TWO_STEP_COMMANDS
from padctl.console._auth import SESSION_COOKIE, SessionPolicy
from padctl.console._authority import PERMISSIONS
from padctl.console._commands import Injector
from padctl.console._state import PROTOCOL_VERSION, ConsoleSettings
from padctl.console._users import (
    DEFAULT_USERS_FILE,
    Role,
    User,
    UsersError,
    UsersFile,
    default_positions,
)

__all__ = [
    "DEFAULT_ARM_TIMEOUT_WALL_S",
    "DEFAULT_USERS_FILE",
    "PERMISSIONS",
    "PROTOCOL_VERSION",
    "SECOND_PERSON",
    "SESSION_COOKIE",
    "STATIC_DIR",
    "TWO_STEP_COMMANDS",
    "Console",
    "ConsoleConfig",
    "ConsoleSettings",
    "Injector",
    "Role",
    "SessionPolicy",
    "StationHandle",
    "StationSource",
    "User",
    "UsersError",
    "UsersFile",
    "create_app",
    "default_positions",
]
