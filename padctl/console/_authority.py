"""Who may give a command: its roles (the catalogue's), and per-subsystem authority (one holder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from padctl.console._catalogue import Authority, ConsoleCommand, Refusal
from padctl.console._users import Role, User


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
    user: User, command: ConsoleCommand, args: dict[str, Any], board: AuthorityBoard
) -> Refusal | None:
    """The role and authority check of one command (arguments already validated)."""
    if user.role not in command.roles:
        allowed = ", ".join(sorted(role.value for role in command.roles))
        return Refusal(
            "forbidden", f"{command.name} is for {allowed}; {user.name} is {user.role.value}"
        )
    if command.own_position and args["position"] not in user.positions:
        mine = ", ".join(user.positions) or "none"
        return Refusal(
            "forbidden",
            f"{user.name} answers for {mine}, not {args['position']}: each position answers "
            "for itself",
        )
    if command.authority is Authority.HOLDER or (
        command.authority is Authority.HOLDER_IF_OPERATOR and user.role is Role.SUBSYSTEM_OPERATOR
    ):
        subsystem = args["subsystem"]
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
