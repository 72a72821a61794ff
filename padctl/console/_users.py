"""Console users: names, roles, positions and argon2 password hashes, kept in a YAML file."""

from __future__ import annotations

import enum
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from padctl.yaml_lines import DataFileError, load_yaml_with_lines

DEFAULT_USERS_FILE = Path("padctl-users.yaml")
MAX_USER_NAME = 32
_NAME = re.compile(rf"^[a-z][a-z0-9_.-]{{0,{MAX_USER_NAME - 1}}}$")
PROPELLANT_SUBSYSTEMS = frozenset(
    {"lox_loading", "kerosene_loading", "gas_supply", "thermal_conditioning"}
)


class Role(enum.StrEnum):
    VIEWER = "viewer"
    SUBSYSTEM_OPERATOR = "subsystem_operator"
    TEST_CONDUCTOR = "test_conductor"
    SAFETY_OFFICER = "safety_officer"
    ADMIN = "admin"
    INSTRUCTOR = "instructor"  # runs a training run (padctl train): pause, rate, faults


class UsersError(Exception):
    """A users file or a user entry that cannot be used; the message names what is wrong."""


@dataclass(frozen=True)
class User:
    """One console user as the server knows them (never carries the password)."""

    name: str
    role: Role
    subsystems: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role.value,
            "subsystems": list(self.subsystems),
            "positions": list(self.positions),
        }


@dataclass
class UserRecord:
    user: User
    password_hash: str


def default_positions(role: Role, subsystems: tuple[str, ...]) -> tuple[str, ...]:
    """The GO/NO-GO poll positions a role answers for unless the users file says otherwise."""
    if role is Role.TEST_CONDUCTOR:
        return ("test_conductor",)
    if role is Role.SAFETY_OFFICER:
        return ("safety",)
    if role is Role.SUBSYSTEM_OPERATOR:
        if any(name in PROPELLANT_SUBSYSTEMS for name in subsystems):
            return ("propellants",)
        return ("pad_systems",)
    return ()


@dataclass
class UsersFile:
    """The users file: load, change, save (atomically), and check a password."""

    path: Path
    records: dict[str, UserRecord] = field(default_factory=dict)
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    _dummy: str | None = field(default=None, repr=False)

    @classmethod
    def load(cls, path: Path, *, hasher: PasswordHasher | None = None) -> UsersFile:
        """Read `path`; a missing file is an empty one. UsersError naming the bad entry."""
        users = cls(path=path, hasher=hasher or PasswordHasher())
        if not path.exists():
            return users
        try:
            document = load_yaml_with_lines(path)
        except DataFileError as error:
            raise UsersError(str(error)) from None
        entries = document.data.get("users")
        if not isinstance(entries, dict):
            raise UsersError(
                f"{path}:{document.line_of(('users',))}: users: expected a mapping "
                "'users: {NAME: {role: ...}}'"
            )
        for name, entry in entries.items():
            users.records[str(name)] = _record(path, str(name), entry)
        return users

    def save(self) -> None:
        """Write the file atomically, readable by its owner only."""
        data = {
            "users": {
                name: {
                    "role": record.user.role.value,
                    "subsystems": list(record.user.subsystems),
                    "positions": list(record.user.positions),
                    "password": record.password_hash,
                }
                for name, record in sorted(self.records.items())
            }
        }
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".users-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def add(
        self,
        name: str,
        *,
        role: Role,
        password: str,
        subsystems: tuple[str, ...] = (),
        positions: tuple[str, ...] | None = None,
        known_subsystems: tuple[str, ...] | None = None,
    ) -> User:
        """Add or replace a user; UsersError naming what is wrong, nothing changed."""
        if not _NAME.fullmatch(name):
            raise UsersError(
                f"user name {name!r}: use 1-32 lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter"
            )
        if len(password) < 8:
            raise UsersError(f"user {name}: the password must have at least 8 characters")
        if role is Role.SUBSYSTEM_OPERATOR and not subsystems:
            raise UsersError(f"user {name}: a subsystem_operator needs --subsystems")
        if role is not Role.SUBSYSTEM_OPERATOR and subsystems:
            raise UsersError(f"user {name}: only a subsystem_operator has subsystems")
        if known_subsystems is not None:
            unknown = [s for s in subsystems if s not in known_subsystems]
            if unknown:
                raise UsersError(
                    f"user {name}: unknown subsystem(s) {', '.join(unknown)} "
                    f"(known: {', '.join(known_subsystems)})"
                )
        user = User(
            name=name,
            role=role,
            subsystems=tuple(subsystems),
            positions=default_positions(role, subsystems) if positions is None else positions,
        )
        self.records[name] = UserRecord(user, self.hasher.hash(password))
        return user

    def remove(self, name: str) -> None:
        if name not in self.records:
            raise UsersError(f"no user {name!r} in {self.path}")
        del self.records[name]

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash("not the password of anyone")
        return self._dummy

    def users(self) -> list[User]:
        return [record.user for _, record in sorted(self.records.items())]

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password is theirs; None otherwise (unknown name or wrong password)."""
        record = self.records.get(name)
        if record is None:
            # Spend the same effort for an unknown name, so timing does not tell names apart.
            try:
                self.hasher.verify(self._dummy_hash(), password)
            except VerificationError:
                pass
            return None
        try:
            self.hasher.verify(record.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(record.password_hash):
            self.records[name] = replace(record, password_hash=self.hasher.hash(password))
        return record.user


def _record(path: Path, name: str, entry: object) -> UserRecord:
    where = f"{path}: user {name}"
    if not isinstance(entry, dict):
        raise UsersError(f"{where}: expected a mapping with role and password")
    try:
        role = Role(str(entry.get("role")))
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise UsersError(f"{where}: role {entry.get('role')!r} is not one of {known}") from None
    password = entry.get("password")
    if not isinstance(password, str) or not password.startswith("$argon2"):
        raise UsersError(f"{where}: password must be an argon2 hash")
    subsystems = _names(entry.get("subsystems"), f"{where}: subsystems")
    positions_raw = entry.get("positions")
    positions = (
        default_positions(role, subsystems)
        if positions_raw is None
        else _names(positions_raw, f"{where}: positions")
    )
    return UserRecord(User(name, role, subsystems, positions), password)


def _names(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsersError(f"{where}: expected a list of names")
    return tuple(value)
