"""Who may give which command: roles as a table, and per-subsystem authority (one holder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from padctl.console._users import Role, User

R = Role
_CREW = frozenset({R.SUBSYSTEM_OPERATOR, R.TEST_CONDUCTOR, R.SAFETY_OFFICER})
_EVERYONE = frozenset(Role)

# The command classes and the roles that may give them (before authority, state and data).
PERMISSIONS: dict[str, frozenset[Role]] = {
    "count.start": frozenset({R.TEST_CONDUCTOR}),
    "count.hold": frozenset({R.TEST_CONDUCTOR}),
    "count.resume": frozenset({R.TEST_CONDUCTOR}),
    "count.recycle": frozenset({R.TEST_CONDUCTOR}),
    "count.scrub": frozenset({R.TEST_CONDUCTOR}),
    "count.abort": frozenset({R.TEST_CONDUCTOR, R.SAFETY_OFFICER}),
    "count.poll": _CREW,  # and only for the user's own positions
    "subsystem.command": frozenset({R.SUBSYSTEM_OPERATOR}),  # holding authority
    "subsystem.safe": _CREW,  # an operator only holding authority
    "subsystem.mode": frozenset({R.SUBSYSTEM_OPERATOR}),  # holding authority
    "subsystem.reset": frozenset({R.SUBSYSTEM_OPERATOR}),  # holding authority
    "authority.take": frozenset({R.SUBSYSTEM_OPERATOR}),  # for subsystems in their list
    "authority.release": frozenset({R.SUBSYSTEM_OPERATOR, R.ADMIN}),  # holder; admin forces
    "alarm.acknowledge": _CREW,
    "alarm.shelve": _CREW,
    "alarm.unshelve": _CREW,
    "journal.query": _EVERYONE,
    "arm.confirm": _EVERYONE,  # who may confirm is decided by the arm itself
    "arm.cancel": _EVERYONE,  # the user who armed it
    "sim.inject": frozenset({R.ADMIN}),
    # An instructor's controls of a training run (padctl train; padctl.console._instructor):
    "train.status": frozenset({R.INSTRUCTOR}),
    "train.pause": frozenset({R.INSTRUCTOR}),
    "train.resume": frozenset({R.INSTRUCTOR}),
    "train.rate": frozenset({R.INSTRUCTOR}),
    "train.inject": frozenset({R.INSTRUCTOR}),
    "train.jump": frozenset({R.INSTRUCTOR}),
    "train.end": frozenset({R.INSTRUCTOR}),
    "ping": _EVERYONE,
}
NEEDS_AUTHORITY = frozenset({"subsystem.command", "subsystem.mode", "subsystem.reset"})


@dataclass(frozen=True)
class Refusal:
    """Why a command is not carried out: a code for programs and a reason for people."""

    code: str
    reason: str


def permissions_table() -> dict[str, list[str]]:
    """PERMISSIONS as JSON data, for consoles to grey out what a user may not do."""
    return {command: sorted(role.value for role in roles) for command, roles in PERMISSIONS.items()}


@dataclass
class AuthorityBoard:
    """Authority over each subsystem: held by at most one user, taken and released explicitly."""

    subsystems: tuple[str, ...]
    holders: dict[str, str] = field(default_factory=dict)

    def holder(self, subsystem: str) -> str | None:
        return self.holders.get(subsystem)

    def take(self, subsystem: str, user: User) -> Refusal | None:
        if subsystem not in user.subsystems:
            return Refusal(
                "forbidden",
                f"{user.name} is not an operator of {subsystem} "
                f"(theirs: {', '.join(user.subsystems) or 'none'})",
            )
        holder = self.holders.get(subsystem)
        if holder == user.name:
            return None
        if holder is not None:
            return Refusal(
                "no_authority", f"{holder} holds authority over {subsystem}: they must release it"
            )
        self.holders[subsystem] = user.name
        return None

    def release(self, subsystem: str, user: User) -> tuple[Refusal | None, str | None]:
        """(refusal, the user whose authority ended)."""
        holder = self.holders.get(subsystem)
        if holder is None:
            return Refusal("no_authority", f"nobody holds authority over {subsystem}"), None
        if holder != user.name and user.role is not Role.ADMIN:
            return Refusal(
                "no_authority", f"{holder} holds authority over {subsystem}, not {user.name}"
            ), None
        del self.holders[subsystem]
        return None, holder

    def release_all(self, name: str) -> list[str]:
        """End every authority `name` holds; the subsystems released."""
        released = [s for s, holder in self.holders.items() if holder == name]
        for subsystem in released:
            del self.holders[subsystem]
        return released


def authorize(
    user: User, command: str, args: dict[str, Any], board: AuthorityBoard
) -> Refusal | None:
    """The role and authority check of one command (arguments already validated)."""
    roles = PERMISSIONS.get(command)
    if roles is None:
        return Refusal("bad_request", f"unknown command {command!r}")
    if user.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        return Refusal("forbidden", f"{command} is for {allowed}; {user.name} is {user.role.value}")
    subsystem = args.get("subsystem")
    if command == "count.poll" and args["position"] not in user.positions:
        mine = ", ".join(user.positions) or "none"
        return Refusal(
            "forbidden",
            f"{user.name} answers for {mine}, not {args['position']}: each position answers "
            "for itself",
        )
    if command in NEEDS_AUTHORITY or (
        command == "subsystem.safe" and user.role is Role.SUBSYSTEM_OPERATOR
    ):
        assert isinstance(subsystem, str)
        holder = board.holder(subsystem)
        if holder != user.name:
            who = f"{holder} holds it" if holder else "nobody holds it: take it first"
            return Refusal("no_authority", f"{user.name} has no authority over {subsystem} ({who})")
    return None


def qualified_for(user: User, command: str, args: dict[str, Any]) -> bool:
    """Whether `user` could give (or concur with) `command` by role, leaving authority aside."""
    if user.role in (Role.TEST_CONDUCTOR, Role.SAFETY_OFFICER):
        return True
    if user.role is Role.SUBSYSTEM_OPERATOR and command.startswith("subsystem."):
        return args.get("subsystem") in user.subsystems
    return False


def qualified_labels(command: str, args: dict[str, Any]) -> list[str]:
    """Who may be the second person for a command, in words for the consoles."""
    labels = ["test_conductor", "safety_officer"]
    if command.startswith("subsystem."):
        labels.append(f"subsystem_operator:{args.get('subsystem')}")
    return labels
