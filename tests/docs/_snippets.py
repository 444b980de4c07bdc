"""The fenced code blocks of README.md and docs/*.md, as the docs tests read them.

A block is the text between a line ```` ```LANG ```` and the closing fence at the same
indentation (blocks inside list items are dedented). Every block in one of these languages
is checked; any other language (``text``, diagrams) is shown, not checked, unless a mark says
what it is:

``yaml``
    validated as what it is: a bot, a sub-flow, steps, locators, a fragment of a bot, a
    settings file, the bot catalog or a city overlay (``test_docs_snippets.py``).
``sh``, ``bash``, ``shell``, ``console``
    every line runs: ``bots ARGS`` (``> FILE`` keeps its output), ``export NAME=value``,
    ``chmod MODE FILE``, and ``curl [-X METHOD] [-H HEADER] [-d DATA] URL`` to the sandbox on
    ``localhost`` (sent to the sandbox the test starts, on its own port); anything else needs
    the block marked ``not-run``.
``python``
    runs in an empty directory and must not raise, unless marked ``excerpt: PATH``.
``toml``
    must be marked ``excerpt: PATH``.
``json``, ``csv``
    must be marked ``format: NAME``: the keys (the header) are those of what the project's
    code writes (``test_docs_blocks.py`` names the formats).
``cron``
    each line's five fields parse as a crontab schedule, and its ``bots`` command (after any
    ``cd DIR &&`` and ``NAME=value`` prefixes) parses as the CLI reads it; without a
    ``$(...)`` substitution and without running a bot, it also runs in the throw-away project.
``diff``
    a change to the project's files (``git apply``): applied to the throw-away project of
    every block below it, so the document can show a new version of a file and go on with it.

A block may carry marks: HTML comments on the lines right before its opening fence,
invisible on GitHub, one mark each::

    <!-- snippet: invalid -->            the YAML must fail validation with the messages of
                                         the ```text block right after it
    <!-- snippet: not-run: REASON -->    a shell block that cannot run in a test (a server
                                         that runs until Ctrl-C, a background job, make)
    <!-- snippet: installed: FOLDER -->  checked in a separate process with FOLDER (a package
                                         and its dist-info) on the Python path: a connector
                                         installed beside the project
    <!-- snippet: exits: N -->           every command of the shell block exits N (a refusal
                                         the document shows on purpose), not 0
    <!-- snippet: continues -->          the shell block goes on where the document's shell
                                         blocks above it left the project: they run first,
                                         in order, in the same project (with the diffs between)
    <!-- snippet: output -->             a ```text block right after a shell block: each of its
                                         lines appears in the commands' output, in this order
    <!-- snippet: written: PATH -->      a block after a shell block: each of its lines
                                         appears in the project's file PATH after that block ran
    <!-- snippet: excerpt: PATH -->      a python, toml or yaml block: each of its lines
                                         appears in the repository's file PATH, in this order
    <!-- snippet: format: NAME -->       a json or csv block: the keys (the header) of NAME

In ``output``, ``written`` and ``excerpt`` lines, whitespace runs count as one space, a line
``...`` (or ``# ...``) stands for lines left out and ``...`` inside a line for any text, so
paths, key ids and dates that differ from run to run are shown as ``...`` (and an excerpt's
``def f(x): ...`` is the line ``def f(x):`` with its body left out). A first line ``# NAME``
of an excerpt that ``PATH`` ends with names the file and is skipped. For example::

    <!-- snippet: continues -->
    ```sh
    bots catalog pack posteingang-export -o dist --publish --key keys/giessen.key
    ```

    <!-- snippet: output -->
    ```text
    posteingang-export 1.2.0 published as experimental; kept as .../catalog/bundles/...
    ```

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
PYTHON = frozenset({"python", "py"})
#: Languages whose blocks are checked; others are shown only.
CHECKED = SHELL | YAML | PYTHON | {"toml", "json", "csv", "cron", "diff"}
#: Marks a block may carry, by their first word.
MARKS = (
    "invalid",
    "not-run",
    "installed",
    "exits",
    "continues",
    "output",
    "written",
    "excerpt",
    "format",
)

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
_MARK = re.compile(r"^\s*<!--\s*snippet:\s*(?P<mark>.*?)\s*-->\s*$")
_FILE_COMMENT = re.compile(r"^#\s*(?P<path>(?:bots/)[\w./-]+\.ya?ml)\s*$")
_SUBSTITUTION = re.compile(r"\$\([^()]*\)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
#: `bots` commands that run until stopped: they cannot be a step of a test.
LONG_RUNNING = (("sandbox", "serve"), ("robot", "start"), ("orchestrator", "start"))


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text (dedented) and its marks."""

    doc: Path
    line: int
    lang: str
    text: str
    marks: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """``README.md:52``: the document and the line of the opening fence."""
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    def marked(self, word: str) -> str | None:
        """The value of mark ``word`` (``""`` for a mark without one), None if not marked."""
        for mark in self.marks:
            name, _, value = mark.partition(":")
            if name.strip() == word:
                return value.strip()
        return None

    @property
    def not_run(self) -> bool:
        return self.marked("not-run") is not None

    @property
    def invalid(self) -> bool:
        return self.marked("invalid") is not None

    @property
    def continues(self) -> bool:
        return self.marked("continues") is not None

    @property
    def exits(self) -> int:
        """The exit code every command of a shell block must end with (default 0)."""
        value = self.marked("exits")
        return 0 if value is None else int(value)

    @property
    def installed(self) -> Path | None:
        """The folder a block marked ``installed: FOLDER`` needs on the Python path."""
        value = self.marked("installed")
        return None if value is None else ROOT / value

    @property
    def excerpt(self) -> Path | None:
        """The repository file a block marked ``excerpt: PATH`` is taken from."""
        value = self.marked("excerpt")
        return None if value is None else ROOT / value

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
                marks=_marks_before(lines, index),
            )
        )
        index = end + 1
    return found


