"""YAML with positions: plain Python data plus the line and column of every node.

Bot files are parsed with ruamel.yaml's composer (no object construction, so no tag can run
code) and turned into plain ``dict``/``list``/scalars; on the way every key and value gets its
1-based position, so a problem found later (a pydantic error ``loc``, an undeclared variable)
can point at the offending node::

    doc = parse_yaml("id: x\\nsteps:\\n  - clik: {}\\n", "bots/x/bot.yaml")
    doc.data                              # {'id': 'x', 'steps': [{'clik': {}}]}
    doc.key_position(("steps", 0, "clik"))    # (3, 5)
    doc.value_position(("steps", 0, "nope"))  # (3, 5): nearest existing ancestor

Only plain YAML is accepted: no custom tags, no complex keys, no duplicate keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import DefinitionError, Problem

Loc = tuple[Any, ...]
Position = tuple[int, int]

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE = _STD + "merge"


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and where each node of it was written.

    Attributes:
        path: The file's path as the user gave it; problems carry it unchanged.
        data: Plain Python data (dict, list, str, int, float, bool, None).
        values: Data path -> (line, column) of the node, 1-based.
        keys: Data path -> (line, column) of the mapping key naming that node.
        problems: Non-fatal problems found while reading (duplicate keys, custom tags).
    """

    path: str
    data: Any
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def value_position(self, loc: Loc) -> Position:
        """Position of the node at ``loc``, or of its nearest existing ancestor."""
        loc = tuple(loc)
        while loc and loc not in self.values:
            loc = loc[:-1]
        return self.values.get(loc, (1, 1))

    def key_position(self, loc: Loc) -> Position:
        """Position of the key naming the node at ``loc`` (its value's position for items)."""
        loc = tuple(loc)
        if loc in self.keys:
            return self.keys[loc]
        return self.value_position(loc)

    def get(self, loc: Loc, default: Any = None) -> Any:
        """The data at ``loc``, or ``default`` when the path does not exist."""
        node = self.data
        for part in loc:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return default
        return node

    def problem(
        self, loc: Loc, message: str, *, at_key: bool = False, severity: str = "error"
    ) -> Problem:
        """A :class:`Problem` pointing at the key (``at_key``) or the value at ``loc``."""
        line, column = self.key_position(loc) if at_key else self.value_position(loc)
        return Problem(self.path, line, column, message, severity)


def read_yaml(file: Path, display_path: str | None = None) -> YamlDocument:
    """Read and parse a YAML file; see :func:`parse_yaml`.

    Raises:
        DefinitionError: The file cannot be read, is not UTF-8 or is not valid YAML.
    """
    shown = display_path if display_path is not None else str(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DefinitionError([Problem(shown, 1, 1, f"cannot read file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DefinitionError([Problem(shown, line, 1, "the file is not UTF-8 text")]) from None
    return parse_yaml(text, shown)


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parse one YAML document into plain data with positions.

    Args:
        text: The YAML source.
        path: The file's path as the user gave it, used in problems.

    Raises:
        DefinitionError: The text is not valid YAML (one problem, at the position ruamel
            reports).
    """
    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise DefinitionError([_syntax_problem(exc, path)]) from None
    except YAMLError as exc:  # e.g. a ReaderError for a control character
        raise DefinitionError([Problem(path, 1, 1, f"invalid YAML: {exc}")]) from None
    builder = _Builder(path, yaml)
    data = builder.build(root, ()) if root is not None else None
    if root is None:
        builder.values[()] = (1, 1)
    return YamlDocument(path, data, builder.values, builder.keys, tuple(builder.problems))


def _syntax_problem(exc: MarkedYAMLError, path: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem and exc.context_mark is not None:
        message = f"{message} ({exc.context} at line {exc.context_mark.line + 1})"
    return Problem(path, line, column, f"invalid YAML: {message}")


def _pos(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Turns a composed node tree into plain data, recording positions and problems."""

    def __init__(self, path: str, yaml: YAML) -> None:
        self.path = path
        self.constructor = yaml.constructor
        self.values: dict[Loc, Position] = {}
        self.keys: dict[Loc, Position] = {}
        self.problems: list[Problem] = []
        self._active: set[int] = set()  # nodes being built: guards recursive aliases

    def report(self, node: Node, message: str) -> None:
        line, column = _pos(node)
        self.problems.append(Problem(self.path, line, column, message))

    def build(self, node: Node, loc: Loc) -> Any:
        self.values.setdefault(loc, _pos(node))
        if id(node) in self._active:
            self.report(node, "an alias refers to its own ancestor (recursive data)")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, SequenceNode):
                self._check_tag(node, _STD + "seq")
                return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
            return self._scalar(node)
        finally:
            self._active.discard(id(node))

    def _check_tag(self, node: Node, expected: str | set[str]) -> None:
        allowed = {expected} if isinstance(expected, str) else expected
        if node.tag not in allowed:
            tag = str(node.tag).replace(_STD, "!!")
            self.report(node, f"unsupported YAML tag {tag!r} (only plain YAML is allowed)")

    def _scalar(self, node: Node) -> Any:
        self._check_tag(node, _SCALAR_TAGS)
        if node.tag == _STD + "timestamp":
            return str(node.value)  # dates stay the text that was written: '2026-01-31'
        if node.tag not in _SCALAR_TAGS:
            return str(node.value)
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[Any, Any]:
        self._check_tag(node, _STD + "map")
        result: dict[Any, Any] = {}
        merge_nodes: list[Node] = []
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.report(key_node, "a mapping key must be a plain value, not a list or mapping")
                continue
            if key_node.tag == _MERGE:
                merge_nodes.append(value_node)
                continue
            key = self._scalar(key_node)
            if key in first_seen:
                line, _ = first_seen[key]
                self.report(key_node, f"duplicate key {key!r} (first defined at line {line})")
                continue
            first_seen[key] = _pos(key_node)
            self.keys.setdefault((*loc, key), _pos(key_node))
            result[key] = self.build(value_node, (*loc, key))
        # Merged after the explicit keys, so that those keep their own positions.
        for merge_node in merge_nodes:
            for source in self._merge_sources(merge_node, loc):
                for key, value in source.items():
                    result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, loc: Loc) -> list[dict[Any, Any]]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        sources = []
        for item in nodes:
            if not isinstance(item, MappingNode):
                self.report(item, "a merge key '<<' needs a mapping or a list of mappings")
                continue
            # Merged values point at the anchor's text.
            sources.append(self._mapping(item, loc))
        return sources
