"""The browser step kinds: one function per kind, each a thin call into the connector.

Each function renders its templates, converts the locator to a
:class:`~connectors.base.LocatorSpec` and calls :class:`~connectors.browser.BrowserSession`
with the step's timeout. Connector errors propagate; the interpreter turns them into
:class:`~orchestrator.errors.StepFailed` naming the step. Two answer instead of failing: an
optional ``wait_for`` (with ``into``) stores whether its condition came true in time, and
``extract`` with ``get: count`` stores how many elements match now (0 included).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import ConnectorTimeout, ElementNotFound
from orchestrator.engine.secrets import reveal
from orchestrator.results import ArtifactKind

if TYPE_CHECKING:
    from orchestrator.engine.interpreter import Handler, Interpreter


def _goto(it: Interpreter, step: Any, path: str) -> None:
    it.browser.goto(it.text(step.goto), wait_until=step.wait_until, timeout=it.timeout(step))


def _click(it: Interpreter, step: Any, path: str) -> None:
    it.browser.click(
        it.locator(step.click), button=step.button, double=step.double, timeout=it.timeout(step)
    )


def _fill(it: Interpreter, step: Any, path: str) -> None:
    value = reveal(it.value(step.value))  # a secret is only ever revealed here and in hooks
    text = value if isinstance(value, str) else str(value)
    it.browser.fill(it.locator(step.fill), text, timeout=it.timeout(step))


def _select(it: Interpreter, step: Any, path: str) -> None:
    it.browser.select_option(
        it.locator(step.select), it.text(step.option), timeout=it.timeout(step)
    )


def _check(it: Interpreter, step: Any, path: str) -> None:
    it.browser.check(it.locator(step.check), timeout=it.timeout(step))


def _uncheck(it: Interpreter, step: Any, path: str) -> None:
    it.browser.uncheck(it.locator(step.uncheck), timeout=it.timeout(step))


def _press(it: Interpreter, step: Any, path: str) -> None:
    it.browser.press(it.locator(step.press), it.text(step.key), timeout=it.timeout(step))


def _wait_for(it: Interpreter, step: Any, path: str) -> None:
    condition = step.wait_for
    timeout = it.timeout(step)
    try:
        if condition.element is not None:
            it.browser.wait_for_element(
                it.locator(condition.element), condition.state, timeout=timeout
            )
        elif condition.url is not None:
            it.browser.wait_for_url(it.text(condition.url), timeout=timeout)
        else:
            it.browser.wait_for_text(it.text(condition.text), timeout=timeout)
    except (ConnectorTimeout, ElementNotFound):
        # Out of time: an optional wait answers False, unless the run's own time is up.
        if step.into is None or it.remaining() <= 0:
            raise
        it.vars[step.into] = False
        return
    if step.into is not None:
        it.vars[step.into] = True


def _extract(it: Interpreter, step: Any, path: str) -> None:
    spec, timeout = it.locator(step.extract), it.timeout(step)
    if step.get == "count":
        it.vars[step.into] = it.browser.count(spec, timeout=timeout)
        return
    it.vars[step.into] = it.browser.extract(
        spec, step.get, attribute=step.attribute, timeout=timeout
    )


def _screenshot(it: Interpreter, step: Any, path: str) -> None:
    name = Path(it.text(step.screenshot)).name
    if not name.lower().endswith(".png"):
        name += ".png"
    target = it.ctx.run_dir / "screenshots" / name
    it.browser.screenshot(target, full_page=step.full_page, timeout=it.timeout(step))
    it.keeper.keep(target, ArtifactKind.SCREENSHOT, step_path=path)


def _download(it: Interpreter, step: Any, path: str) -> None:
    save_as = it.text(step.save_as) if step.save_as else None
    # Saved outside the run directory first: only the scrubbed copy enters it.
    with tempfile.TemporaryDirectory(prefix="bots-download-") as scratch:
        saved = it.browser.download(
            it.locator(step.download), Path(scratch), save_as=save_as, timeout=it.timeout(step)
        )
        target = it.ctx.run_dir / "downloads" / saved.name
        it.keeper.keep(target, ArtifactKind.DOWNLOAD, step_path=path, source=saved)
    if step.into:
        it.vars[step.into] = str(target)


def _upload(it: Interpreter, step: Any, path: str) -> None:
    files = []
    for template in step.files:
        file = Path(it.text(template))
        files.append(file if file.is_absolute() else it.bot.directory / file)
    it.browser.upload(it.locator(step.upload), files, timeout=it.timeout(step))


#: browser step kind -> function running it
BROWSER_HANDLERS: dict[str, Handler] = {
    "goto": _goto,
    "click": _click,
    "fill": _fill,
    "select": _select,
    "check": _check,
    "uncheck": _uncheck,
    "press": _press,
    "wait_for": _wait_for,
    "extract": _extract,
    "screenshot": _screenshot,
    "download": _download,
    "upload": _upload,
}
