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

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors._pages import LoginPage, log_out, role, tab
from connectors.base import ActionContext, BusinessRefusal, LocatorSpec
from orchestrator.model.registry import Action, ConnectorSpec

FRAME = "iframe[name=arbeitsbereich]"
#: The entry form's fields: key in ``eintrag`` -> the field's label.
FIELDS = {
    "bezugszeichen": "Bezugszeichen",
    "betrieb": "Betriebsbezeichnung",
    "rechtsform": "Rechtsform",
    "inhaber_nachname": "Inhaber Nachname",
    "inhaber_vorname": "Inhaber Vorname",
    "strasse": "Straße",
    "hausnummer": "Hausnummer",
    "plz": "PLZ",
    "ort": "Ort",
    "taetigkeit": "Gegenstand des Gewerbes",
    "beginn": "Beginn (TT.MM.JJJJ)",
}
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


LOGIN = LoginPage(user="Kennung", password="Kennwort", landed=role("link", "Neuanmeldung"))


def _open(ctx: ActionContext, page: str) -> None:
    """The frame page with ``page`` in the work area (a fresh load: an empty form)."""
    LOGIN.visit(ctx, f"{ctx.target()}/?seite=/gewerberegister/{page}")


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
        hits = browser.extract(_in_frame(test_id="suchstatus"), "attribute",
                               attribute="data-treffer", timeout=timeout())  # fmt: skip
        if not int(hits or 0):
            return ""
        found: str = browser.extract(
            _in_frame(test_id="treffer-aktenzeichen", nth=0), "text", timeout=timeout()
        )
        return found.strip()

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
        answer = browser.extract(
            LocatorSpec(
                test_id="aktenzeichen",
                frame=FRAME,
                fallbacks=(
                    _in_frame(test_id="vorhandenes-aktenzeichen"),
                    _in_frame(test_id="formularfehler"),
                ),
            ),
            "attribute",
            attribute="data-testid",
            timeout=timeout(),
        )
        if answer == "formularfehler":
            problems = browser.extract(
                _in_frame(css="[data-testid^=fehler-]"), "texts", timeout=timeout()
            )
            reasons = " ".join(text.strip() for text in problems if text.strip())
            raise BusinessRefusal(
                f"Gewerberegister lehnt {eintrag.get('bezugszeichen') or 'den Eintrag'} ab: "
                f"{reasons or 'Eingaben unvollständig oder fehlerhaft'}"
            )
        aktenzeichen: str = browser.extract(_in_frame(test_id=answer), "text", timeout=timeout())
        return aktenzeichen.strip()

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
