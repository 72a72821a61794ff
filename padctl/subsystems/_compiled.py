"""A subsystem specification checked against a pad definition, ready to run."""

from __future__ import annotations

from dataclasses import dataclass

from padctl.definition import Actuator, PadDefinition
from padctl.plant import WriteRefused
from padctl.plant._plant import check_write
from padctl.procedure import Condition, ConditionError, parse_condition
from padctl.subsystems._automatic import CompiledRule
from padctl.subsystems._context import parse_flag
from padctl.subsystems._errors import SpecError
from padctl.subsystems._spec import FAULT, CommandSpec, Interlock, SubsystemSpec, Writes


@dataclass(frozen=True)
class CompiledCommand:
    spec: CommandSpec
    permissives: tuple[tuple[Interlock, Condition], ...]
    feedback: tuple[Condition, ...]
    timeout_s: float


@dataclass(frozen=True)
class CompiledSubsystem:
    spec: SubsystemSpec
    commands: dict[str, CompiledCommand]
    safe_feedback: tuple[Condition, ...]
    safe_timeout_s: float
    actuators: tuple[Actuator, ...]
    recognise: tuple[tuple[str, tuple[Condition, ...]], ...]
    automatic: tuple[CompiledRule, ...] = ()


def compile_spec(spec: SubsystemSpec, definition: PadDefinition) -> CompiledSubsystem:
    """Check every tag, write, state and time limit a spec names; SpecError listing problems."""
    problems: list[str] = []

    def conditions(texts: tuple[str, ...], where: str) -> tuple[Condition, ...]:
        parsed = []
        for text in texts:
            try:
                flag = parse_flag(text)
                if flag is not None:
                    parsed.append(Condition(tag=f"@{flag[0]}", op="==", value=flag[1], text=text))
                else:
                    parsed.append(parse_condition(text, definition))
            except (ConditionError, ValueError) as error:
                problems.append(f"{where}: {error}")
        return tuple(parsed)

    def writes(items: Writes, where: str) -> None:
        for tag, value in items:
            try:
                check_write(definition, tag, value)
            except WriteRefused as error:
                problems.append(f"{where}: {error}")

    def timeout(name: str, where: str) -> float:
        if name in definition.timeouts_s:
            return definition.timeouts_s[name]
        try:
            return definition.actuator(name).timeout_s
        except KeyError:
            problems.append(f"{where}: no timeout or actuator {name!r} in the pad definition")
            return 1.0

    names = {state.name for state in spec.states}
    if FAULT not in names:
        problems.append(f"states {spec.states.__name__} have no {FAULT} member")
    commands: dict[str, CompiledCommand] = {}
    for command in spec.commands:
        where = f"command {command.name}"
        if command.name in commands:
            problems.append(f"{where}: defined twice")
        for state in (*command.source, command.dest, *([command.via] if command.via else [])):
            if state.name not in names:
                problems.append(f"{where}: state {state!r} is not one of {spec.states.__name__}")
        writes(command.writes, where)
        writes(command.after, where)
        permissives = tuple(
            (interlock, condition)
            for interlock, condition in zip(
                command.permissives,
                conditions(tuple(i.condition for i in command.permissives), where),
                strict=False,
            )
        )
        commands[command.name] = CompiledCommand(
            spec=command,
            permissives=permissives,
            feedback=conditions(command.feedback, where),
            timeout_s=timeout(command.timeout, where) if command.feedback else 0.0,
        )
    writes(spec.safe_writes, "safing")
    actuators = []
    for name in spec.actuators:
        try:
            actuators.append(definition.actuator(name))
        except KeyError as error:
            problems.append(f"actuators: {error.args[0]}")
    automatic = []
    for rule in spec.automatic:
        where = f"automatic rule {rule.name!r}"
        if rule.command not in commands:
            problems.append(f"{where}: no command {rule.command!r}")
            continue
        states = rule.in_states or spec.command(rule.command).source
        for state in states:
            if state.name not in names:
                problems.append(f"{where}: state {state!r} is not one of {spec.states.__name__}")
        votes = []
        for vote in rule.when:
            if not 1 <= vote.count <= len(vote.conditions):
                problems.append(
                    f"{where}: {vote.count} of {len(vote.conditions)} conditions is impossible"
                )
            votes.append((conditions(vote.conditions, where), vote.count))
        if not votes:
            problems.append(f"{where}: a rule needs a trigger (when)")
        automatic.append(
            CompiledRule(rule=rule, votes=tuple(votes), states=frozenset(s.name for s in states))
        )
    compiled = CompiledSubsystem(
        spec=spec,
        commands=commands,
        safe_feedback=conditions(spec.safe_feedback, "safing"),
        safe_timeout_s=timeout(spec.safe_timeout, "safing"),
        actuators=tuple(actuators),
        recognise=tuple(
            (state.name, conditions(texts, f"recognise {state.name}"))
            for state, texts in spec.recognise
        ),
        automatic=tuple(automatic),
    )
    if problems:
        raise SpecError(spec.name, problems)
    return compiled
