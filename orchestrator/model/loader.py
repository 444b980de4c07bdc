"""Load bots from their directories, with every problem of their files reported at once.

The library side of ``bots validate`` and of every command that names a bot::

    loaded = load_bot(Path("bots/gewerbe-uebertragung"))    # or .../bot.yaml
    loaded.definition.steps, loaded.definition.finally_, loaded.subflows["flows/login.yaml"]

    problems = validate_paths([Path("bots")])                # all bots under bots/
    loaded = resolve_bot("gewerbe-uebertragung", settings.bot_dirs)

A bot with errors raises :class:`~orchestrator.errors.DefinitionError` carrying every problem:
YAML syntax, schema, includes, hooks, undeclared names, misused secrets. Problems name files as
the user gave them (``bots/x/bot.yaml:12:5: ...``); warnings alone never fail a bot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import BotNotFound, DefinitionError, Problem
from orchestrator.model import registry
from orchestrator.model.bot import BotDefinition, SubFlow
from orchestrator.model.schema_errors import did_you_mean, validate_document
from orchestrator.model.templates import is_template
from orchestrator.model.uses import connectors_used, label_problems, needed_labels
from orchestrator.model.validation import FlowFile, check_flows, iter_flow_steps
from orchestrator.model.yaml_loader import YamlDocument, read_yaml

BOT_FILE = "bot.yaml"
_FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedBot:
    """A valid bot, ready for the engine.

    Attributes:
        definition: The parsed ``bot.yaml``.
        directory: The bot's directory (absolute).
        path: Its ``bot.yaml`` (absolute).
        digest: sha256 (hex) over every file of the bot directory: changes with any edit of
            the definition, a sub-flow or a hook.
        subflows: Include path as written in the files -> parsed sub-flow, for every include
            of the bot and of its sub-flows.
        warnings: Problems that do not make the bot invalid (e.g. a fixed ``pause``).
        connectors: The connectors whose steps, actions or flows it uses (``flow`` left
            out), see :mod:`orchestrator.model.uses`.
        connector_labels: The robot labels the connectors it uses need (``browser`` for a
            bot with a ``click``); :attr:`labels` adds those it declares.
    """

    definition: BotDefinition
    directory: Path
    path: Path
    digest: str
    subflows: dict[str, SubFlow]
    warnings: tuple[Problem, ...] = ()
    connectors: tuple[str, ...] = ()
    connector_labels: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The bot's id."""
        return self.definition.id

    @property
    def labels(self) -> tuple[str, ...]:
        """The robot labels its runs need: those it declares and its connectors'."""
        return tuple(sorted({*self.definition.execution.labels, *self.connector_labels}))


def load_bot(path: Path) -> LoadedBot:
    """Load and check the bot at ``path`` (its directory or its ``bot.yaml``).

    Raises:
        BotNotFound: There is no bot file at ``path``.
        DefinitionError: The bot has errors; ``problems`` lists all of them (and warnings).
    """
    check = _check_bot(_bot_file(Path(path)))
    if check.loaded is None:
        raise DefinitionError(check.problems)
    return check.loaded


def find_bots(bot_dirs: list[Path]) -> list[Path]:
    """Every sub-directory holding a ``bot.yaml``, sorted, of each directory in ``bot_dirs``.

    Directories that do not exist are skipped. Example: ``find_bots([Path("bots")])`` ->
    ``[Path("bots/gewerbe-uebertragung"), ...]``.
    """
    found: list[Path] = []
    for directory in bot_dirs:
        if Path(directory).is_dir():
            found.extend(
                sub for sub in sorted(Path(directory).iterdir()) if (sub / BOT_FILE).is_file()
            )
    return found


def validate_paths(paths: list[Path]) -> list[Problem]:
    """Check bots and return every problem (errors and warnings), file by file.

    Args:
        paths: ``bot.yaml`` files, bot directories, or directories of bot directories. Bot ids
            must be unique across all of them.

    Raises:
        BotNotFound: A path does not exist or holds no bot.
    """
    bot_files: list[Path] = []
    for path in map(Path, paths):
        if path.is_file() or (path / BOT_FILE).is_file():
            bot_files.append(_bot_file(path))
        elif path.is_dir() and (bots := find_bots([path])):
            bot_files.extend(bot / BOT_FILE for bot in bots)
        else:
            raise BotNotFound(f"no bot at {path}: expected a {BOT_FILE} or a directory of bots")
    unique = list({file.resolve(): file for file in bot_files}.values())
    checks = [_check_bot(file) for file in unique]
    _add_duplicate_ids(checks)
    return [problem for check in checks for problem in check.problems]


