"""Turn pydantic's validation errors into human problems that point at YAML nodes.

pydantic says ``literal_error ('steps', 1, 'click', 'click', 'role') Input should be 'alert',
'alertdialog', ...``; a bot author should read::

    bots/x/bot.yaml:7:15: steps[1].click.role: 'buton' is not an ARIA role (did you mean 'button'?)

Each message starts with the offending field as a dotted path from the top of its file
(``version``, ``steps[3].do[0].for_each``, ``parameters.max.type``), written like the step
paths of a run. Messages that name their key themselves (``unknown key 'valeu' in fill step``,
``missing key 'value' in fill step``, ``unknown step kind 'clik'``) go without it, so that
no key is named twice.

The discriminated step union adds the step's kind to the error path right after the list index
(``('steps', 1, 'click', ...)``: the first ``'click'`` is the union's tag); it is dropped before
the path is looked up in the YAML document.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from orchestrator.errors import Problem
from orchestrator.model import registry
from orchestrator.model.bot import BotDefinition, Execution, Owner, Parameter, Retries, SubFlow
from orchestrator.model.locators import Locator
from orchestrator.model.steps import StepBase, step_key_models, step_kinds
from orchestrator.model.yaml_loader import Loc, YamlDocument

M = TypeVar("M", bound=BaseModel)

#: Keys every step may have besides its kind key.
COMMON_STEP_KEYS = tuple(StepBase.model_fields)


def all_step_keys() -> frozenset[str]:
    """Every key some installed step kind accepts, kind keys included."""
    return frozenset(
        (info.alias or name)
        for cls in step_key_models().values()
        for name, info in cls.model_fields.items()
    )


_EXPECTED = {
    "string": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "model_attributes": "a mapping",
    "int_from_float": "a whole number",
}
_PATTERN_HINTS = {
    "id": "is not valid: use lower-case letters, digits and dashes, e.g. 'gewerbe-melden'",
    "version": "is not a semantic version like '1.2.0'",
    "into": "is not a valid variable name (letters, digits, _; not starting with a digit)",
    "as": "is not a valid variable name (letters, digits, _; not starting with a digit)",
    "call": "is not a hook reference like 'hooks:function_name'",
    "screenshot": "must not contain '/' or '\\'",
}


def validate_document(model: type[M], doc: YamlDocument) -> tuple[M | None, list[Problem]]:
    """Validate ``doc.data`` as ``model``; on failure return every error as a Problem.

    Example: ``definition, problems = validate_document(BotDefinition, doc)``.
    """
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, [error_problem(model, doc, err) for err in exc.errors()]


def did_you_mean(word: Any, candidates: Iterable[Any]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``''`` when none is close."""
    if not isinstance(word, str):
        return ""
    names = [c for c in candidates if isinstance(c, str)]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if not close:
        close = [n for n in names if n.lower() == word.lower()]
    return f" (did you mean {close[0]!r}?)" if close else ""


