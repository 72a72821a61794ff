"""Two-step commands: arm, then confirm within a time limit; a second person for the worst.

Which commands are armed, and which need a second person, the command catalogue says (and,
for a subsystem command, its spec: `hazardous`, `second_person`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from padctl.console._authority import qualified_for, qualified_labels
from padctl.console._catalogue import Refusal
from padctl.console._users import User

DEFAULT_ARM_TIMEOUT_WALL_S = 10.0

_REMEMBER_ENDED = 200  # ended arms kept to say why a late confirmation is refused


def action_name(command: str, args: dict[str, Any]) -> str:
    """`count.abort`, or `subsystem.name` for a subsystem command (the arming lists' words)."""
    if command == "subsystem.command":
        return f"{args['subsystem']}.{args['name']}"
    return command


@dataclass
class Arm:
    arm_id: str
    command: str
    args: dict[str, Any]
    summary: str
    armed_by: User
    second_person: bool
    expires_wall_s: float  # monotonic wall seconds
    expires_at: float  # UNIX epoch seconds, for consoles

    def describe(self) -> dict[str, Any]:
        return {
            "arm_id": self.arm_id,
            "command": self.command,
            "args": self.args,
            "summary": self.summary,
            "armed_by": self.armed_by.name,
            "second_person": self.second_person,
            "expires_at": self.expires_at,
            "qualified": qualified_labels(self.command, self.args)
            if self.second_person
            else [self.armed_by.name],
        }


@dataclass
class ArmBoard:
    """Pending arms. Times: `wall` monotonic seconds, `epoch` UNIX seconds (both injected)."""

    wall: Callable[[], float]
    epoch: Callable[[], float]
    timeout_wall_s: float = DEFAULT_ARM_TIMEOUT_WALL_S
    pending: dict[str, Arm] = field(default_factory=dict)
    ended: dict[str, str] = field(default_factory=dict)  # arm_id -> why it ended
    version: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def arm(
        self,
        command: str,
        args: dict[str, Any],
        user: User,
        summary: str,
        *,
        second_person: bool,
    ) -> Arm:
        arm = Arm(
            arm_id=f"a-{next(self._ids)}",
            command=command,
            args=dict(args),
            summary=summary,
            armed_by=user,
            second_person=second_person,
            expires_wall_s=self.wall() + self.timeout_wall_s,
            expires_at=self.epoch() + self.timeout_wall_s,
        )
        self.pending[arm.arm_id] = arm
        self.version += 1
        return arm

    def take_for_confirmation(self, arm_id: str, user: User) -> tuple[Arm | None, Refusal | None]:
        """The arm `user` may confirm now (removed from the board), or why not."""
        self.expire()
        arm = self.pending.get(arm_id)
        if arm is None:
            why = self.ended.get(arm_id, "no such arm")
            return None, Refusal("arm", f"arm {arm_id}: {why}; arm the command again")
        if arm.second_person:
            if user.name == arm.armed_by.name:
                return None, Refusal(
                    "arm",
                    f"{arm.summary} needs a second person: {user.name} armed it and may not "
                    "confirm it",
                )
            if not qualified_for(user, arm.command, arm.args):
                return None, Refusal(
                    "arm",
                    f"{user.name} ({user.role.value}) is not qualified to confirm {arm.summary} "
                    f"(qualified: {', '.join(qualified_labels(arm.command, arm.args))})",
                )
        elif user.name != arm.armed_by.name:
            return None, Refusal(
                "arm", f"{arm.summary} was armed by {arm.armed_by.name}: only they confirm it"
            )
        self._end(arm_id, f"confirmed by {user.name}")
        return arm, None

    def cancel(self, arm_id: str, user: User) -> tuple[Arm | None, Refusal | None]:
        self.expire()
        arm = self.pending.get(arm_id)
        if arm is None:
            return None, Refusal("arm", f"arm {arm_id}: {self.ended.get(arm_id, 'no such arm')}")
        if arm.armed_by.name != user.name:
            return None, Refusal(
                "arm", f"arm {arm_id} was armed by {arm.armed_by.name}: only they may cancel it"
            )
        self._end(arm_id, f"cancelled by {user.name}")
        return arm, None

    def expire(self) -> list[Arm]:
        """Drop the arms whose time is up; the ones dropped."""
        now_s = self.wall()
        gone = [arm for arm in self.pending.values() if now_s >= arm.expires_wall_s]
        for arm in gone:
            self._end(arm.arm_id, f"expired ({self.timeout_wall_s:g} s to confirm, not confirmed)")
        return gone

    def drop_user(self, name: str) -> list[Arm]:
        """A user's session ended: their pending arms go with it."""
        gone = [arm for arm in self.pending.values() if arm.armed_by.name == name]
        for arm in gone:
            self._end(arm.arm_id, f"{name}'s session ended")
        return gone

    def describe(self) -> list[dict[str, Any]]:
        return [arm.describe() for arm in self.pending.values()]

    def _end(self, arm_id: str, why: str) -> None:
        self.pending.pop(arm_id, None)
        self.ended[arm_id] = why
        while len(self.ended) > _REMEMBER_ENDED:
            self.ended.pop(next(iter(self.ended)))
        self.version += 1