def resolve_bot(ref: str, bot_dirs: list[Path]) -> LoadedBot:
    """The bot a user means by ``ref``: a bot id, or a path to a bot directory or ``bot.yaml``.

    Raises:
        BotNotFound: No bot has that id (the message lists the known ids).
        DefinitionError: The bot is invalid, or two bots have that id.
    """
    as_path = Path(ref)
    if "/" in ref or "\\" in ref or as_path.suffix in _FLOW_SUFFIXES:
        return load_bot(as_path)
    known: dict[str, list[YamlDocument]] = {}
    for bot in find_bots(bot_dirs):
        try:
            doc = read_yaml(bot / BOT_FILE)
        except DefinitionError:
            known.setdefault(bot.name, [])  # unreadable: at least offer its directory name
            continue
        bot_id = doc.data.get("id") if isinstance(doc.data, dict) else None
        known.setdefault(bot_id if isinstance(bot_id, str) else bot.name, []).append(doc)
    matches = known.get(ref, [])
    if len(matches) == 1:
        return load_bot(Path(matches[0].path))
    if len(matches) > 1:
        raise DefinitionError(
            [_duplicate_problem(doc, ref, [d.path for d in matches]) for doc in matches]
        )
    if (as_path / BOT_FILE).is_file():  # a bot directory named relative to the current one
        return load_bot(as_path)
    places = ", ".join(str(d) for d in bot_dirs) or "no bot directories"
    listed = ", ".join(sorted(known)) or "none"
    raise BotNotFound(
        f"no bot with id {ref!r} in {places} (known: {listed}){did_you_mean(ref, known)}"
    )


def bot_digest(directory: Path) -> str:
    """sha256 (hex) over the relative path and content of every file of a bot directory.

    ``__pycache__`` directories and ``*.pyc`` files are left out: importing hooks must not
    change the digest.
    """
    return files_digest({name: file.read_bytes() for name, file in bot_files(directory).items()})


def bot_files(directory: Path) -> dict[str, Path]:
    """Every file :func:`bot_digest` covers: relative POSIX path -> file, sorted by path.

    Example: ``bot_files(Path("bots/x"))`` -> ``{"bot.yaml": ..., "hooks.py": ...}``.
    """
    files = [
        file for file in Path(directory).rglob("*")
        if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc"
    ]  # fmt: skip
    named = {file.relative_to(directory).as_posix(): file for file in files}
    return dict(sorted(named.items()))


def files_digest(contents: Mapping[str, bytes]) -> str:
    """:func:`bot_digest` of a bot's files given as relative path -> content (a bundle's)."""
    digest = hashlib.sha256()
    for name in sorted(contents):
        content = contents[name]
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


# --------------------------------------------------------------------------- internals


@dataclass
class _BotCheck:
    """Everything found out about one bot file."""

    shown: str
    directory: Path
    problems: list[Problem] = field(default_factory=list)
    doc: YamlDocument | None = None
    loaded: LoadedBot | None = None
    files: list[str] = field(default_factory=list)

    @property
    def bot_id(self) -> str | None:
        data = self.doc.data if self.doc is not None else None
        value = data.get("id") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None


def _file_order(check: _BotCheck) -> Callable[[Problem], tuple[int, int, int]]:
    """Sort key: the bot file first, then sub-flows in include order; by position inside."""
    order = {path: index for index, path in enumerate(check.files)}
    return lambda p: (order.get(p.path, len(order)), p.line, p.column)


def _bot_file(path: Path) -> Path:
    if path.is_dir():
        path = path / BOT_FILE
    if not path.is_file():
        raise BotNotFound(f"no bot at {path.parent if path.name == BOT_FILE else path}: "
                          f"{path} does not exist")  # fmt: skip
    return path


def _check_bot(bot_file: Path) -> _BotCheck:
    directory = bot_file.parent.resolve()
    check = _BotCheck(str(bot_file), directory)
    try:
        doc = read_yaml(bot_file, check.shown)
    except DefinitionError as exc:
        check.problems = exc.problems
        return check
    check.doc = doc
    definition, problems = validate_document(BotDefinition, doc)
    problems = [*doc.problems, *problems]
    includes = _Includes(directory, bot_file.parent, bot_file.resolve())
    includes.visit(doc, (bot_file.resolve(),))
    problems += includes.problems
    flows = [FlowFile(doc), *includes.flows]
    bot_id = check.bot_id or directory.name
    problems += check_flows(directory, bot_id, flows)
    used = connectors_used([flow.doc.data for flow in flows], includes.subflows)
    needed = needed_labels(used)
    execution = doc.data.get("execution") if isinstance(doc.data, dict) else None
    declared = execution.get("labels") if isinstance(execution, dict) else None
    problems += label_problems(doc, declared, needed)
    if check.bot_id is not None and check.bot_id != directory.name:
        message = f"bot id {check.bot_id!r} differs from its directory name {directory.name!r}"
        problems.append(doc.problem(("id",), message, severity="warning"))
    check.files = [flow.doc.path for flow in flows]
    check.problems = sorted(problems, key=_file_order(check))
    errors = [p for p in problems if p.severity == "error"]
    if definition is not None and not errors:
        warnings = tuple(p for p in check.problems if p.severity != "error")
        check.loaded = LoadedBot(
            definition, directory, bot_file.resolve(), bot_digest(directory),
            includes.subflows, warnings, tuple(used), tuple(needed),
        )  # fmt: skip
    return check


#: The folder beside the bots whose flows every bot may include as ``_shared/NAME.yaml``.
SHARED_DIR = "_shared"


