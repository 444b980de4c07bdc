"""What both apps share: templates, generated element ids, request helpers.

Every page of both apps is rendered by :func:`render`; with the setting
``sandbox.data_attributes: false`` it serves the page without any ``data-*`` attribute.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from orchestrator.settings import SandboxSettings

PACKAGE_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))


def generated_id(prefix: str = "gwt-uid") -> str:
    """A fresh element id, different on every page load (as GWT makes them)."""
    return f"{prefix}-{secrets.randbelow(900_000) + 100_000}"


templates.env.globals["gid"] = generated_id


def sandbox_dir(request: Request) -> Path:
    """The sandbox directory the app serves from."""
    return Path(request.app.state.sandbox_dir)


def runtime(request: Request) -> SandboxSettings:
    """The sandbox settings now in force (fault settings may change at runtime)."""
    settings: SandboxSettings = request.app.state.faults.settings
    return settings


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """Render a template with the request and the runtime settings in its context.

    Without ``data_attributes`` (a setting), the page loses every ``data-*`` attribute here,
    in one place for all templates; the scripts then add none either (see vorgang.js).
    """
    settings: SandboxSettings = context.setdefault("settings", runtime(request))
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if settings.data_attributes:
        return response
    page = bytes(response.body).decode(response.charset)
    return HTMLResponse(without_data_attributes(page), status_code=status_code)


# A start tag and its attributes as HTML writes them: name, name=value, name="v", name='v'.
_NAME = r"""[^\s"'>/=]+"""
_VALUE = r"""(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_ATTRIBUTE = re.compile(rf"\s+(?P<name>{_NAME}){_VALUE}")
_START_TAG = re.compile(
    rf"(?P<open><[A-Za-z][^\s/>]*)(?P<attributes>(?:\s+{_NAME}{_VALUE})*)(?P<close>\s*/?>)"
)
# Script and style contents are not markup: a "<div data-x>" in a JavaScript string stays.
_RAW_TEXT = re.compile(r"<(script|style)\b[^>]*>(?P<text>.*?)</\1\s*>", re.I | re.S)


def without_data_attributes(html: str) -> str:
    """``html`` with every ``data-*`` attribute removed from its tags (text stays as it is).

    Example::

        without_data_attributes('<p data-testid="x" class="y">data-z</p>')
        # '<p class="y">data-z</p>'
    """
    parts, done = [], 0
    for raw in _RAW_TEXT.finditer(html):
        parts += [_START_TAG.sub(_strip_tag, html[done : raw.start("text")]), raw["text"]]
        done = raw.end("text")
    parts.append(_START_TAG.sub(_strip_tag, html[done:]))
    return "".join(parts)


def _strip_tag(tag: re.Match[str]) -> str:
    kept = (
        attribute[0]
        for attribute in _ATTRIBUTE.finditer(tag["attributes"])
        if not attribute["name"].lower().startswith("data-")
    )
    return tag["open"] + "".join(kept) + tag["close"]
