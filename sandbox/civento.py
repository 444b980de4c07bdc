"""The Civento stand-in: login, Posteingang, Vorgang pages and their JSON calls.

URLs (below ``/civento``): ``/login``, ``/abmelden``, ``/posteingang``,
``/vorgang/{nummer}``, ``/vorgang/{nummer}/anlage.pdf``, and the JSON calls the Vorgang page
makes, ``GET|POST /api/vorgang/{nummer}`` (as GWT does: the page is an empty shell first).

Pages of a logged-in user carry the session's CSRF token in ``<meta name="csrf-token">``; the
save call must send it as the header ``X-CSRF-Token`` (without it: HTTP 403, nothing saved).
"""

from __future__ import annotations

import math
import sqlite3
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from sandbox.db import check_password, connect, transaction
from sandbox.pdf import text_pdf
from sandbox.rules import LEISTUNGEN, STATUSES, latin1_error, next_status_error
from sandbox.sessions import (
    COOKIES,
    CSRF_HEADER,
    CSRF_REFUSED,
    csrf_ok,
    csrf_token,
    end_session,
    require_user,
    start_session,
)
from sandbox.web import render, runtime, sandbox_dir

PAGE_SIZE = 10
SYSTEM = "civento"
router = APIRouter()


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home() -> Response:
    """The start page is the Posteingang."""
    return RedirectResponse("/civento/posteingang", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/civento/posteingang", grund: str = "") -> Response:
    """The login form; ``grund=abgelaufen`` shows "Sitzung abgelaufen"."""
    return render(request, "civento/login.html", next=_safe_next(next), grund=grund, fehler="")


@router.post("/login")
def login(
    request: Request,
    benutzername: Annotated[str, Form()] = "",
    passwort: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/civento/posteingang",
) -> Response:
    """Check the account; on success set the session cookie and go to ``next``."""
    with connect(sandbox_dir(request)) as conn:
        ok = check_password(conn, SYSTEM, benutzername.strip(), passwort)
    if not ok:
        fehler = "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch."
        return render(
            request, "civento/login.html", 401, next=_safe_next(next), grund="", fehler=fehler
        )
    token = start_session(sandbox_dir(request), SYSTEM, benutzername.strip())
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIES[SYSTEM], token, path="/civento", httponly=True, samesite="lax")
    return response


@router.post("/abmelden")
def logout(request: Request) -> Response:
    """End the session and show the login page."""
    end_session(sandbox_dir(request), request.cookies.get(COOKIES[SYSTEM]))
    response = RedirectResponse("/civento/login", status_code=303)
    response.delete_cookie(COOKIES[SYSTEM], path="/civento")
    return response