class _Includes:
    """Follows ``include`` steps through the bot and its sub-flows, parsing each file once."""

    def __init__(self, directory: Path, shown_dir: Path, bot_file: Path) -> None:
        self.directory, self.shown_dir, self.bot_file = directory, shown_dir, bot_file
        self.flows: list[FlowFile] = []
        self.subflows: dict[str, SubFlow] = {}
        self.problems: list[Problem] = []
        self._parsed: dict[Path, SubFlow | None] = {}

    def visit(self, doc: YamlDocument, stack: tuple[Path, ...]) -> None:
        for step in iter_flow_steps(doc.data):
            ref = step.get("include")
            if step.kind != "include" or not isinstance(ref, str):
                continue
            loc = step.at("include")
            target, error = self._target(ref)
            if target is None:
                self.problems.append(doc.problem(loc, error))
            elif target in stack:
                chain = " -> ".join(self._name(p) for p in (*stack[stack.index(target) :], target))
                self.problems.append(doc.problem(loc, f"include cycle: {chain}"))
            else:
                if target not in self._parsed:
                    self._parse(target, stack)
                subflow = self._parsed[target]
                if subflow is not None:
                    self.subflows[ref] = subflow

    def _parse(self, target: Path, stack: tuple[Path, ...]) -> None:
        self._parsed[target] = None
        shown = self._shown(target)
        try:
            doc = read_yaml(target, shown)
        except DefinitionError as exc:
            self.problems.extend(exc.problems)
            return
        subflow, problems = validate_document(SubFlow, doc)
        self.problems.extend([*doc.problems, *problems])
        inputs = doc.data.get("inputs") if isinstance(doc.data, dict) else None
        names = frozenset(str(k) for k in inputs) if isinstance(inputs, dict) else frozenset()
        self.flows.append(FlowFile(doc, names))
        self._parsed[target] = subflow
        self.visit(doc, (*stack, target))

    def _target(self, ref: str) -> tuple[Path | None, str]:
        if is_template(ref):
            return None, "an include path cannot be a template: includes are read when loading"
        if Path(ref).is_absolute():
            return None, f"include {ref!r} must be a path relative to the bot directory"
        root, rest = self._root(ref)
        if root is None:
            return None, rest
        target = (root / rest).resolve()
        if not target.is_relative_to(root.resolve()):
            return None, f"include {ref!r} points outside {self._where(root)}"
        if root != self.directory:
            if not target.is_file():
                return None, f"include {ref!r} not found: no file {target}"
            return target, ""
        if target.is_dir():
            return None, f"include {ref!r} is a directory, not a sub-flow file"
        if not target.is_file():
            flows = [
                self._name(p) for p in self.directory.rglob("*")
                if p.suffix in _FLOW_SUFFIXES and p.resolve() != self.bot_file
            ]  # fmt: skip
            shown = self.shown_dir / ref
            return None, f"include {ref!r} not found: no file {shown}{did_you_mean(ref, flows)}"
        return target, ""

    def _root(self, ref: str) -> tuple[Path | None, str]:
        """Where ``ref`` is looked up: the bot's directory; ``_shared/...``: the shared flows
        beside the bots; ``CONNECTOR:...``: a connector's flows."""
        connector, colon, rest = ref.partition(":")
        if colon and connector and "/" not in connector:
            flows = registry.installed().flows_dir(connector)
            if flows is None:
                return None, f"include {ref!r}: no installed connector {connector!r} has flows"
            return flows, rest
        if ref.startswith(f"{SHARED_DIR}/"):
            return self.directory.parent / SHARED_DIR, ref.removeprefix(f"{SHARED_DIR}/")
        return self.directory, ref

    def _where(self, root: Path) -> str:
        return "the bot directory" if root == self.directory else str(root)

    def _shown(self, path: Path) -> str:
        if path.is_relative_to(self.directory):
            return str(self.shown_dir / path.relative_to(self.directory))
        if path.is_relative_to(self.directory.parent):
            return str(self.shown_dir.parent / path.relative_to(self.directory.parent))
        return str(path)

    def _name(self, path: Path) -> str:
        if path.is_relative_to(self.directory):
            return path.relative_to(self.directory).as_posix()
        return path.as_posix()


def _add_duplicate_ids(checks: list[_BotCheck]) -> None:
    """Add a problem to every bot whose id another of ``checks`` has too."""
    by_id: dict[str, list[_BotCheck]] = {}
    for check in checks:
        if check.bot_id is not None:
            by_id.setdefault(check.bot_id, []).append(check)
    for bot_id, same in by_id.items():
        for check in same if len(same) > 1 else []:
            assert check.doc is not None  # it has an id, so it was parsed
            problem = _duplicate_problem(check.doc, bot_id, [other.shown for other in same])
            check.problems = sorted([*check.problems, problem], key=_file_order(check))


def _duplicate_problem(doc: YamlDocument, bot_id: str, paths: list[str]) -> Problem:
    others = ", ".join(path for path in paths if path != doc.path)
    return doc.problem(("id",), f"bot id {bot_id!r} is also used by {others}")
