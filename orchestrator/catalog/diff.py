"""What changed between two versions of a bot, for a reviewer (``bots catalog diff``).

Works on two file maps (relative path -> content, see :mod:`orchestrator.catalog.files`) and
tells, instead of a line diff:

- **steps** added, removed or changed, by path (``steps[3].do[0]``) with their kind and name,
  in the bot file and every sub-flow. Steps are matched by their content, so a step inserted
  early does not make every later step "changed"; a container step (``if``, ``for_each``,
  ``retry``, ...) counts as changed only for its own keys, its nested steps on their own;
- **connector actions** used (the ``use:`` values) that one version has and the other not;
- **hook functions** added, removed or changed (by their code, not their layout);
- **definition** keys of bot and sub-flow files besides the steps (``version``,
  ``parameters``, ...);
- **other files** added, removed or changed.

Example::

    changes = diff_versions(old_files, new_files)
    for line in diff_lines(changes): print(line)
    #   + bot.yaml steps[5]: use 'Status setzen'
"""

from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from orchestrator.errors import DefinitionError
from orchestrator.model.schema_errors import field_path
from orchestrator.model.validation import FLOW_KEYS, child_keys, iter_flow_steps
from orchestrator.model.yaml_loader import parse_yaml

Change = Literal["added", "removed", "changed"]
_SIGN = {"added": "+", "removed": "-", "changed": "~"}
_FLOW_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class StepChange:
    """A step of one file that one version has and the other not, or has otherwise.

    ``path`` is the step's path in the newer version (in the older one for a removed step);
    ``was`` the older path of a changed step that moved; ``keys`` the keys that changed.
    """

    change: Change
    file: str
    path: str
    kind: str | None
    name: str | None
    was: str | None = None
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedChange:
    """A hook function, or a definition key, of one file: added, removed or changed."""

    change: Change
    file: str
    name: str
    detail: str | None = None


