"""The desktop step kinds: one function per kind, each a thin call into the session.

Each function renders its templates through the interpreter it is given (``it``), turns the
step's :class:`~connectors.desktop.steps.Control` into a
:class:`~connectors.desktop.locate.ControlSpec` and calls
:class:`~connectors.desktop.session.DesktopSession` with the step's timeout. Where a
locator's fallback matched instead of the locator itself, the run log says which one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import ConnectorError, ConnectorTimeout, ElementNotFound
from connectors.desktop import lists
from connectors.desktop.locate import ControlSpec
from connectors.desktop.steps import Control, WindowQuery, control_fields
from connectors.step_run import StepRun
from orchestrator.results import ArtifactKind

if TYPE_CHECKING:
    from connectors.desktop.session import DesktopSession


def _desktop(it: StepRun) -> DesktopSession:
    session: DesktopSession = it.session("desktop")
    return session


def spec_of(it: StepRun, control: Control) -> ControlSpec:
    """The control's locator with its templates rendered."""
    values = control_fields(control)
    for key in ("name", "automation_id", "ocr"):
        if values[key] is not None:
            values[key] = it.text(values[key])
    return ControlSpec(
        **values,
        origin=spec_of(it, control.origin) if control.origin is not None else None,
        within=spec_of(it, control.within) if control.within is not None else None,
        fallbacks=tuple(spec_of(it, fallback) for fallback in control.fallbacks),
    )


def _located(it: StepRun, control: Control, path: str, timeout: float) -> ControlSpec:
    """The spec of ``control``, narrowed to the fallback that matches now (logged)."""
    spec = spec_of(it, control)
    if not spec.fallbacks:
        return spec
    _, used = _desktop(it).find(spec, timeout=timeout)
    if used is not spec:
        it.log.info("desktop fallback matched", step=path, locator=used.describe(),
                    instead_of=spec.describe())  # fmt: skip
    return used


def _window_query(it: StepRun, query: WindowQuery) -> dict[str, Any]:
    pid = it.text(query.process) if query.process is not None else None
    if pid is not None and not pid.strip().isdigit():
        raise ConnectorError(f"window: process must be a process id, got {pid!r}")
    return {
        "title": it.text(query.title) if query.title is not None else None,
        "pattern": it.text(query.pattern) if query.pattern is not None else None,
        "pid": int(pid) if pid is not None else None,
        "dialog": query.dialog,
    }


def start_app(it: StepRun, step: Any, path: str) -> None:
    command = [it.text(step.start_app), *(it.text(arg) for arg in step.args)]
    cwd = Path(it.text(step.cwd)) if step.cwd else None
    if cwd is not None and not cwd.is_absolute():
        cwd = it.bot_dir / cwd
    env = {key: it.text(value) for key, value in step.env.items()}
    pid = _desktop(it).start_app(command, cwd=cwd, env=env, accessible=step.accessible)
    it.log.info("application started", step=path, program=command[0], pid=pid)
    if step.into:
        it.vars[step.into] = pid


def window(it: StepRun, step: Any, path: str) -> None:
    desktop, timeout = _desktop(it), it.timeout(step)
    found = desktop.use_window(**_window_query(it, step.window), timeout=timeout)
    if step.maximise:
        desktop.maximise(timeout=timeout)
    it.log.info("window in use", step=path, title=found.name, pid=found.pid)
    if step.into:
        it.vars[step.into] = found.name


def click(it: StepRun, step: Any, path: str) -> None:
    timeout = it.timeout(step)
    spec = _located(it, step.click, path, timeout)
    _desktop(it).click(spec, button=step.button, double=step.double, timeout=timeout)


def fill(it: StepRun, step: Any, path: str) -> None:
    timeout = it.timeout(step)
    value = it.revealed(step.value)  # a secret is only ever revealed in handlers and hooks
    text = value if isinstance(value, str) else str(value)
    secret = "secrets." in step.value
    spec = _located(it, step.fill, path, timeout)
    if step.by == "keys":
        _desktop(it).fill_keys(spec, text, timeout=timeout, secret=secret)
    else:
        _desktop(it).set_text(spec, text, timeout=timeout, secret=secret)


def type_text(it: StepRun, step: Any, path: str) -> None:
    timeout = it.timeout(step)
    value = it.revealed(step.type_text)
    text = value if isinstance(value, str) else str(value)
    spec = _located(it, step.control, path, timeout) if step.control is not None else None
    _desktop(it).type_text(spec, text, timeout=timeout, secret="secrets." in step.type_text)


def hotkey(it: StepRun, step: Any, path: str) -> None:
    _desktop(it).hotkey(it.text(step.hotkey), timeout=it.timeout(step))


def select(it: StepRun, step: Any, path: str) -> None:
    timeout = it.timeout(step)
    spec = _located(it, step.select, path, timeout)
    lists.choose(_desktop(it), spec, it.text(step.option), timeout=timeout)


def check(it: StepRun, step: Any, path: str) -> None:
    timeout = it.timeout(step)
    _desktop(it).set_checked(_located(it, step.check, path, timeout), True, timeout=timeout)


def uncheck(it: StepRun, step: Any, path: str) -> None:
    timeout = it.timeout(step)
    _desktop(it).set_checked(_located(it, step.uncheck, path, timeout), False, timeout=timeout)


def extract(it: StepRun, step: Any, path: str) -> None:
    desktop, timeout = _desktop(it), it.timeout(step)
    spec = spec_of(it, step.extract)
    if step.get in ("count", "exists"):
        count = desktop.count(spec, timeout=timeout)
        it.vars[step.into] = count if step.get == "count" else count > 0
        return
    spec = _located(it, step.extract, path, timeout)
    if step.get == "checked":
        it.vars[step.into] = desktop.checked(spec, timeout=timeout)
    elif step.get == "rows":
        it.vars[step.into] = lists.rows(desktop, spec, timeout=timeout)
    else:
        it.vars[step.into] = desktop.read(spec, timeout=timeout)


def wait_for(it: StepRun, step: Any, path: str) -> None:
    condition = step.wait_for
    desktop, timeout = _desktop(it), it.timeout(step)
    gone = condition.state == "gone"
    try:
        if condition.control is not None:
            desktop.wait_control(spec_of(it, condition.control), gone=gone, timeout=timeout)
        elif condition.window is not None:
            query = _window_query(it, condition.window)
            if gone:
                desktop.wait_window_gone(**query, timeout=timeout)
            else:
                desktop.find_window(**query, timeout=timeout)
        else:
            desktop.wait_text(it.text(condition.text), gone=gone, timeout=timeout)
    except (ConnectorTimeout, ElementNotFound):
        if step.into is None or it.remaining() <= 0:
            raise
        it.vars[step.into] = False
        return
    if step.into is not None:
        it.vars[step.into] = True


def screenshot(it: StepRun, step: Any, path: str) -> None:
    name = Path(it.text(step.screenshot)).name
    if not name.lower().endswith(".png"):
        name += ".png"
    target = it.run_dir / "screenshots" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    _desktop(it).screenshot(target, window=step.of == "window", timeout=it.timeout(step))
    it.keep(target, ArtifactKind.SCREENSHOT, step_path=path)


def close_app(it: StepRun, step: Any, path: str) -> None:
    _desktop(it).close_app(it.text(step.close_app), timeout=it.timeout(step))
