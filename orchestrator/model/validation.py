"""Checks beyond the schema: names in templates, secrets, hooks and fixed pauses.

They run on the raw YAML data, not on the models, so that a file with a schema error still
gets every other problem reported in the same pass. Scoping is flow-insensitive: a variable
made anywhere in the bot or its sub-flows (by ``set``, ``into``, ``include``'s ``with``) counts
everywhere (the bot's ``finally`` steps included); a ``for_each``'s ``as`` variable only inside
its ``do`` block; ``error`` only inside ``on_error``. Example::

    problems = check_flows(Path("bots/x"), [FlowFile(bot_doc), FlowFile(login_doc, inputs)])
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2.exceptions import TemplateError

from orchestrator.errors import Problem
from orchestrator.model import registry
from orchestrator.model.hooks import HookNotFound, resolve_hook, signature_problems
from orchestrator.model.schema_errors import did_you_mean
from orchestrator.model.steps import CallStep, Step, key_kind, step_key
from orchestrator.model.templates import (
    JINJA_GLOBALS,
    TemplateReferences,
    expression_references,
    template_references,
)
from orchestrator.model.yaml_loader import Loc, YamlDocument

#: Attributes of ``run`` in templates.
RUN_FIELDS = ("id", "bot", "tenant", "dir", "started_at")
#: Names every template may use besides the bot's own.
BUILTIN_NAMES = frozenset({"params", "secrets", "targets", "run", "loop"}) | JINJA_GLOBALS
#: Keys whose value is a condition (a bare expression or ``{{ ... }}``).
CONDITION_KEYS = frozenset({"if", "when", "assert"})
#: Keys whose value is a name or a path, never a template.
NAME_KEYS = frozenset({"call", "include", "into", "as", "use"})


def child_keys(kind: str | None) -> tuple[str, ...]:
    """Keys of a step kind holding nested step lists, e.g. ``("then", "else")`` for ``if``."""
    model = registry.installed().step_models().get(kind or "")
    if model is None:
        return ()
    return tuple(
        (info.alias or name)
        for name, info in model.model_fields.items()
        if info.annotation == list[Step]
    )


def _secret_fields(kind: str | None) -> tuple[str, ...]:
    step = registry.installed().step_kinds().get(kind or "")
    return step.secret_fields if step is not None else ()


def _binds(kind: str | None) -> tuple[str, ...]:
    step = registry.installed().step_kinds().get(kind or "")
    return step.binds if step is not None else ()


def _sees(kind: str | None) -> Mapping[str, tuple[str, ...]]:
    step = registry.installed().step_kinds().get(kind or "")
    return step.sees if step is not None else {}


def _names(kind: str | None, step: StepVisit, spec: tuple[str, ...]) -> frozenset[str]:
    """The variable names ``spec`` stands for in ``step`` (``@as``: the value of ``as``, or
    the model's default when the step leaves it out)."""
    names: set[str] = set()
    model = registry.installed().step_models().get(kind or "")
    for entry in spec:
        if not entry.startswith("@"):
            names.add(entry)
            continue
        key = entry[1:]
        value = step.get(key)
        if value is None and model is not None:
            info = next((i for n, i in model.model_fields.items() if (i.alias or n) == key), None)
            value = info.default if info is not None else None
        if isinstance(value, str):
            names.add(value)
    return frozenset(names)


def _creates(kind: str | None) -> tuple[str, ...]:
    step = registry.installed().step_kinds().get(kind or "")
    return step.creates if step is not None else ("into",)


#: Top-level keys of a bot file holding step lists, in the order they run.
FLOW_KEYS = ("steps", "finally")
_WHOLE_SECRET = re.compile(r"^\s*\{\{\s*secrets\.\w+\s*\}\}\s*$")
_HOOK_REF = re.compile(CallStep.model_fields["call"].metadata[0].pattern)


@dataclass(frozen=True)
class FlowFile:
    """A parsed bot file or sub-flow file, with the inputs a sub-flow declares."""

    doc: YamlDocument
    inputs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StepVisit:
    """One step met while walking a flow: where it is and what is in scope there.

    ``kind`` is the kind's name (``click`` for ``click:`` and ``browser.click:``,
    ``notiz.click``), ``key`` the kind key as written; :meth:`get` and :meth:`at` take a
    field's bare key and find it under whichever kind key the author wrote.
    """

    loc: Loc
    step: dict[str, Any]
    kind: str | None
    local_names: frozenset[str]
    in_on_error: bool
    key: str | None = None

    def written(self, field: str) -> str:
        """The key ``field`` has in the raw step: the kind key as written for the kind's own
        field (``flow.retry`` for ``retry``), else ``field``."""
        if self.key is not None and field == self.key.rpartition(".")[2]:
            return self.key
        return field

    def get(self, field: str) -> Any:
        """The raw value of ``field`` (see :meth:`written`), None when absent."""
        return self.step.get(self.written(field))

    def at(self, field: str) -> Loc:
        """Where ``field`` of this step is (see :meth:`written`)."""
        return (*self.loc, self.written(field))


def iter_steps(
    steps: Any, loc: Loc, local: frozenset[str] = frozenset(), in_on_error: bool = False
) -> Iterator[StepVisit]:
    """Every step mapping in a raw step list, nested blocks included, depth first."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        written = step_key(step)
        kind = key_kind(written)
        here = (*loc, index)
        visit = StepVisit(here, step, kind, local, in_on_error, written)
        yield visit
        bound = _names(kind, visit, _binds(kind))
        for key in child_keys(kind):
            inner = local | bound
            yield from iter_steps(
                visit.get(key), visit.at(key), inner, in_on_error or key == "on_error"
            )


def iter_flow_steps(data: Any) -> Iterator[StepVisit]:
    """Every step of a parsed bot or sub-flow file: its ``steps``, then its ``finally``.

    Example: ``[v.loc for v in iter_flow_steps(doc.data)]`` -> ``[("steps", 0), ...,
    ("finally", 0)]``.
    """
    mapping = data if isinstance(data, dict) else {}
    for key in FLOW_KEYS:
        yield from iter_steps(mapping.get(key), (key,))


def declared_names(bot_data: Any) -> dict[str, set[str]]:
    """The parameters, secrets and targets a raw bot definition declares."""
    data = bot_data if isinstance(bot_data, dict) else {}
    secrets = data.get("secrets")
    params, targets = data.get("parameters"), data.get("targets")
    return {
        "params": {str(k) for k in params} if isinstance(params, dict) else set(),
        "secrets": {str(s) for s in secrets} if isinstance(secrets, dict | list) else set(),
        "targets": {str(t) for t in targets} if isinstance(targets, list) else set(),
        "run": set(RUN_FIELDS),
    }


def made_variables(flows: list[FlowFile]) -> set[str]:
    """Variables made anywhere: what each step kind declares it creates (``set`` keys,
    ``into``, ...) and ``include``'s ``with`` keys."""
    made: set[str] = set()
    for flow in flows:
        for visit in iter_flow_steps(flow.doc.data):
            creates = (*_creates(visit.kind), *(("with",) if visit.kind == "include" else ()))
            for key in creates:
                value = visit.get(key)
                if isinstance(value, dict):
                    made.update(str(k) for k in value)
                elif isinstance(value, str) and key != "as":
                    made.add(value)
    return made


def check_flows(bot_dir: Path, bot_id: str, flows: list[FlowFile]) -> list[Problem]:
    """Semantic problems of a bot (``flows[0]``) and its sub-flows (``flows[1:]``).

    Args:
        bot_dir: The bot's directory, where hook modules are looked up first.
        bot_id: The bot's id (names the private package of its hook modules).
        flows: The bot file first, then every sub-flow it includes.
    """
    checker = _Checker(bot_dir, bot_id, declared_names(flows[0].doc.data), made_variables(flows))
    for flow in flows:
        checker.check_flow(flow)
    unique = dict.fromkeys(checker.problems)
    return list(unique)


class _Checker:
    def __init__(
        self, bot_dir: Path, bot_id: str, declared: dict[str, set[str]], made: set[str]
    ) -> None:
        self.bot_dir, self.bot_id = bot_dir, bot_id
        self.declared, self.made = declared, made
        self.problems: list[Problem] = []
        self._hooks: dict[str, Any] = {}

    def check_flow(self, flow: FlowFile) -> None:
        doc = flow.doc
        for visit in iter_flow_steps(doc.data):
            scope = self.made | flow.inputs | visit.local_names
            if visit.in_on_error:
                scope = scope | {"error"}
            self._check_step(doc, visit, scope)

    def _check_step(self, doc: YamlDocument, visit: StepVisit, scope: set[str]) -> None:
        kind = visit.kind
        if kind == "pause":
            doc_problem = doc.problem(
                visit.at("pause"),
                "pause waits a fixed time; prefer wait_for, which waits only as long as needed",
                at_key=True,
                severity="warning",
            )
            self.problems.append(doc_problem)
        if kind == "call":
            self._check_call(doc, visit)
        if kind == "use":
            self._check_use(doc, visit)
        for key, value in visit.step.items():
            field = key if key != visit.key else key.rpartition(".")[2]
            if field in NAME_KEYS or field in child_keys(kind):
                continue
            secrets_allowed = field in _secret_fields(kind)
            here = scope | _names(kind, visit, _sees(kind).get(field, ()))
            for loc, text in _strings(value, (*visit.loc, key)):
                self._check_text(doc, loc, text, field in CONDITION_KEYS, here, secrets_allowed)

    def _check_text(
        self, doc: YamlDocument, loc: Loc, text: str, condition: bool, scope: set[str],
        secrets_allowed: bool,
    ) -> None:  # fmt: skip
        try:
            refs = expression_references(text) if condition else template_references(text)
        except TemplateError as exc:
            lineno = getattr(exc, "lineno", 1)
            line = f" (line {lineno} of the text)" if lineno > 1 else ""
            kind = "condition" if condition else "template"
            reason = exc.message or type(exc).__name__
            self.problems.append(doc.problem(loc, f"invalid {kind}: {reason}{line}"))
            return
        for message in self._reference_problems(refs, scope, secrets_allowed):
            self.problems.append(doc.problem(loc, message))
        secrets = [attr for namespace, attr in refs.attributes if namespace == "secrets"]
        if secrets_allowed and secrets and secrets[0] and not _WHOLE_SECRET.match(text):
            self.problems.append(
                doc.problem(
                    loc,
                    f"secrets.{secrets[0]} can only be used as a whole value, "
                    f'"{{{{ secrets.{secrets[0]} }}}}", not inside a longer text',
                )
            )

    def _reference_problems(
        self, refs: TemplateReferences, scope: set[str], secrets_allowed: bool
    ) -> Iterator[str]:
        for namespace, attribute in refs.attributes:
            known = self.declared[namespace]
            if namespace == "secrets" and not secrets_allowed:
                yield (
                    f"secrets.{attribute or '...'} may only be used as a fill value or a call "
                    "argument (anywhere else it could end up in logs)"
                )
            elif attribute is None:
                if namespace == "secrets":
                    yield "use a secret by name, as secrets.NAME"
            elif attribute not in known:
                what = {"params": "parameter", "secrets": "secret", "targets": "target",
                        "run": "run attribute"}[namespace]  # fmt: skip
                listed = ", ".join(sorted(known)) or "none"
                yield (
                    f"{namespace}.{attribute} is not a declared {what} (declared: {listed})"
                    f"{did_you_mean(attribute, known)}"
                )
        for name in sorted(refs.names - BUILTIN_NAMES - scope):
            if name == "error":
                yield "'error' is only defined inside on_error"
                continue
            yield (
                f"undeclared variable {name!r} (made nowhere by set, into, for_each's as "
                f"or include's with){did_you_mean(name, scope | self.declared['params'])}"
            )

    def _check_call(self, doc: YamlDocument, visit: StepVisit) -> None:
        ref = visit.get("call")
        if not isinstance(ref, str) or not _HOOK_REF.match(ref):
            return  # the schema check reports it
        loc = visit.at("call")
        if ref not in self._hooks:
            try:
                self._hooks[ref] = resolve_hook(self.bot_dir, ref, self.bot_id)
            except HookNotFound as exc:
                self._hooks[ref] = exc
        hook = self._hooks[ref]
        if isinstance(hook, HookNotFound):
            self.problems.append(doc.problem(loc, str(hook)))
            return
        with_ = visit.step.get("with")
        keys = [str(k) for k in with_] if isinstance(with_, dict) else []
        for key, message in signature_problems(hook, ref, keys):
            where = (*visit.loc, "with", key) if key is not None else loc
            self.problems.append(doc.problem(where, message, at_key=key is not None))

    def _check_use(self, doc: YamlDocument, visit: StepVisit) -> None:
        """``use: connector.action``: the action exists, its arguments are known, none missing."""
        ref = visit.get("use")
        if not isinstance(ref, str) or "." not in ref:
            return  # the schema check reports it
        loc = visit.at("use")
        actions = registry.installed().actions()
        action = actions.get(ref)
        if action is None:
            connectors = registry.installed().connectors
            owner = connectors.get(ref.partition(".")[0])
            if owner is None:
                message = (
                    f"unknown connector {ref.partition('.')[0]!r} (installed: "
                    f"{', '.join(sorted(connectors))})"
                )
            else:
                names = [a.name for a in owner.actions]
                message = (
                    f"connector {owner.name!r} has no action {ref.partition('.')[2]!r} (it has: "
                    f"{', '.join(names) or 'none'}){did_you_mean(ref.partition('.')[2], names)}"
                )
            self.problems.append(doc.problem(loc, message))
            return
        given = visit.step.get("with")
        keys = [str(k) for k in given] if isinstance(given, dict) else []
        fields = action.arguments.model_fields
        for key in keys:
            if key not in fields:
                self.problems.append(
                    doc.problem(
                        (*visit.loc, "with", key),
                        f"{ref} has no argument {key!r} (it takes: {', '.join(fields) or 'none'})"
                        f"{did_you_mean(key, fields)}",
                        at_key=True,
                    )
                )
        missing = [name for name, info in fields.items() if info.is_required() and name not in keys]
        if missing:
            self.problems.append(
                doc.problem(loc, f"{ref} needs the argument(s) {', '.join(missing)} in with:")
            )


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every string inside a value, with its path (mapping keys are names, not templates)."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))
