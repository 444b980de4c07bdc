"""The fenced code blocks of README.md and docs/*.md, as the docs test reads them.

A block is the text between a line ```` ```LANG ```` and the closing fence at the same
indentation (blocks inside list items are dedented). A block may carry a mark: an HTML comment
on the line before its opening fence, invisible on GitHub::

    <!-- snippet: invalid -->            the YAML must fail validation with the messages of
                                         the ```text block right after it
    <!-- snippet: not-run: REASON -->    a shell block that cannot run in a test (a server
                                         that runs until Ctrl-C, a second process, make, curl)
    <!-- snippet: installed: FOLDER -->  checked in a separate process with FOLDER (a package
                                         and its dist-info) on the Python path: a connector
                                         installed beside the project

A YAML block whose first line is a comment naming a file (``# bots/_shared/anmelden.yaml``)
is that file: the test writes it into the throw-away project before validating any block of
the same document, so other blocks can include it.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

SHELL = frozenset({"sh", "shell", "bash", "console"})
YAML = frozenset({"yaml", "yml"})
#: Marks a block may carry, by their first word.
MARKS = ("invalid", "not-run", "installed")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
_MARK = re.compile(r"^\s*<!--\s*snippet:\s*(?P<mark>.*?)\s*-->\s*$")
_FILE_COMMENT = re.compile(r"^#\s*(?P<path>(?:bots/)[\w./-]+\.ya?ml)\s*$")
#: `bots` commands that run until stopped: they cannot be a step of a test.
LONG_RUNNING = (("sandbox", "serve"), ("robot", "start"), ("orchestrator", "start"))


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text (dedented) and its mark."""

    doc: Path
    line: int
    lang: str
    text: str
    mark: str | None = None

    @property
    def id(self) -> str:
        """``README.md:52``: the document and the line of the opening fence."""
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self) -> bool:
        return self.mark is not None and self.mark.startswith("not-run")

    @property
    def invalid(self) -> bool:
        return self.mark == "invalid"

    @property
    def installed(self) -> Path | None:
        """The folder a block marked ``installed: FOLDER`` needs on the Python path."""
        if self.mark is None or not self.mark.startswith("installed:"):
            return None
        return ROOT / self.mark.partition(":")[2].strip()

    @property
    def file(self) -> str | None:
        """The project path a YAML block names in its first line, if any."""
        first = self.text.splitlines()[0] if self.text else ""
        match = _FILE_COMMENT.match(first)
        return match.group("path") if match else None


def blocks(doc: Path) -> list[Block]:
    """Every fenced block of ``doc``, in order.

    Raises:
        ValueError: A fence is not closed.
    """
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening.group("indent")
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != f"{indent}```":
            end += 1
        if end == len(lines):
            raise ValueError(f"{doc.name}:{index + 1}: the code block is not closed")
        found.append(
            Block(
                doc=doc,
                line=index + 1,
                lang=opening.group("lang").lower(),
                text=textwrap.dedent("\n".join(lines[index + 1 : end])) + "\n",
                mark=_mark_before(lines, index),
            )
        )
        index = end + 1
    return found


def _mark_before(lines: list[str], index: int) -> str | None:
    before = index - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    match = _MARK.match(lines[before]) if before >= 0 else None
    return match.group("mark") if match else None


def all_blocks() -> list[Block]:
    """The blocks of README.md and every document under docs/."""
    return [block for doc in DOCS for block in blocks(doc)]


def expected_output(block: Block) -> Block | None:
    """The ```text block right after ``block`` (what an invalid snippet must answer)."""
    following = blocks(block.doc)
    for position, candidate in enumerate(following):
        if candidate.line == block.line and position + 1 < len(following):
            after = following[position + 1]
            return after if after.lang == "text" else None
    return None


# --------------------------------------------------------------------------- shell blocks


@dataclass(frozen=True)
class Command:
    """One line of a shell block: ``bots ARGS`` (with ``stdout_to`` for ``> FILE``), or an
    ``export`` (``env``), or something a test cannot run (``problem`` says why)."""

    line: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    stdout_to: str | None = None
    problem: str | None = None


def commands(block: Block) -> list[Command]:
    """The commands of a shell block; continuation lines (``\\``) joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in block.text.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        joined.append(pending + raw)
        pending = ""
    result = []
    for line in joined:
        words = shlex.split(line, comments=True)
        if not words:
            continue
        result.append(_command(line.strip(), words))
    return result


def _command(line: str, words: list[str]) -> Command:
    if words[0] == "export":
        pairs = [word.partition("=") for word in words[1:]]
        if not pairs or any(not sep for _, sep, _ in pairs):
            return Command(line, problem="an export without NAME=value")
        return Command(line, env=tuple((name, value) for name, _, value in pairs))
    if words[0] != "bots":
        return Command(line, problem=f"{words[0]!r} is not a bots command")
    args = words[1:]
    if any(word in ("|", "&", "&&", ";", "<") for word in args):
        return Command(line, problem="pipes, background jobs and lists are not run")
    if tuple(args[:2]) in LONG_RUNNING:
        return Command(line, problem=f"bots {' '.join(args[:2])} runs until it is stopped")
    stdout_to = None
    if ">" in args:
        position = args.index(">")
        if position != len(args) - 2:
            return Command(line, problem="'>' must be followed by one file name, at the end")
        stdout_to, args = args[-1], args[:position]
    return Command(line, args=tuple(args), stdout_to=stdout_to)


def needs_sandbox(block: Block) -> bool:
    """Whether a command of the block runs a bot here (it then needs the target systems)."""
    return any(
        command.args[:1] == ("run",) and "--enqueue" not in command.args
        for command in commands(block)
    )