def _marks_before(lines: list[str], index: int) -> tuple[str, ...]:
    """The mark comments right above line ``index`` (blank lines between are allowed)."""
    marks: list[str] = []
    before = index - 1
    while before >= 0:
        if not lines[before].strip():
            before -= 1
            continue
        match = _MARK.match(lines[before])
        if match is None:
            break
        marks.insert(0, match.group("mark"))
        before -= 1
    return tuple(marks)


def all_blocks() -> list[Block]:
    """The blocks of README.md and every document under docs/."""
    return [block for doc in DOCS for block in blocks(doc)]


def following(block: Block) -> list[Block]:
    """The blocks of ``block``'s document after it, in order."""
    return [other for other in blocks(block.doc) if other.line > block.line]


def expected_output(block: Block) -> Block | None:
    """The ```text block right after ``block`` (what an invalid snippet must answer)."""
    after = following(block)
    return after[0] if after and after[0].lang == "text" else None


# --------------------------------------------------------------------------- shown lines


def _pattern(line: str) -> re.Pattern[str]:
    parts = [re.escape(part.strip()) for part in line.split("...")]
    return re.compile(r"\s*.*?\s*".join(parts))


def _normal(line: str) -> str:
    return " ".join(line.split())


def missing_lines(shown: str, actual: str) -> list[str]:
    """The lines of ``shown`` not found in ``actual`` in their order (see the module
    docstring: whitespace runs, ``...`` lines and ``...`` inside a line)."""
    have = [_normal(line) for line in actual.splitlines()]
    position, missing = 0, []
    for line in shown.splitlines():
        wanted = _normal(line)
        if wanted in ("", "...", "# ..."):
            continue
        pattern = _pattern(wanted)
        found = next(
            (n for n in range(position, len(have)) if pattern.fullmatch(have[n])),
            None,
        )
        if found is None:
            missing.append(line)
        else:
            position = found + 1
    return missing


# --------------------------------------------------------------------------- shell blocks