@router.get("/posteingang")
def posteingang(
    request: Request,
    status: str = "",
    leistung: str = "",
    q: str = "",
    seite: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The inbox: Vorgänge filtered by status, Leistung and a search text, 10 per page."""
    user = require_user(request, SYSTEM)
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if leistung:
        where.append("leistung = ?")
        args.append(leistung)
    if q.strip():
        where.append("(nummer || ' ' || nachname || ' ' || vorname || ' ' || betrieb) LIKE ?")
        args.append(f"%{q.strip()}%")
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    with connect(sandbox_dir(request)) as conn:
        total = conn.execute(f"SELECT COUNT(*) FROM vorgaenge {clause}", args).fetchone()[0]
        pages = max(1, math.ceil(total / PAGE_SIZE))
        seite = min(seite, pages)
        rows = conn.execute(
            f"SELECT * FROM vorgaenge {clause} ORDER BY eingang, id LIMIT ? OFFSET ?",
            [*args, PAGE_SIZE, (seite - 1) * PAGE_SIZE],
        ).fetchall()
    filters = {"status": status, "leistung": leistung, "q": q}
    return render(
        request,
        "civento/posteingang.html",
        user=user,
        rows=[_row_view(row) for row in rows],
        total=total,
        seite=seite,
        seiten=pages,
        filters=filters,
        query=lambda page: _query({**filters, "seite": page}),
        statuses=STATUSES,
        leistungen=list(LEISTUNGEN),
        csrf=csrf_token(request, SYSTEM),
    )


@router.get("/vorgang/{nummer}")
def vorgang_page(request: Request, nummer: str) -> Response:
    """The Vorgang page: a shell whose data and form the script loads after the page."""
    user = require_user(request, SYSTEM)
    with connect(sandbox_dir(request)) as conn:
        row = _find(conn, nummer)
    return render(
        request, "civento/vorgang.html", user=user, v=_row_view(row),
        csrf=csrf_token(request, SYSTEM),
    )  # fmt: skip


@router.get("/api/vorgang/{nummer}")
def vorgang_data(request: Request, nummer: str) -> dict[str, Any]:
    """The Vorgang's data and history (delayed by ``latency_ms``, as a slow backend)."""
    require_user(request, SYSTEM, count=False, api=True)
    time.sleep(runtime(request).latency_ms / 1000)
    with connect(sandbox_dir(request)) as conn:
        row = _find(conn, nummer)
        verlauf = conn.execute(
            "SELECT zeit, benutzer, eintrag FROM verlauf WHERE vorgang_id = ? ORDER BY id",
            (row["id"],),
        ).fetchall()
        angaben = conn.execute(  # the Leistung's own fields (a dog's name and breed)
            "SELECT feld, wert FROM angaben WHERE vorgang_id = ? ORDER BY id", (row["id"],)
        ).fetchall()
    data = _row_view(row)
    data["angaben"] = [dict(a) for a in angaben]
    data["verlauf"] = [dict(v) | {"zeit": _german_time(v["zeit"])} for v in verlauf]
    data["naechster_status"] = _next_status(row["status"])
    data["statuswerte"] = list(STATUSES)
    data["late_elements_ms"] = runtime(request).late_elements_ms
    return data


@router.post("/api/vorgang/{nummer}")
def vorgang_save(
    request: Request, nummer: str, changes: Annotated[dict[str, Any], Body()]
) -> Response:
    """Save Aktenzeichen Fachverfahren, Bemerkung and a status change, all or nothing.

    Answers 422 with ``{"fehler": {field: message}}`` when a rule is broken: characters
    outside Latin-1, a status change out of order, "Übertragen" without Aktenzeichen; 403
    with ``{"error": ...}`` without the session's token in the header ``X-CSRF-Token``.
    """
    user = require_user(request, SYSTEM, count=False, api=True)
    if not csrf_ok(request, SYSTEM, request.headers.get(CSRF_HEADER, "")):
        return JSONResponse({"error": CSRF_REFUSED}, status_code=403)
    time.sleep(runtime(request).latency_ms / 1000)
    aktenzeichen = str(changes.get("aktenzeichen", "")).strip()
    bemerkung = str(changes.get("bemerkung", "")).strip()
    status = str(changes.get("status") or "").strip()
    with connect(sandbox_dir(request)) as conn, transaction(conn):
        row = _find(conn, nummer)
        errors = _validate(row, aktenzeichen, bemerkung, status)
        if errors:
            return JSONResponse({"fehler": errors}, status_code=422)
        now = datetime.now().isoformat(" ", "seconds")
        new_status = status or row["status"]
        conn.execute(
            "UPDATE vorgaenge SET aktenzeichen_fv = ?, bemerkung = ?, status = ?, geaendert = ?"
            " WHERE id = ?",
            (aktenzeichen, bemerkung, new_status, now, row["id"]),
        )
        notes = []
        if aktenzeichen != row["aktenzeichen_fv"]:
            notes.append(f"Aktenzeichen Fachverfahren: {aktenzeichen or '(leer)'}")
        if new_status != row["status"]:
            notes.append(f"Status: {row['status']} → {new_status}")
        if bemerkung != row["bemerkung"]:
            notes.append("Bemerkung geändert")
        for note in notes:
            conn.execute(
                "INSERT INTO verlauf (vorgang_id, zeit, benutzer, eintrag) VALUES (?, ?, ?, ?)",
                (row["id"], now, user, note),
            )
    return JSONResponse({"gespeichert": True, "status": new_status})


@router.get("/vorgang/{nummer}/anlage.pdf")
def anlage(request: Request, nummer: str) -> Response:
    """The application as the citizen submitted it, as a PDF download."""
    require_user(request, SYSTEM, count=False)
    with connect(sandbox_dir(request)) as conn:
        v = _row_view(_find(conn, nummer))
    lines = [
        f"Vorgangsnummer: {v['nummer']}",
        f"Eingang: {v['eingang']}",
        f"Antragsteller: {v['anrede']} {v['vorname']} {v['nachname']}",
        f"Anschrift: {v['strasse']}, {v['plz']} {v['ort']}",
    ]
    if v["betrieb"]:
        lines += [
            f"Betrieb: {v['betrieb']}",
            f"Rechtsform: {v['rechtsform']}",
            f"Tätigkeit: {v['taetigkeit']}",
            f"Beginn: {v['beginn']}",
        ]
    headers = {"Content-Disposition": f'attachment; filename="{v["anlage"]}"'}
    return Response(text_pdf(v["leistung"], lines), media_type="application/pdf", headers=headers)


def _validate(row: sqlite3.Row, aktenzeichen: str, bemerkung: str, status: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field, label, value, limit in (
        ("aktenzeichen", "Aktenzeichen Fachverfahren", aktenzeichen, 40),
        ("bemerkung", "Bemerkung", bemerkung, 500),
    ):
        message = latin1_error(label, value)
        if message:
            errors[field] = message
        elif len(value) > limit:
            errors[field] = f"{label}: höchstens {limit} Zeichen."
    if status:
        message = next_status_error(row["status"], status)
        if message:
            errors["status"] = message
        elif status == "Übertragen" and not aktenzeichen:
            errors["status"] = (
                "Für den Status „Übertragen“ ist das Aktenzeichen Fachverfahren erforderlich."
            )
    return errors


def _find(conn: sqlite3.Connection, nummer: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM vorgaenge WHERE nummer = ?", (nummer,)).fetchone()
    if row is None:
        raise HTTPException(404, f"Vorgang {nummer} nicht gefunden")
    return row


def _row_view(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data.pop("id")
    data["eingang"] = _german_time(row["eingang"])
    data["antragsteller"] = f"{row['nachname']}, {row['vorname']}"
    data["anlage"] = f"Antrag_{row['nummer']}.pdf"
    return data


def _german_time(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%d.%m.%Y %H:%M")


def _next_status(status: str) -> str | None:
    index = STATUSES.index(status)
    return STATUSES[index + 1] if index + 1 < len(STATUSES) else None


def _query(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode({k: v for k, v in params.items() if v})


def _safe_next(next_url: str) -> str:
    # Only paths of this system: no open redirect.
    return next_url if next_url.startswith("/civento/") else "/civento/posteingang"
