"""One ASGI app serving every registered stand-in's router, the control endpoints, static files.

URL map::

    /                         links to the stand-ins
    /NAME/...                 the stand-in NAME's router: /civento/... (see sandbox.civento),
                              /gewerberegister/... (see sandbox.gewerberegister)
    /NAME/static/...          its scripts and styles, if it has any (never answered with 503)
    GET  /_sandbox/health     {"status": "ok", "faults": {...}}
    POST /_sandbox/faults     change fault settings at runtime, e.g. {"fault_rate": 0.2}
    GET  /_sandbox/state      what the stand-ins hold (as sandbox.state.read_state)
    /_sandbox/breakpoints     hold a request until released (see sandbox.breakpoints)
    GET  /_sandbox/issued     every session cookie value and CSRF token issued so far

Example::

    app = create_app(Path("data/sandbox"), SandboxSettings())
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from orchestrator.settings import SandboxSettings
from sandbox.breakpoints import Breakpoints
from sandbox.db import connect
from sandbox.faults import FaultInjector, fault_middleware
from sandbox.sessions import LoginRequired, issued_credentials
from sandbox.standins import StandIn, check_settings, installed_standins
from sandbox.state import read_state

INDEX_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Sandbox</title></head>
<body><h1>Sandbox: Zielsysteme zum Üben</h1><ul>
{links}
</ul></body></html>"""


def create_app(
    sandbox_dir: Path, settings: SandboxSettings, standins: Sequence[StandIn] | None = None
) -> FastAPI:
    """Build the ASGI app serving the stand-ins' routers from ``sandbox_dir``.

    Args:
        sandbox_dir: Directory of the SQLite state (created, with an empty schema, if missing).
        settings: Fault injection, latency, session rules; the fault settings can change at
            runtime through ``POST /_sandbox/faults`` or ``app.state.faults.update(...)``.
        standins: The stand-ins (default: every registered one); each router is mounted at
            ``/NAME``; ``app.state.standin_options[NAME]`` holds its own settings.

    Returns:
        The FastAPI application.
    """
    standins = installed_standins() if standins is None else tuple(standins)
    check_settings(standins, settings)
    app = FastAPI(title="kommune-bots sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox_dir = Path(sandbox_dir)
    app.state.faults = FaultInjector(settings)
    app.state.breakpoints = Breakpoints()
    app.state.standins = standins
    app.state.standin_options = {s.name: s.options(settings) for s in standins}
    with connect(Path(sandbox_dir), standins=standins):
        pass  # creates the directory and schema, so that requests never race to do it
    app.middleware("http")(fault_middleware)
    served = [standin for standin in standins if standin.router is not None]
    for standin in served:
        if standin.static is not None:
            static = StaticFiles(directory=str(standin.static))
            app.mount(f"/{standin.name}/static", static, name=f"{standin.name}-static")
        assert standin.router is not None
        app.include_router(standin.router, prefix=f"/{standin.name}")
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    index_page = INDEX_PAGE.format(
        links="\n".join(f'<li><a href="/{s.name}/">{s.title}</a></li>' for s in served)
    )

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return HTMLResponse(index_page)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/_sandbox/health")
    def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "faults": request.app.state.faults.snapshot()}

    @app.post("/_sandbox/faults")
    def set_faults(request: Request, changes: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        try:
            return dict(request.app.state.faults.update(changes))
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.post("/_sandbox/breakpoints")
    def add_breakpoint(request: Request, spec: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        unknown = sorted(set(spec) - {"method", "path", "body"})
        if unknown or not isinstance(spec.get("path"), str):
            raise HTTPException(422, "a breakpoint has a path, and a method and body if wanted")
        try:
            item = request.app.state.breakpoints.add(
                str(spec.get("method", "POST")), spec["path"], spec.get("body")
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return dict(item.to_json())

    @app.get("/_sandbox/breakpoints")
    def list_breakpoints(request: Request) -> list[dict[str, Any]]:
        return list(request.app.state.breakpoints.list())

    @app.post("/_sandbox/breakpoints/{breakpoint_id}/release")
    def release_breakpoint(
        request: Request, breakpoint_id: int, then: Annotated[str, Body(embed=True)] = "fail"
    ) -> dict[str, Any]:
        if then not in ("fail", "pass"):
            raise HTTPException(422, "then must be 'fail' or 'pass'")
        try:
            return dict(request.app.state.breakpoints.release(breakpoint_id, then))
        except KeyError:
            raise HTTPException(404, f"no breakpoint {breakpoint_id}") from None

    @app.delete("/_sandbox/breakpoints")
    def clear_breakpoints(request: Request) -> dict[str, Any]:
        request.app.state.breakpoints.clear()
        return {"cleared": True}

    @app.get("/_sandbox/state")
    def state(request: Request) -> dict[str, Any]:
        return read_state(request.app.state.sandbox_dir, request.app.state.standins)

    @app.get("/_sandbox/issued")
    def issued(request: Request) -> dict[str, list[str]]:
        # Training values of a stand-in: tests look for them where they must not be.
        return issued_credentials(request.app.state.sandbox_dir)

    return app


def _login_required(request: Request, exc: LoginRequired) -> Response:
    if exc.api:
        return JSONResponse(
            {"error": "Sitzung abgelaufen" if exc.expired else "Nicht angemeldet",
             "login": exc.login_url},
            status_code=401,
        )  # fmt: skip
    return RedirectResponse(exc.login_url, status_code=303)
