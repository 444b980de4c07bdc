"""The browser step kinds: one function per kind, each a thin call into the session.

Each function renders its templates through the interpreter it is given (``it``), converts
the locator to a :class:`~connectors.base.LocatorSpec` (``it.locator``, which applies the
enclosing ``within`` blocks) and calls :class:`~connectors.browser.session.BrowserSession`
with the step's timeout. Connector errors propagate; the interpreter turns them into a
failed step naming the step. Two answer instead of failing: an optional ``wait_for`` (with
``into``) stores whether its condition came true in time, and ``extract`` with ``get: count``
stores how many elements match now (0 included).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import ConnectorTimeout, ElementNotFound
from connectors.step_run import StepRun
from orchestrator.results import ArtifactKind

if TYPE_CHECKING:
    from connectors.browser.session import BrowserSession


def _browser(it: StepRun) -> BrowserSession:
    session: BrowserSession = it.session("browser")
    return session


def goto(it: StepRun, step: Any, path: str) -> None:
    _browser(it).goto(it.text(step.goto), wait_until=step.wait_until, timeout=it.timeout(step))


def click(it: StepRun, step: Any, path: str) -> None:
    _browser(it).click(
        it.locator(step.click), button=step.button, double=step.double, timeout=it.timeout(step)
    )


def fill(it: StepRun, step: Any, path: str) -> None:
    value = it.revealed(step.value)  # a secret is only ever revealed in handlers and hooks
    text = value if isinstance(value, str) else str(value)
    _browser(it).fill(it.locator(step.fill), text, timeout=it.timeout(step))


def select(it: StepRun, step: Any, path: str) -> None:
    _browser(it).select_option(
        it.locator(step.select), it.text(step.option), timeout=it.timeout(step)
    )


def check(it: StepRun, step: Any, path: str) -> None:
    _browser(it).check(it.locator(step.check), timeout=it.timeout(step))


def uncheck(it: StepRun, step: Any, path: str) -> None:
    _browser(it).uncheck(it.locator(step.uncheck), timeout=it.timeout(step))


def press(it: StepRun, step: Any, path: str) -> None:
    _browser(it).press(it.locator(step.press), it.text(step.key), timeout=it.timeout(step))


def wait_for(it: StepRun, step: Any, path: str) -> None:
    condition = step.wait_for
    browser, timeout = _browser(it), it.timeout(step)
    try:
        if condition.element is not None:
            browser.wait_for_element(
                it.locator(condition.element), condition.state, timeout=timeout
            )
        elif condition.url is not None:
            browser.wait_for_url(it.text(condition.url), timeout=timeout)
        else:
            browser.wait_for_text(it.text(condition.text), timeout=timeout)
    except (ConnectorTimeout, ElementNotFound):
        # Out of time: an optional wait answers False, unless the run's own time is up.
        if step.into is None or it.remaining() <= 0:
            raise
        it.vars[step.into] = False
        return
    if step.into is not None:
        it.vars[step.into] = True


def extract(it: StepRun, step: Any, path: str) -> None:
    target = step.extract
    if hasattr(target, "fields"):  # several elements into one mapping
        it.vars[step.into] = {
            key: _read(it, step, it.locator(locator)) for key, locator in target.fields.items()
        }
        return
    it.vars[step.into] = _read(it, step, it.locator(target))


def _read(it: StepRun, step: Any, spec: Any) -> Any:
    browser, timeout = _browser(it), it.timeout(step)
    if step.get == "count":
        return browser.count(spec, timeout=timeout)
    return browser.extract(spec, step.get, attribute=step.attribute, timeout=timeout)


def screenshot(it: StepRun, step: Any, path: str) -> None:
    name = Path(it.text(step.screenshot)).name
    if not name.lower().endswith(".png"):
        name += ".png"
    target = it.run_dir / "screenshots" / name
    _browser(it).screenshot(target, full_page=step.full_page, timeout=it.timeout(step))
    it.keep(target, ArtifactKind.SCREENSHOT, step_path=path)


def download(it: StepRun, step: Any, path: str) -> None:
    save_as = it.text(step.save_as) if step.save_as else None
    # Saved outside the run directory first: only the scrubbed copy enters it.
    with tempfile.TemporaryDirectory(prefix="bots-download-") as scratch:
        saved = _browser(it).download(
            it.locator(step.download), Path(scratch), save_as=save_as, timeout=it.timeout(step)
        )
        target = it.run_dir / "downloads" / saved.name
        it.keep(target, ArtifactKind.DOWNLOAD, step_path=path, source=saved)
    if step.into:
        it.vars[step.into] = str(target)


def upload(it: StepRun, step: Any, path: str) -> None:
    files = []
    for template in step.files:
        file = Path(it.text(template))
        files.append(file if file.is_absolute() else it.bot_dir / file)
    _browser(it).upload(it.locator(step.upload), files, timeout=it.timeout(step))
