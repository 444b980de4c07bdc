"""What both apps share: templates, generated element ids, request helpers."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

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
    """Render a template with the request and the runtime settings in its context."""
    context.setdefault("settings", runtime(request))
    return templates.TemplateResponse(request, name, context, status_code=status_code)
