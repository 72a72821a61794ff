"""Bad input never ends in a traceback: every file and argument padctl takes, broken on purpose.

A corpus of broken files (binary, latin-1, NUL bytes, empty, a directory, missing, malformed
YAML, a list where a mapping belongs) goes to every command that reads one, through the real
command line. Each must exit non-zero with one line that names the file (and the line), says
what is wrong, and shows no traceback. Broken arguments (an unknown `--inject` tag or verb,
a bad T-time, an unknown profile, a bad `--rate`) likewise. Everything here fails while
checking its input: no simulator, PLC connection or server is ever started.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from padctl.cli import app
from padctl.procedure import sequences_dir

SEQUENCES = sequences_dir()
COUNTDOWN = SEQUENCES / "countdown.yaml"
LCC = SEQUENCES / "lcc.yaml"
REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "simulators" / "scenarios" / "pad-fire.yaml"
RIG = REPO / "hil" / "rigs" / "sim-processes.yaml"

# kind -> (file content; None: a directory; absent: no file), line named, what the line says
Content = bytes | None
KINDS: dict[str, tuple[Content | str, int, str]] = {
    "binary": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        1,
        "cannot read: not UTF-8 text (byte 0x89 at offset 0)",
    ),
    "latin-1": (
        "pad: site-45\ndescription: Baïkonour\n".encode("latin-1"),
        2,
        "cannot read: not UTF-8 text (byte 0xef at offset 28)",
    ),
    "empty": (b"", 1, "document: no YAML in the file"),
    "directory": (None, 1, "cannot read: is a directory"),
    "missing": ("absent", 1, "cannot read: No such file or directory"),
    "yaml-error": (b"pad: x\nplcs: [a, b\ntags: []\n", 3, "yaml: expected ',' or ']'"),
    "list": (b"- pad: x\n- plcs: []\n", 1, "expected a mapping of keys to values, found a list"),
}
# only where a pad definition or `validate` reads it: the rest of what the shared loader refuses
MORE_KINDS: dict[str, tuple[Content | str, int, str]] = {
    "nul-bytes": (b"pad: x\nplcs: \x00\x01\n", 2, "binary data, not text (NUL byte at offset 13)"),
    "comments-only": (b"# nothing here\n\n", 1, "document: no YAML in the file"),
    "single-value": (b"just text\n", 1, "found a single value"),
    "two-documents": (b"pad: a\n---\npad: b\n", 2, "yaml: expected a single document"),
    "alias-cycle": (b"pad: &x [*x]\n", 1, "yaml: an alias refers to a value that contains it"),
    "duplicate-key": (b"pad: a\npad: b\n", 2, "yaml: duplicate key 'pad'"),
    "python-tag": (b"pad: !!python/object:os.system x\n", 1, "yaml: could not determine"),
}

Argv = Callable[[str, Path], list[str]]
# every command that reads a data file, as argv for a broken file (and a scratch folder)
FILE_COMMANDS: dict[str, Argv] = {
    "validate": lambda f, _: ["validate", f],
    "validate --pad": lambda f, _: ["validate", "--pad", f, str(LCC)],
    "read --pad": lambda f, _: ["read", "--pad", f],
    "sim --pad": lambda f, _: ["sim", "--pad", f],
    "subsystems --pad": lambda f, _: ["subsystems", "--pad", f],
    "countdown --pad": lambda f, _: ["countdown", "--dry-run", "--pad", f],
    "countdown --sequence": lambda f, _: ["countdown", "--dry-run", "--sequence", f],
    "countdown --lcc": lambda f, _: ["countdown", "--dry-run", "--lcc", f],
    "countdown --sim --sequence": lambda f, _: ["countdown", "--sim", "--sequence", f],
    "demo --procedure": lambda f, _: ["demo", "--headless", "--procedure", f],
    "train SCENARIO": lambda f, _: ["train", f, "--headless"],
    "train checkpoint SCENARIO": lambda f, _: ["train", "checkpoint", f],
    "hil check RIG": lambda f, _: ["hil", "check", f],
    "hil record RIG": lambda f, out: ["hil", "record", f, "--out", str(out / "rec.jsonl")],
    "hil replay RECORDING": lambda f, _: ["hil", "replay", f],
    "users list --users": lambda f, _: ["users", "list", "--users", f],
    "users remove --users": lambda f, _: ["users", "remove", "eve", "--users", f],
    "serve --users": lambda f, _: ["serve", "--sim", "--users", f],
    "train --users": lambda f, _: ["train", str(SCENARIO), "--users", f],
}
# a recording is JSON lines, not YAML: only what any text file can get wrong applies
RECORDING_KINDS = {"binary", "latin-1", "directory", "missing"}
# a missing users file is an empty one (that is how `padctl users add` starts a new one)
USERS_KINDS = set(KINDS) - {"missing"}


def _cases() -> list[tuple[str, str]]:
    cases = []
    for command in FILE_COMMANDS:
        kinds: set[str] | list[str] = list(KINDS)
        if command == "hil replay RECORDING":
            kinds = RECORDING_KINDS
        elif "--users" in command:
            kinds = USERS_KINDS
        cases += [(command, kind) for kind in KINDS if kind in kinds]
    more = ("validate", "read --pad")
    cases += [(command, kind) for command in more for kind in MORE_KINDS]
    return cases


def _make(folder: Path, kind: str) -> Path:
    content, _line, _says = {**KINDS, **MORE_KINDS}[kind]
    path = folder / f"broken-{kind}.yaml"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return path


def _invoke(argv: list[str]) -> Result:
    return CliRunner().invoke(app, argv, input="")


def _assert_refused(result: Result, *, code: int | None = None) -> None:
    """Non-zero (or exactly `code`), no traceback, and no exception escaped the command."""
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped, f"{result.exception!r} escaped:\n{result.output}"


@pytest.mark.parametrize(("command", "kind"), _cases())
def test_a_broken_file_is_refused_in_one_line_naming_it(
    tmp_path: Path, command: str, kind: str
) -> None:
    path = _make(tmp_path, kind)
    _content, line, says = {**KINDS, **MORE_KINDS}[kind]
    if command == "hil replay RECORDING" and kind == "empty":
        says = "empty file"
    result = _invoke(FILE_COMMANDS[command](str(path), tmp_path))
    _assert_refused(result, code=2)
    named = [text for text in result.output.splitlines() if f"{path}:{line}: " in text]
    assert any(says in text for text in named), result.output


@pytest.mark.parametrize(
    ("what", "replace", "by"),
    [
        ("scenario's pad", "profile: test-flight\n", "profile: test-flight\npad: broken.yaml\n"),
        (
            "scenario's sequence",
            "profile: test-flight\n",
            "profile: test-flight\nsequence: broken.yaml\n",
        ),
        ("rig's pad", "\npad: reference\n", "\npad: broken.yaml\n"),
    ],
)
def test_a_broken_file_named_inside_another_is_refused_naming_both(
    tmp_path: Path, what: str, replace: str, by: str
) -> None:
    source = RIG if what.startswith("rig") else SCENARIO
    text = source.read_text(encoding="utf-8")
    assert replace in text
    outer = tmp_path / source.name
    outer.write_text(text.replace(replace, by, 1), encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(KINDS["binary"][0])  # type: ignore[arg-type]
    argv = ["hil", "check", str(outer)] if source is RIG else ["train", str(outer), "--headless"]
    result = _invoke(argv)
    _assert_refused(result, code=2)
    assert f"{outer}:" in result.output
    assert f"{broken}:1: cannot read: not UTF-8 text (byte 0x89 at offset 0)" in result.output


def _with_event_after_t0(folder: Path) -> tuple[Path, int]:
    lines = COUNTDOWN.read_text(encoding="utf-8").splitlines(keepends=True)
    liftoff = next(i for i, line in enumerate(lines) if "at: T-0," in line)
    lines.insert(
        liftoff + 1, "  - {at: T+00:00:05, name: Tower clear, do: [water_deluge.stop_flow]}\n"
    )
    path = folder / "countdown.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path, liftoff + 2


def test_an_event_after_t0_is_refused_pointing_to_post_launch(tmp_path: Path) -> None:
    path, line = _with_event_after_t0(tmp_path)
    for argv, code in (
        (["validate", str(path)], 1),  # a readable file with problems
        (["countdown", "--dry-run", "--sequence", str(path)], 2),
    ):
        result = _invoke(argv)
        _assert_refused(result, code=code)
        assert f"{path}:{line}: 'Tower clear' at T+00:00:05 is after T-0" in result.output
        assert "belong in post_launch" in result.output


def test_the_reference_sequences_stay_valid() -> None:
    result = _invoke(["validate", str(COUNTDOWN), str(LCC)])
    assert result.exit_code == 0, result.output
    assert f"{COUNTDOWN}: OK" in result.output


ARGUMENT_CASES: dict[str, tuple[list[str], str]] = {
    # --inject is checked against the pad before the count (or any simulator) starts
    "inject unknown tag": (
        ["countdown", "--sim", "--inject", "T-00:00:20 NOPE-TAG bias 1"],
        "--inject 'T-00:00:20 NOPE-TAG bias 1': 'NOPE-TAG bias 1': 'NOPE-TAG' is not",
    ),
    "inject unknown verb": (
        ["countdown", "--sim", "--inject", "T-00:00:20 frobnicate LOX-PT-101"],
        "unknown fault 'frobnicate'",
    ),
    "inject bad T-time": (
        ["countdown", "--dry-run", "--inject", "T-99:99 LOX-PT-101 bias 1"],
        "--inject 'T-99:99 LOX-PT-101 bias 1': 'T-99:99': minutes and seconds must be below 60",
    ),
    "inject not a T-time": (
        ["countdown", "--dry-run", "--inject", "soon LOX-PT-101 bias 1"],
        "'soon' is not a T-time",
    ),
    "inject no fault": (["countdown", "--dry-run", "--inject", "soon"], "expected 'T-TIME FAULT"),
    "inject bad number": (
        ["countdown", "--dry-run", "--inject", "T-00:00:20 LOX-PT-101 bias lots"],
        "'lots' is not a number",
    ),
    "inject bad quoting": (
        ["countdown", "--dry-run", "--inject", 'T-00:00:20 LOX-PT-101 bias "1'],
        "No closing quotation",
    ),
    "unknown profile": (
        ["countdown", "--dry-run", "--profile", "nope"],
        "no profile 'nope' (known: test-flight, full)",
    ),
    "unknown recycle point": (
        ["countdown", "--dry-run", "--recycle", "RP-9"],
        "--recycle 'RP-9': no such recycle point",
    ),
    "countdown rate 0": (
        ["countdown", "--sim", "--rate", "0"],
        "--rate 0: must be a number above 0",
    ),
    "countdown rate nan": (["countdown", "--sim", "--rate", "nan"], "--rate nan: must be"),
    "countdown rate not a number": (["countdown", "--sim", "--rate", "abc"], "'--rate'"),
    "sim rate negative": (["sim", "--rate", "-1"], "--rate -1: must be a number above 0"),
    "sim bad fault": (["sim", "--fault", "soon stall PROP"], "--fault 'soon stall PROP'"),
    "serve rate inf": (["serve", "--sim", "--rate", "inf"], "--rate inf: must be"),
    "demo rate 0": (["demo", "--headless", "--rate", "0"], "--rate 0: must be"),
    "train checkpoint bad --at": (
        ["train", "checkpoint", str(SCENARIO), "--at", "T-later"],
        "--at: 'T-later' is not a T-time",
    ),
    "read unknown tag": (["read", "NO-SUCH-TAG"], "unknown tag(s): NO-SUCH-TAG"),
}


@pytest.mark.parametrize("case", list(ARGUMENT_CASES))
def test_a_bad_argument_is_refused_before_anything_starts(case: str) -> None:
    argv, says = ARGUMENT_CASES[case]
    result = _invoke(argv)
    _assert_refused(result, code=2)
    assert says in result.output, result.output
