"""The Civento connector: page objects for Civento's Posteingang and Vorgänge.

Written once for every bot and every city; bots call them as ``use: civento.ACTION``::

    - use: civento.anmelden
      with: {benutzer: rpa-gewerbe, passwort: "{{ secrets.civento_password }}"}
    - use: civento.posteingang_lesen
      with: {status: [Neu, In Bearbeitung], leistung: Gewerbeanmeldung}
      into: vorgaenge
    - use: civento.vorgang_lesen
      with: {nummer: "{{ vorgang.Nummer }}"}
      into: akte          # {nummer, status, aktenzeichen, felder: {Vorname: ..., ...}}
    - use: civento.status_setzen
      with: {nummer: "{{ vorgang.Nummer }}", status: Übertragen, aktenzeichen: "{{ az }}"}

Every action works on the browser session, tries again after a 503 or a page that did not
come (logging in again when the session expired: the account of ``anmelden`` is kept for the
run), and needs the bot's target ``civento`` (the URL up to ``/civento``).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from connectors._pages import LoginPage, label, log_out, number_in, role, tab
from connectors.base import ActionContext, BusinessRefusal, ConnectorError, LocatorSpec
from orchestrator.model.registry import Action, ConnectorSpec

# Elements are found as a clerk finds them (roles, names, visible texts), never by helper
# attributes: a real Civento has no data-testid, and the sandbox can serve its pages without.
#: Above the Posteingang: "23 Vorgänge, Seite 1 von 3" (or "0 Vorgänge").
HITS = LocatorSpec(role="status", has_text="Vorgänge")
HITS_TEXT = re.compile(r"(\d+)\s+Vorgänge")
#: Below it: "Zurück Seite 1 von 3 Weiter".
PAGES = role("navigation", "Seitennavigation")
PAGES_TEXT = re.compile(r"Seite\s+\d+\s+von\s+(\d+)")
#: What covers the Vorgang page until its data came.
BUSY = role("progressbar", "Bitte warten")
#: The line below the Vorgang's heading: "Gewerbeanmeldung · Eingang 2026-03-01 · Status Neu".
STATUS_LINE = LocatorSpec(text="· Status")
STATUS_TEXT = re.compile(r"·\s*Status\s+(.*)$")
#: The Vorgang page's content: its steps' fields and the editing section.
VORGANG = LocatorSpec(role="main")
#: What the Vorgang page says when its data did not come ("Bitte laden Sie die Seite neu") or
#: a save failed ("Speichern fehlgeschlagen (HTTP 503)"); hidden, and so not matched, until then.
ALERT = LocatorSpec(role="alert")
#: Civento's status order: a Vorgang moves one step at a time.
STATUS_ORDER = ("Neu", "In Bearbeitung", "Übertragen", "Abgeschlossen")


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class LoginArgs(_Args):
    benutzer: str = Field(description="The bot's Civento account, e.g. rpa-gewerbe.")
    passwort: str = Field(description="Its password: always '{{ secrets.NAME }}'.")


class NoArgs(_Args):
    pass


class PosteingangArgs(_Args):
    status: str | list[str] = Field(
        "Neu", description="Only Vorgänge with this status (or any of these)."
    )
    leistung: str | None = Field(None, description="Only this Leistung, e.g. Gewerbeanmeldung.")


class VorgangArgs(_Args):
    nummer: str = Field(description="The Vorgang's number, e.g. GA-2026-000231.")


class StatusArgs(_Args):
    nummer: str = Field(description="The Vorgang's number.")
    status: str = Field(description="The status to reach: " + ", ".join(STATUS_ORDER) + ".")
    aktenzeichen: str | None = Field(
        None, description="Written to 'Aktenzeichen Fachverfahren' with the first save."
    )


LOGIN = LoginPage(
    user="Benutzername",
    password="Passwort",
    landed=role("heading", "Posteingang"),
    unavailable=role("heading", "nicht verfügbar"),  # its 503 page
)


def anmelden(ctx: ActionContext, benutzer: str, passwort: str) -> None:
    LOGIN.anmelden(ctx, benutzer, passwort)


def abmelden(ctx: ActionContext) -> None:
    """Log out; a session that already ended (or never began) is not an error."""
    log_out(ctx, "/posteingang")


def posteingang_lesen(
    ctx: ActionContext, status: str | list[str] = "Neu", leistung: str | None = None
) -> list[dict[str, str]]:
    """Every row of the Posteingang with these filters, all pages, as column -> text."""
    rows: list[dict[str, str]] = []
    for one in [status] if isinstance(status, str) else status:
        rows += LOGIN.robust(ctx, "posteingang_lesen", partial(_read_inbox, ctx, one, leistung))
    return rows


#: How often the Posteingang is read again from its first page when its number of hits
#: changed while its pages were read (others worked on cases meanwhile).
INBOX_REREADS = 3


def _read_inbox(ctx: ActionContext, status: str, leistung: str | None) -> list[dict[str, str]]:
    """All pages of the filtered Posteingang. The list is paged by position: when cases
    leave or join it while it is read (another robot, a clerk), rows move between pages and
    one could be missed, so a changed number of hits means reading it again (a case missed
    even so stays in the Posteingang for the next run)."""
    query = {"status": status, **({"leistung": leistung} if leistung else {})}
    for _ in range(INBOX_REREADS):
        rows, stable = _read_inbox_pages(ctx, query)
        if stable:
            break
        ctx.log.info("civento: the Posteingang changed while it was read; reading it again")
    return list({row.get("Nummer") or repr(row): row for row in rows}.values())


def _read_inbox_pages(
    ctx: ActionContext, query: dict[str, str]
) -> tuple[list[dict[str, str]], bool]:
    """The rows of every page, and whether the number of hits stayed the same throughout."""
    browser, timeout = tab(ctx), ctx.timeout
    rows: list[dict[str, str]] = []
    page, pages, first = 1, 1, None
    while page <= pages:
        LOGIN.visit(ctx, f"{ctx.target()}/posteingang?{urlencode({**query, 'seite': page})}")
        hits = browser.extract(HITS, "text", timeout=timeout())
        count = number_in(hits, HITS_TEXT, "civento: the number of hits")
        first = count if first is None else first
        if count != first:
            return rows, False
        if count == 0:
            return [], True
        paging = browser.extract(PAGES, "text", timeout=timeout())
        pages = number_in(paging, PAGES_TEXT, "civento: the number of pages")
        rows += browser.extract(role("table", "Posteingang"), "table", timeout=timeout())
        page += 1
    return rows, True


def _open_vorgang(ctx: ActionContext, nummer: str, *, reuse: bool = False) -> str:
    """Open the Vorgang's page (``reuse``: unless the tab shows it already), wait until its
    data came; its status."""
    browser, timeout = tab(ctx), ctx.timeout
    url = f"{ctx.target()}/vorgang/{nummer}"
    if not (reuse and browser.url == url):
        LOGIN.visit(ctx, url)
    browser.wait_for_element(BUSY, "hidden", timeout=timeout())
    line = " ".join(browser.extract(STATUS_LINE, "text", timeout=timeout()).split())
    found = STATUS_TEXT.search(line)
    status = found[1].strip() if found else line
    if status not in STATUS_ORDER:  # the data did not come (a failed load shows a message)
        shown = browser.extract(ALERT, "texts", timeout=timeout())
        problem = " ".join(text.strip() for text in shown if text.strip())
        raise ConnectorError(
            f"civento: Vorgang {nummer} not loaded (status {status!r}){': ' if problem else ''}"
            f"{problem}"
        )
    return status


def vorgang_lesen(ctx: ActionContext, nummer: str) -> dict[str, Any]:
    """The Vorgang's status, its Aktenzeichen and every field of its steps (tabs)."""

    def read() -> dict[str, Any]:
        browser, timeout = tab(ctx), ctx.timeout
        status = _open_vorgang(ctx, nummer)
        felder: dict[str, str] = browser.extract(VORGANG, "fields", timeout=timeout())
        aktenzeichen = felder.pop("Aktenzeichen Fachverfahren", "")
        for editable in ("Bemerkung", "Neuer Status"):
            felder.pop(editable, None)
        return {"nummer": nummer, "status": status, "aktenzeichen": aktenzeichen, "felder": felder}

    result: dict[str, Any] = LOGIN.robust(ctx, "vorgang_lesen", read)
    return result