@dataclass(frozen=True)
class Command:
    """One line of a shell block: ``bots ARGS`` (with ``stdout_to`` for ``> FILE``), an
    ``export`` (``env``), a ``chmod`` (``mode`` of ``path``), a ``curl`` (``request``), or
    something a test cannot run (``problem`` says why)."""

    line: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    stdout_to: str | None = None
    mode: int | None = None
    path: str | None = None
    request: Request | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Request:
    """A ``curl`` line to the sandbox: method, path (``/_sandbox/faults``), headers, body."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


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
    if words[0] == "chmod":
        if len(words) != 3 or not re.fullmatch(r"[0-7]{3,4}", words[1]):
            return Command(line, problem="only `chmod MODE FILE` with an octal MODE is run")
        return Command(line, mode=int(words[1], 8), path=words[2])
    if words[0] == "curl":
        return _curl(line, words[1:])
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


_SANDBOX_URL = re.compile(r"^(?:https?://)?(?:localhost|127\.0\.0\.1)(?::\d+)?(?P<path>/\S*)$")
_CURL_OPTIONS = {"-X": "method", "--request": "method", "-H": "header", "--header": "header"}
_CURL_OPTIONS |= {"-d": "body", "--data": "body"}


def _curl(line: str, words: list[str]) -> Command:
    method, url, headers, body = "", "", [], None
    while words:
        word = words.pop(0)
        option = _CURL_OPTIONS.get(word)
        if (option is None and word.startswith("-")) or (option is not None and not words):
            return Command(line, problem=f"curl {word}: only -X, -H, -d and a URL are run")
        if option == "method":
            method = words.pop(0)
        elif option == "header":
            name, _, value = words.pop(0).partition(":")
            headers.append((name.strip(), value.strip()))
        elif option == "body":
            body = words.pop(0)
        elif url:
            return Command(line, problem="curl with more than one URL")
        else:
            url = word
    match = _SANDBOX_URL.match(url)
    if match is None:
        return Command(line, problem=f"curl to {url!r}: only the sandbox on localhost is run")
    request = Request(method or ("POST" if body else "GET"), match["path"], tuple(headers), body)
    return Command(line, request=request)


def runs_a_bot(args: tuple[str, ...]) -> bool:
    """Whether ``bots ARGS`` runs a bot here (it then needs the target systems)."""
    return args[:1] == ("run",) and "--enqueue" not in args


def runs_bots(block: Block) -> bool:
    """Whether a command of the block runs a bot here (it then needs a browser, and time)."""
    return any(runs_a_bot(command.args) for command in commands(block))


def needs_sandbox(block: Block) -> bool:
    """Whether the block needs the sandbox: it runs a bot, or talks to the sandbox."""
    return runs_bots(block) or any(command.request for command in commands(block))


# --------------------------------------------------------------------------- cron lines


@dataclass(frozen=True)
class CronEntry:
    """One line of a ```cron block: its schedule, and the ``bots`` command it runs (with
    ``substituted`` when a ``$(...)`` stood in it: then only its parsing is checked)."""

    line: str
    schedule: str = ""
    args: tuple[str, ...] = ()
    substituted: bool = False
    problem: str | None = None


def cron_entries(block: Block) -> list[CronEntry]:
    """The entries of a ```cron block (comments and blank lines left out)."""
    entries = []
    for raw in block.text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 5)
        if len(fields) < 6:
            entries.append(CronEntry(line, problem="five schedule fields and a command"))
            continue
        schedule, command = " ".join(fields[:5]), fields[5]
        # cron turns '%' into a line break unless escaped; the shell then sees '\%'.
        command, count = _SUBSTITUTION.subn("SUBSTITUTED", command.replace("\\%", "%"))
        words = shlex.split(command)
        if words[:1] == ["cd"] and words[2:3] == ["&&"]:
            words = words[3:]
        while words and _ASSIGNMENT.match(words[0]):
            words = words[1:]
        if not words or not (words[0] == "bots" or words[0].endswith("/bots")):
            entries.append(CronEntry(line, schedule, problem="the command is no bots command"))
            continue
        entries.append(CronEntry(line, schedule, tuple(words[1:]), substituted=count > 0))
    return entries