@dataclass(frozen=True)
class VersionDiff:
    """Everything that changed between two versions (see the module docstring)."""

    steps: tuple[StepChange, ...] = ()
    actions_added: tuple[str, ...] = ()
    actions_removed: tuple[str, ...] = ()
    hooks: tuple[NamedChange, ...] = ()
    definition: tuple[NamedChange, ...] = ()
    files: tuple[NamedChange, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the two versions have the same files."""
        return not (
            self.steps
            or self.actions_added
            or self.actions_removed
            or self.hooks
            or self.definition
            or self.files
        )

    def to_json(self) -> dict[str, Any]:
        """As JSON-ready data (``bots catalog diff --json``)."""
        return asdict(self)


def diff_versions(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> VersionDiff:
    """What changed from the files ``old`` to the files ``new`` (relative path -> content)."""
    old_flows, new_flows = _flows(old), _flows(new)
    steps: list[StepChange] = []
    definition: list[NamedChange] = []
    for name in sorted(old_flows.keys() | new_flows.keys()):
        before, after = old_flows.get(name, {}), new_flows.get(name, {})
        steps += _step_changes(name, _steps(before), _steps(after))
        definition += _key_changes(name, before, after)
    hooks = [
        change
        for name in sorted(old.keys() | new.keys())
        if name.endswith(".py") and old.get(name) != new.get(name)
        for change in _hook_changes(name, old.get(name), new.get(name))
    ]
    old_actions, new_actions = _actions(old_flows), _actions(new_flows)
    both = old_flows.keys() & new_flows.keys()
    told = {step.file for step in steps} | {key.file for key in definition}
    return VersionDiff(
        steps=tuple(steps),
        actions_added=tuple(sorted(new_actions - old_actions)),
        actions_removed=tuple(sorted(old_actions - new_actions)),
        hooks=tuple(hooks),
        definition=tuple(definition),
        files=tuple(_file_changes(old, new, both, told)),
    )


def diff_lines(changes: VersionDiff) -> list[str]:
    """``changes`` as text, one section per kind of change; ``no differences`` if none."""
    if changes.empty:
        return ["no differences: the two versions have the same files"]
    lines: list[str] = []
    if changes.steps:
        lines += ["steps:", *(f"  {_step_line(step)}" for step in changes.steps)]
    if changes.actions_added or changes.actions_removed:
        lines.append("connector actions used:")
        lines += [f"  + {action}" for action in changes.actions_added]
        lines += [f"  - {action}" for action in changes.actions_removed]
    for title, named in (("hook functions", changes.hooks), ("definition", changes.definition)):
        if named:
            lines += [f"{title}:", *(f"  {_named_line(change)}" for change in named)]
    if changes.files:
        lines += ["files:", *(f"  {_named_line(change)}" for change in changes.files)]
    return lines


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class _Step:
    path: str
    kind: str | None
    name: str | None
    own: dict[str, Any]  # the step's keys without its nested step lists

    @property
    def signature(self) -> str:
        return json.dumps(self.own, sort_keys=True, ensure_ascii=False, default=str)


def _flows(files: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """The YAML files holding steps (bot file, sub-flows), parsed; others are plain files."""
    flows: dict[str, dict[str, Any]] = {}
    for name, content in files.items():
        if not name.endswith(_FLOW_SUFFIXES):
            continue
        try:
            data = parse_yaml(content.decode("utf-8"), name).data
        except (DefinitionError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and any(key in data for key in FLOW_KEYS):
            flows[name] = data
    return flows


def _steps(data: dict[str, Any]) -> list[_Step]:
    steps = []
    for visit in iter_flow_steps(data):
        nested = {visit.written(key) for key in child_keys(visit.kind)}
        own = {key: value for key, value in visit.step.items() if key not in nested}
        name = visit.step.get("name")
        steps.append(
            _Step(field_path(visit.loc), visit.kind, name if isinstance(name, str) else None, own)
        )
    return steps


def _step_changes(file: str, old: list[_Step], new: list[_Step]) -> Iterator[StepChange]:
    matcher = difflib.SequenceMatcher(
        a=[s.signature for s in old], b=[s.signature for s in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        while removed and added and removed[0].kind == added[0].kind:
            before, after = removed.pop(0), added.pop(0)
            yield _changed(file, before, after)
        yield from (_one("removed", file, step) for step in removed)
        yield from (_one("added", file, step) for step in added)


def _one(change: Change, file: str, step: _Step) -> StepChange:
    return StepChange(change, file, step.path, step.kind, step.name)


def _changed(file: str, before: _Step, after: _Step) -> StepChange:
    keys = sorted(
        str(key)
        for key in before.own.keys() | after.own.keys()
        if before.own.get(key) != after.own.get(key)
    )
    was = before.path if before.path != after.path else None
    name = after.name or before.name
    return StepChange("changed", file, after.path, after.kind, name, was, tuple(keys))


def _step_line(step: StepChange) -> str:
    what = step.kind or "step"
    if step.name:
        what += f" {step.name!r}"
    where = f"{step.file} {step.path}" + (f" (was {step.was})" if step.was else "")
    changed = f"; changed: {', '.join(step.keys)}" if step.keys else ""
    return f"{_SIGN[step.change]} {where}: {what}{changed}"


def _actions(flows: Mapping[str, dict[str, Any]]) -> set[str]:
    return {
        str(visit.get("use"))
        for data in flows.values()
        for visit in iter_flow_steps(data)
        if visit.kind == "use" and isinstance(visit.get("use"), str)
    }


# --------------------------------------------------------------------------- the rest


def _key_changes(file: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[NamedChange]:
    """Keys of a bot or sub-flow file besides its steps; scalars show old and new value."""
    if not old or not new:
        return  # the whole file is added or removed: the files section says so
    for key in [k for k in (*old, *(k for k in new if k not in old)) if k not in FLOW_KEYS]:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change: Change = "added" if key not in old else "removed" if key not in new else "changed"
        scalar = (str, int, float, bool)
        detail = (
            f"{before} -> {after}"
            if isinstance(before, scalar) and isinstance(after, scalar)
            else None
        )
        yield NamedChange(change, file, str(key), detail)


def _functions(source: bytes | None) -> dict[str, str] | None:
    """Top-level functions of a Python file -> their code (as a syntax tree); None: no Python."""
    if source is None:
        return {}
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    return {
        node.name: ast.dump(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _hook_changes(file: str, old: bytes | None, new: bytes | None) -> list[NamedChange]:
    before, after = _functions(old), _functions(new)
    if before is None or after is None:
        return [NamedChange("changed", file, "(the file is no valid Python)")]
    changes = [
        NamedChange(
            "added" if name not in before else "removed" if name not in after else "changed",
            file,
            name,
        )
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]
    if not changes and old is not None and new is not None:
        changes.append(NamedChange("changed", file, "(outside its functions)"))
    return changes


def _file_changes(
    old: Mapping[str, bytes], new: Mapping[str, bytes], flows: set[str], told: set[str]
) -> Iterator[NamedChange]:
    """Files added or removed, and changed files whose change no other section tells
    (``flows``: flow files in both versions; ``told``: files the step or key sections name)."""
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            yield NamedChange("removed", name, name)
        elif name not in old:
            yield NamedChange("added", name, name)
        elif old[name] == new[name] or name.endswith(".py") or name in told:
            continue
        elif name in flows:
            yield NamedChange("changed", name, name, "comments or layout only")
        else:
            yield NamedChange("changed", name, name)


def _named_line(change: NamedChange) -> str:
    where = change.name if change.name == change.file else f"{change.file}: {change.name}"
    detail = f" ({change.detail})" if change.detail else ""
    return f"{_SIGN[change.change]} {where}{detail}"
