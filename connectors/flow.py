"""The flow connector: control flow, hooks, sub-flows, blocks and connector actions.

``set``, ``if``, ``for_each``, ``retry``, ``try``, ``assert``, ``fail``, ``pause``, ``call``,
``include``, ``within`` and ``use`` (models in :mod:`orchestrator.model.steps`), registered
through the entry point group like every other connector (:data:`CONNECTOR`).

Nested steps run through the interpreter's ``run`` with their path prefix, e.g.
``steps[2].do``; variables a block introduces (``as``, ``error``, ``include``'s ``with``) are
restored when it ends. A ``try`` whose ``on_error`` completes and a ``retry`` whose later
attempt succeeds end the failure chain that started inside them
(:meth:`~connectors.step_run.StepRun.recovered`).
"""

from __future__ import annotations

from typing import Any

from connectors.step_run import StepRun
from orchestrator.errors import AssertionFailed, DeliberateFailure, ExpressionError, StepFailed
from orchestrator.model import steps as s
from orchestrator.model.registry import ConnectorSpec, StepKind

_MISSING = object()


def _set(it: StepRun, step: Any, path: str) -> None:
    for name, template in step.set_.items():
        it.vars[name] = it.value(template)


def _if(it: StepRun, step: Any, path: str) -> None:
    if it.condition(step.if_, path):
        it.run(step.then, f"{path}.then")
    elif step.else_:
        it.run(step.else_, f"{path}.else")


def _for_each(it: StepRun, step: Any, path: str) -> None:
    items = it.value(step.for_each)
    if isinstance(items, dict):
        items = list(items.items())
    if not isinstance(items, list | tuple):
        raise ExpressionError(
            path, f"for_each needs a list, but {step.for_each!r} is a {type(items).__name__}"
        )
    previous = it.vars.get(step.as_, _MISSING)
    try:
        for index, item in enumerate(items):
            it.vars[step.as_] = item
            here = f"{path}[{index}]"
            with it.iteration(here, _label(it, step, item)):
                it.run(step.do, f"{here}.do")
    finally:
        _restore(it.vars, step.as_, previous)


def _label(it: StepRun, step: Any, item: Any) -> str:
    """What names an iteration: the step's ``label``, else the item's first field
    (``vorgang.Nummer = GA-2026-000231``) or the item itself, shortened."""
    if step.label is not None:
        try:
            text = f"{step.as_} = {it.text(step.label)}"
        except Exception:  # a label that cannot render must not fail the loop
            text = f"{step.as_} = ?"
    elif isinstance(item, dict) and item:
        key = next(iter(item))
        text = f"{step.as_}.{key} = {item[key]}"
    else:
        text = f"{step.as_} = {item}"
    return text if len(text) <= 100 else text[:99] + "…"


def _retry(it: StepRun, step: Any, path: str) -> None:
    mark = it.failure_mark()
    for attempt in range(1, step.attempts + 1):
        last = attempt == step.attempts
        try:
            with it.recovering(not last):
                if attempt > 1 and step.before_retry:  # part of the attempt: may fail it
                    it.run(step.before_retry, f"{path}.before_retry")
                it.run(step.retry, f"{path}.retry")
            it.recovered(mark)
            return
        except StepFailed as exc:
            if last:
                raise
            pause = step.backoff * 2 ** (attempt - 1)
            it.log.warning(
                "attempt failed; retrying",
                step=path,
                attempt=attempt,
                attempts=step.attempts,
                pause_s=pause,
                error=it.redactor.redact(str(exc)),
            )
        it.sleep(pause, path)


def _try(it: StepRun, step: Any, path: str) -> None:
    mark = it.failure_mark()
    try:
        with it.recovering():
            it.run(step.try_, f"{path}.try")
        return
    except StepFailed as exc:
        failure = exc
    previous = it.vars.get("error", _MISSING)
    it.vars["error"] = {"message": it.redactor.redact(failure.reason), "step": failure.step_path}
    try:
        it.run(step.on_error, f"{path}.on_error")
    finally:
        _restore(it.vars, "error", previous)
    it.recovered(mark)


def _assert(it: StepRun, step: Any, path: str) -> None:
    if not it.condition(step.assert_, path):
        message = it.text(step.message) if step.message else f"assertion failed: {step.assert_}"
        raise AssertionFailed(path, message)


def _fail(it: StepRun, step: Any, path: str) -> None:
    message = it.text(step.fail)
    it.log.warning(
        "fail step reached", step=path, kind=str(step.kind), message=it.redactor.redact(message)
    )
    raise DeliberateFailure(path, message, step.kind)


def _pause(it: StepRun, step: Any, path: str) -> None:
    it.sleep(step.pause, path)


def _call(it: StepRun, step: Any, path: str) -> None:
    kwargs = it.revealed(step.with_)
    result = it.call_hook(step.call, kwargs, it.timeout(step), path)
    if step.into:
        it.vars[step.into] = result


def _include(it: StepRun, step: Any, path: str) -> None:
    flow = it.subflow(step.include)
    if flow is None:
        raise StepFailed(path, f"sub-flow {step.include!r} was not loaded with the bot")
    values = it.value(step.with_)
    previous = {name: it.vars.get(name, _MISSING) for name in values}
    it.vars.update(values)
    try:
        it.run(flow.steps, f"{path}.include")
    finally:
        for name, value in previous.items():
            _restore(it.vars, name, value)


def _restore(variables: dict[str, Any], name: str, previous: Any) -> None:
    if previous is _MISSING:
        variables.pop(name, None)
    else:
        variables[name] = previous


def _within(it: StepRun, step: Any, path: str) -> None:
    with it.scoped(step.within):
        it.run(step.do, f"{path}.do")


def _use(it: StepRun, step: Any, path: str) -> None:
    result = it.use_action(step.use, it.revealed(step.with_), it.timeout(step), path)
    if step.into:
        it.vars[step.into] = result


INTO = ("into",)

CONNECTOR = ConnectorSpec(
    name="flow",
    description="Control flow of the bot language: variables, conditions, loops, retries, "
    "error handling, blocks with shared options, Python hooks, sub-flows and connector "
    "actions.",
    steps=(
        StepKind(s.SetStep, _set, creates=("set",)),
        StepKind(s.IfStep, _if),
        StepKind(s.ForEachStep, _for_each, binds=("@as",), sees={"label": ("@as",)}),
        StepKind(s.RetryStep, _retry),
        StepKind(s.TryStep, _try),  # `error` in on_error: known to validation
        StepKind(s.WithinStep, _within),
        StepKind(s.AssertStep, _assert),
        StepKind(s.FailStep, _fail),
        StepKind(s.PauseStep, _pause),
        StepKind(s.CallStep, _call, secret_fields=("with",), creates=INTO),
        StepKind(s.IncludeStep, _include),
        StepKind(s.UseStep, _use, secret_fields=("with",), creates=INTO),
    ),
)