def status_setzen(
    ctx: ActionContext, nummer: str, status: str, aktenzeichen: str | None = None
) -> str:
    """Move the Vorgang to ``status`` one step at a time (Civento allows no jumps), writing
    the Aktenzeichen with the first save; returns the status reached. A Vorgang already
    there is left as it is; one past it is a refusal."""
    if status not in STATUS_ORDER:
        raise BusinessRefusal(f"civento: unknown status {status!r} ({', '.join(STATUS_ORDER)})")

    tries = 0

    def move() -> str:
        nonlocal tries
        tries += 1
        browser, timeout = tab(ctx), ctx.timeout
        # The page vorgang_lesen left open is current: load it again only to try again.
        now = _open_vorgang(ctx, nummer, reuse=tries == 1)
        if now not in STATUS_ORDER or STATUS_ORDER.index(now) > STATUS_ORDER.index(status):
            raise BusinessRefusal(f"Vorgang {nummer} hat den Status {now!r}, nicht vor {status!r}")
        write = aktenzeichen
        while now != status:
            step = STATUS_ORDER[STATUS_ORDER.index(now) + 1]
            if write is not None:
                browser.fill(label("Aktenzeichen Fachverfahren"), write, timeout=timeout())
                write = None
            browser.click(role("combobox", "Neuer Status"), timeout=timeout())
            browser.click(role("option", step), timeout=timeout())
            browser.click(role("button", "Speichern"), timeout=timeout())
            # Saved, or the page says why not (a 503, no connection): then at once, not
            # after a timeout; the next try reads the status the Vorgang reached.
            saved = LocatorSpec(text=f"Gespeichert. Status: {step}", fallbacks=(ALERT,))
            answer = " ".join(browser.extract(saved, "text", timeout=timeout()).split())
            if not answer.startswith("Gespeichert"):
                raise ConnectorError(f"civento: Vorgang {nummer} not saved: {answer}")
            now = step
        return now

    reached: str = LOGIN.robust(ctx, "status_setzen", move)
    return reached