def yaml_type(value: Any) -> str:
    """The YAML name of a value's type: ``string``, ``integer``, ``mapping``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    names = {int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}
    return next((n for t, n in names.items() if isinstance(value, t)), "value")


def describe_value(value: Any) -> str:
    """A value as a YAML author wrote it: ``the string 'abc'``, ``the integer 3``, ``a list``.

    Lists and mappings are named by their type only, a short scalar with its value, an empty
    value (YAML's null: a key with nothing after it) as ``an empty value``.
    """
    if value is None:
        return "an empty value"
    kind = yaml_type(value)
    if isinstance(value, dict | list):
        return f"a {kind}"
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    if len(shown) <= 40:
        return f"the {kind} {shown}"
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


#: A key written as is in a path: a name, or a qualified step kind (``browser.click``).
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[a-z_][a-z0-9_]*)?$")


def field_path(loc: Loc) -> str:
    """A YAML path as a bot author reads it: ``steps[2].click.role``, ``parameters.max``.

    List items get their 0-based index (as the step paths of a run do); keys that are not
    plain names are quoted: ``parameters['max cases']``. The document itself is ``''``.
    """
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


@dataclass
class _Target:
    """What an error path points at: its YAML path, the model holding it, its type."""

    loc: Loc
    owner: type[BaseModel] | None
    field: str | None
    annotation: Any


def _resolve(root: type[BaseModel], loc: Sequence[Any]) -> _Target:
    """Walk pydantic's ``loc`` through the model types, dropping discriminator tags."""
    path: list[Any] = []
    owner: type[BaseModel] | None = None
    field: str | None = None
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if tp is StepBase and isinstance(part, str) and part in step_key_models():
            tp = step_key_models()[part]  # the discriminator's tag: not part of the YAML path
        elif _is_union(tp) and isinstance(part, str) and (member := _named(tp, part)):
            tp = member  # a smart union's member: not part of the YAML path
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            by_key = {(info.alias or name): info for name, info in tp.model_fields.items()}
            owner, field = tp, str(part)
            tp = by_key[part].annotation if part in by_key else Any
            path.append(part)
        elif _is_union(tp) and isinstance(part, str) and (member := _tagged(tp, part)):
            tp = member  # the discriminator's tag: not part of the YAML path
        elif typing.get_origin(tp) in (list, tuple, set) and isinstance(part, int):
            tp = (typing.get_args(tp) or (Any,))[0]
            path.append(part)
        elif typing.get_origin(tp) is dict:
            tp = (typing.get_args(tp) or (Any, Any))[-1]
            path.append(part)
        else:
            tp = Any
            path.append(part)
    return _Target(tuple(path), owner, field, _unwrap(tp))


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the type that matters."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif _is_union(tp):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _named(union: Any, name: str) -> Any:
    for member in typing.get_args(union):
        if isinstance(member, type) and member.__name__ == name:
            return member
    return None


def _tagged(union: Any, tag: str) -> Any:
    for member in typing.get_args(union):
        if typing.get_origin(member) is typing.Annotated:
            base, *meta = typing.get_args(member)
            if any(getattr(m, "tag", None) == tag for m in meta):
                return base
    return None


def _where(owner: type[BaseModel] | None) -> str:
    if owner is None:
        return "here"
    if issubclass(owner, StepBase):
        known = registry.installed().by_model().get(owner)
        return f"{known.name if known is not None else owner.KIND} step"
    names: dict[type[BaseModel], str] = {
        Locator: "locator",
        Owner: "owner",
        Parameter: "parameter",
        BotDefinition: "bot definition",
        SubFlow: "sub-flow",
        Execution: "execution",
        Retries: "execution.retries",
    }
    # A connector's own models name themselves by their title, e.g. "wait_for condition".
    return names.get(owner) or str(owner.model_config.get("title") or owner.__name__)


def _keys(owner: type[BaseModel]) -> list[str]:
    return [(info.alias or name) for name, info in owner.model_fields.items()]


def error_problem(root: type[BaseModel], doc: YamlDocument, err: ErrorDetails) -> Problem:
    """One pydantic error as a Problem at the offending node of ``doc``.

    Example: ``steps[3].for_each: expected a string, got a list``.
    """
    target = _resolve(root, err["loc"])
    kind, value = err["type"], err.get("input")
    field = target.field or ""
    if kind == "unknown_step_kind":
        return _step_kind_problem(doc, target.loc)
    if kind == "extra_forbidden":
        allowed = _keys(target.owner) if target.owner else []
        key = target.loc[-1]
        msg = f"unknown key {key!r} in {_where(target.owner)}{did_you_mean(key, allowed)}"
        return doc.problem(target.loc, msg, at_key=True)
    if kind == "missing":
        return doc.problem(target.loc, f"missing key {field!r} in {_where(target.owner)}")
    return doc.problem(target.loc, _at(target.loc, _field_message(target, kind, value, err)))


def _field_message(target: _Target, kind: str, value: Any, err: ErrorDetails) -> str:
    """What is wrong with the value at ``target``, without naming the field."""
    if kind == "literal_error":
        return _literal_message(target, value)
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        hint = _PATTERN_HINTS.get(target.field or "", f"does not match the pattern {pattern}")
        return f"{value!r} {hint}"
    if kind in ("model_type", "model_attributes_type") and target.annotation is Locator:
        got = describe_value(value)
        return f"expected a locator such as {{role: button, name: Speichern}}, got {got}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    base = kind.removesuffix("_type").removesuffix("_parsing")
    if base in _EXPECTED and (kind != base or kind == "int_from_float"):
        return f"expected {_EXPECTED[base]}, got {describe_value(value)}"
    if kind in ("value_error", "assertion_error"):
        return err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{err['msg'].replace('Input should be', 'must be')}, got {describe_value(value)}"


def _at(loc: Loc, message: str) -> str:
    """``message`` prefixed with the field it is about: ``steps[3].for_each: ...``.

    A message that starts with the field's own name (``wait_for needs exactly one of ...``)
    loses that name, so that the field is named once.
    """
    path = field_path(loc)
    if not path:
        return message
    last = str(loc[-1])
    for lead in (f"{last} ", f"`{last}` ", f"{last!r} "):
        if message.startswith(lead):
            message = message.removeprefix(lead)
            break
    return f"{path}: {message}"


def _literal_message(target: _Target, value: Any) -> str:
    choices = list(typing.get_args(target.annotation)) if _is_literal(target.annotation) else []
    shown = repr(value) if isinstance(value, str) else describe_value(value)
    if target.owner is Locator and target.field == "role":
        return f"{shown} is not an ARIA role{did_you_mean(value, choices)}"
    listed = ", ".join(str(c) for c in choices)
    return f"{shown} is not one of: {listed}{did_you_mean(value, choices)}"


def _is_literal(tp: Any) -> bool:
    return typing.get_origin(tp) is Literal


def _step_kind_problem(doc: YamlDocument, loc: Loc) -> Problem:
    """A step without exactly one kind key: say what was found, suggest what was meant."""
    step = doc.get(loc)
    kinds = step_kinds()
    keys = registry.installed().step_keys()
    kinds_list = ", ".join(kinds)
    if not isinstance(step, dict):
        return doc.problem(
            loc, _at(loc, f"a step must be a mapping with one kind key such as 'click: ...', "
            f"got {describe_value(step)}"),
        )  # fmt: skip
    found = [k for k in step if k in keys]
    if len(found) > 1:
        return doc.problem(
            loc, _at(loc, f"a step needs exactly one kind key, found several: {', '.join(found)}")
        )
    unknown = [k for k in step if k not in all_step_keys()]
    if unknown:
        key = unknown[0]
        return doc.problem((*loc, key), _unknown_kind(key, kinds_list), at_key=True)
    written = ", ".join(str(k) for k in step) or "none"
    return doc.problem(
        loc, _at(loc, f"a step needs one kind key (one of: {kinds_list}); found only: {written}")
    )


def _unknown_kind(key: Any, kinds_list: str) -> str:
    """Why ``key`` is no step kind: an unknown or uninstalled connector's, a connector's that
    has no such kind, or a misspelt one."""
    installed = registry.installed()
    connector, dot, kind = str(key).partition(".")
    if dot and connector in installed.connectors:
        own = [step.kind for step in installed.connectors[connector].steps]
        return (
            f"connector {connector!r} has no step kind {kind!r} (it has: "
            f"{', '.join(own) or 'none'}){did_you_mean(kind, own)}"
        )
    if dot:
        return (
            f"unknown step kind {key!r}: no connector {connector!r} is installed (installed: "
            f"{', '.join(sorted(installed.connectors))}; bots connectors list)"
        )
    hint = did_you_mean(key, step_kinds())
    return f"unknown step kind {key!r} (expected one of: {kinds_list}){hint}"
