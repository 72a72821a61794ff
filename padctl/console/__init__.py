"""The operator console server: login, roles and authority, two-step commands, live state."""

from padctl.console._app import create_app
from padctl.console._arming import DEFAULT_ARM_TIMEOUT_WALL_S
from padctl.console._auth import SESSION_COOKIE, SessionPolicy
from padctl.console._catalogue import Arg, Arming, Authority, Catalogue, ConsoleCommand, Fresh
from padctl.console._command_table import CATALOGUE
from padctl.console._commands import Injector
from padctl.console._console import (
    BRUTE_FORCE_ALARM_ID,
    STATIC_DIR,
    Console,
    ConsoleConfig,
    ConsoleSource,
    ReadOnlyHandle,
    StationHandle,
    StationSource,
)
from padctl.console._history_query import HistoryQuery, HistoryReading
from padctl.console._http_guard import WILDCARD_HOSTS, served_hosts
from padctl.console._listen import console_server, console_url, listening_socket
from padctl.console._read_only import READ_ONLY
from padctl.console._state import PROTOCOL_VERSION, ConsoleSettings
from padctl.console._users import (
    DEFAULT_USERS_FILE,
    Role,
    User,
    UsersError,
    UsersFile,
    default_positions,
)
from padctl.console._view import ConsoleView

__all__ = [
    "BRUTE_FORCE_ALARM_ID",
    "CATALOGUE",
    "DEFAULT_ARM_TIMEOUT_WALL_S",
    "DEFAULT_USERS_FILE",
    "PROTOCOL_VERSION",
    "READ_ONLY",
    "SESSION_COOKIE",
    "STATIC_DIR",
    "WILDCARD_HOSTS",
    "Arg",
    "Arming",
    "Authority",
    "Catalogue",
    "Console",
    "ConsoleCommand",
    "ConsoleConfig",
    "ConsoleSettings",
    "ConsoleSource",
    "ConsoleView",
    "Fresh",
    "HistoryQuery",
    "HistoryReading",
    "Injector",
    "ReadOnlyHandle",
    "Role",
    "SessionPolicy",
    "StationHandle",
    "StationSource",
    "User",
    "UsersError",
    "UsersFile",
    "console_server",
    "console_url",
    "create_app",
    "default_positions",
    "listening_socket",
    "served_hosts",
]