CONNECTOR = ConnectorSpec(
    name="civento",
    description="Civento, the cities' platform for online applications: log in, read the "
    "Posteingang (all pages), read a Vorgang's fields, set its status step by step and "
    "write the Aktenzeichen of the Fachverfahren back. Works on the browser session; the "
    "bot declares the target 'civento'.",
    uses=("browser",),
    actions=(
        Action(
            "anmelden",
            anmelden,
            LoginArgs,
            "Log in with the bot's account; later actions log in again with it when the "
            "session expired.",
            secret_arguments=("passwort",),
        ),
        Action("abmelden", abmelden, NoArgs, "Log out (no error when no session is open)."),
        Action(
            "posteingang_lesen",
            posteingang_lesen,
            PosteingangArgs,
            "Read every row of the Posteingang with the given status(es) and Leistung, all "
            "pages; read everything before changing any Vorgang (a status change takes a "
            "Vorgang out of the filtered list).",
            returns="a list of rows, column -> text (Nummer, Eingang, Leistung, Status, ...)",
        ),
        Action(
            "vorgang_lesen",
            vorgang_lesen,
            VorgangArgs,
            "Open a Vorgang and read its status, its Aktenzeichen and every field of its steps.",
            returns="{nummer, status, aktenzeichen, felder: {label: value}}",
        ),
        Action(
            "status_setzen",
            status_setzen,
            StatusArgs,
            "Move a Vorgang to a status one step at a time (Neu -> In Bearbeitung -> "
            "Übertragen -> Abgeschlossen), writing the Aktenzeichen with the first save; a "
            "Vorgang already there stays as it is.",
            returns="the status reached",
        ),
    ),
)
