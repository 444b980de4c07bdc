"""The Gewerberegister connector: page objects for the register's frame-based web client.

The register shows its work area in an iframe (``arbeitsbereich``) below a menu frame page;
every action names the frame, so bots never do::

    - use: gewerberegister.anmelden
      with: {kennung: rpa-gewerbe, kennwort: "{{ secrets.gewerberegister_password }}"}
    - use: gewerberegister.suchen
      with: {bezugszeichen: "{{ vorgang.Nummer }}"}
      into: aktenzeichen      # "" when the register has no entry
    - use: gewerberegister.eintrag_anlegen
      with: {eintrag: "{{ eintrag }}"}
      into: aktenzeichen

``eintrag_anlegen`` answers with the new entry's Aktenzeichen, or the existing one's when the
register already holds the business (entered on paper, or by a run that broke off); when the
register refuses the entry (e.g. characters outside Latin-1) it fails as a *business* failure
with the register's own words. Like every page object here it tries again after a 503 and
logs in again after an expired session.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors._pages import LoginPage, log_out, number_in, role, tab
from connectors.base import ActionContext, BusinessRefusal, ConnectorError, LocatorSpec
from connectors.register_form import FIELDS
from orchestrator.model.registry import Action, ConnectorSpec

FRAME = "iframe[name=arbeitsbereich]"
SELECTS = frozenset({"rechtsform"})


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class LoginArgs(_Args):
    kennung: str = Field(description="The bot's register account, e.g. rpa-gewerbe.")
    kennwort: str = Field(description="Its password: always '{{ secrets.NAME }}'.")


class NoArgs(_Args):
    pass


class SearchArgs(_Args):
    bezugszeichen: str = Field(description="The reference to look for (the Civento number).")


class EntryArgs(_Args):
    eintrag: dict[str, str] = Field(
        description="The entry's values by field: " + ", ".join(FIELDS) + " (bezugszeichen "
        "optional; rechtsform as the register's option label, beginn as TT.MM.JJJJ)."
    )


def _in_frame(**where: Any) -> LocatorSpec:
    return LocatorSpec(frame=FRAME, **where)


# Elements are found as a clerk finds them (roles, names, visible texts), never by helper
# attributes: a real register has no data-testid, and the sandbox can serve its pages without.
#: Below the search form: "3 Treffer".
HITS = _in_frame(role="status", has_text="Treffer")
HITS_TEXT = re.compile(r"(\d+)\s+Treffer")
RESULTS = _in_frame(role="table", name="Suchergebnis")
#: The register's three answers to "Eintragen", the first that shows counts: the new
#: entry's page, headed "Eintrag GEW-06531-2026-00001"; "Ein gleichlautender Eintrag besteht
#: bereits unter dem Aktenzeichen GEW-…" (a link); or the form again, "Eingaben unvollständig
#: oder fehlerhaft: ...".
CREATED = _in_frame(role="heading", name="Eintrag")
CREATED_TEXT = re.compile(r"Eintrag\s+(\S+)")
DUPLICATE, INVALID = "besteht bereits", "Eingaben unvollständig"
#: The register's own page when it is down or overloaded ("Service vorübergehend nicht
#: verfügbar"), in the work area or instead of an answer: seen at once and tried again,
#: rather than waiting out a timeout for a form or an answer that is not there.
UNAVAILABLE = "nicht verfügbar"
DOWN = _in_frame(role="heading", name=UNAVAILABLE)
ANSWER = replace(
    CREATED,
    fallbacks=(
        _in_frame(role="alert", has_text=DUPLICATE),
        _in_frame(role="alert", has_text=INVALID),
    ),
)
#: The work area's first heading, and what it says on each page an action opens.
WORK_AREA = _in_frame(role="heading", nth=0)
HEADINGS = {"suche": "Suche im Gewerberegister", "neu": "Neuanmeldung eines Gewerbes"}
EXISTING = _in_frame(role="link", within=LocatorSpec(role="alert", has_text=DUPLICATE))
#: What the register says about each field it refused: the message each invalid field names
#: as its description (``aria-describedby``), as a screen reader reads it out with the field.
FIELD_ERRORS = _in_frame(xpath="//*[@id = //*[@aria-invalid='true']/@aria-describedby]")


LOGIN = LoginPage(
    user="Kennung",
    password="Kennwort",
    landed=role("link", "Neuanmeldung"),
    unavailable=role("heading", UNAVAILABLE),
)


def _open(ctx: ActionContext, page: str) -> None:
    """The frame page with ``page`` in the work area (a fresh load: an empty form).

    The frame page can come while the work area does not (the register answered its request
    with an error page): that is a failure at once, tried again, not a missing form later.
    """
    LOGIN.visit(ctx, f"{ctx.target()}/?seite=/gewerberegister/{page}")
    shown = " ".join(tab(ctx).extract(WORK_AREA, "text", timeout=ctx.timeout()).split())
    if shown != HEADINGS[page]:
        raise ConnectorError(f"gewerberegister: the work area shows {shown!r}, not {page!r}")


def _answer(ctx: ActionContext, expected: LocatorSpec) -> str:
    """The text of what the work area answers with: ``expected`` (or one of its fallbacks),
    or the register's page saying it is down, which fails at once (nothing was done: the
    request was answered before it reached the register), to be tried again."""
    either = replace(expected, fallbacks=(*expected.fallbacks, DOWN))
    answer = " ".join(tab(ctx).extract(either, "text", timeout=ctx.timeout()).split())
    if UNAVAILABLE.casefold() in answer.casefold():
        raise ConnectorError(f"gewerberegister: the register answered {answer!r}")
    return answer


def anmelden(ctx: ActionContext, kennung: str, kennwort: str) -> None:
    LOGIN.anmelden(ctx, kennung, kennwort)


def abmelden(ctx: ActionContext) -> None:
    """Log out; a session that already ended (or never began) is not an error."""
    log_out(ctx, "/")


def suchen(ctx: ActionContext, bezugszeichen: str) -> str:
    """The Aktenzeichen of the entry with this Bezugszeichen, "" when there is none."""

    def search() -> str:
        browser, timeout = tab(ctx), ctx.timeout
        _open(ctx, "suche")
        browser.fill(_in_frame(label="Bezugszeichen"), bezugszeichen, timeout=timeout())
        browser.click(_in_frame(role="button", name="Suchen"), timeout=timeout())
        if not number_in(_answer(ctx, HITS), HITS_TEXT, "gewerberegister: the number of hits"):
            return ""
        rows = browser.extract(RESULTS, "table", timeout=timeout())
        return str(rows[0].get("Aktenzeichen", "")).strip() if rows else ""

    result: str = LOGIN.robust(ctx, "suchen", search)
    return result


def eintrag_anlegen(ctx: ActionContext, eintrag: dict[str, str]) -> str:
    """Create the entry; its Aktenzeichen (or the existing entry's)."""
    unknown = sorted(set(eintrag) - set(FIELDS))
    if unknown:
        raise BusinessRefusal(
            f"gewerberegister: unknown field(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})"
        )

    def create() -> str:
        browser, timeout = tab(ctx), ctx.timeout
        _open(ctx, "neu")
        for key, text in FIELDS.items():
            value = eintrag.get(key)
            if value is None:
                continue
            where = _in_frame(label=text)
            if key in SELECTS:
                browser.select_option(where, value, timeout=timeout())
            else:
                browser.fill(where, value, timeout=timeout())
        browser.click(_in_frame(role="button", name="Eintragen"), timeout=timeout())
        # One of three answers: created, already there, refused; the first that shows.
        answer = _answer(ctx, ANSWER)
        if INVALID.casefold() in answer.casefold():
            problems = browser.extract(FIELD_ERRORS, "texts", timeout=timeout())
            reasons = " ".join(text.strip() for text in problems if text.strip())
            raise BusinessRefusal(
                f"Gewerberegister lehnt {eintrag.get('bezugszeichen') or 'den Eintrag'} ab: "
                f"{reasons or 'Eingaben unvollständig oder fehlerhaft'}"
            )
        if DUPLICATE.casefold() in answer.casefold():
            existing: str = browser.extract(EXISTING, "text", timeout=timeout())
            return existing.strip()
        created = CREATED_TEXT.fullmatch(answer)
        if created is None:
            raise ConnectorError(f"gewerberegister: no Aktenzeichen in the answer {answer!r}")
        return created[1]

    result: str = LOGIN.robust(ctx, "eintrag_anlegen", create)
    return result


CONNECTOR = ConnectorSpec(
    name="gewerberegister",
    description="The Gewerberegister's frame-based web client: log in, search an entry by "
    "Bezugszeichen, create an entry (answering with its Aktenzeichen; a refusal is a "
    "business failure with the register's words). Works on the browser session; the bot "
    "declares the target 'gewerberegister'.",
    uses=("browser",),
    actions=(
        Action(
            "anmelden",
            anmelden,
            LoginArgs,
            "Log in with the bot's account; later actions log in again with it when the "
            "session expired.",
            secret_arguments=("kennwort",),
        ),
        Action("abmelden", abmelden, NoArgs, "Log out (no error when no session is open)."),
        Action(
            "suchen",
            suchen,
            SearchArgs,
            "Search the register by Bezugszeichen.",
            returns="the entry's Aktenzeichen, or an empty text when there is none",
        ),
        Action(
            "eintrag_anlegen",
            eintrag_anlegen,
            EntryArgs,
            "Create an entry (search first: the register refuses no duplicates by "
            "Bezugszeichen, but answers with the existing entry when the business is known).",
            returns="the Aktenzeichen of the new (or the existing) entry",
        ),
    ),
)
