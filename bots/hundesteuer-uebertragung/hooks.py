"""Hooks of ``hundesteuer-uebertragung``: a Civento Hundesteuer-Anmeldung as the register's
entry form wants it, and the Steuernummer out of the register's message.

Civento shows what the citizen typed; the register wants its own formats:

* PLZ: "D-35390" or "35 390" -> "35390";
* Straße: "Bahnhofstr. 12a" -> "Bahnhofstraße 12a";
* Zweithund, Ermäßigung: "Ja" / "Nein" -> a ticked or empty check box.

What a person must decide raises :class:`NichtUebertragbar` (a ``BusinessException``) with
the reason in German: a breed on Hessen's list of dangerous dogs (the Ordnungsamt decides
first, § 2 HundeVO), characters the register cannot store (it takes Latin-1 only), a
required field left empty. The case then goes to a person and nothing reaches the register.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from orchestrator.errors import BusinessException

if TYPE_CHECKING:
    from orchestrator.engine.context import RunContext


class NichtUebertragbar(BusinessException, ValueError):
    """The Anmeldung cannot go into the register as it is: a person must look at it."""


#: Hessen's list of dangerous dogs (Gefahrenabwehrverordnung über das Halten und Führen von
#: Hunden, § 2 Abs. 1), as the register's Verzeichnis names the breeds.
GEFAEHRLICHE_RASSEN = frozenset({
    "American Staffordshire Terrier", "Bullterrier", "Kangal", "Pitbull-Terrier", "Rottweiler",
    "Staffordshire Bullterrier", "American Bulldog", "Dogo Argentino", "Fila Brasileiro",
    "Kaukasischer Owtscharka", "Mastiff", "Mastino Napoletano", "Mastín Español",
})  # fmt: skip

#: Civento's label -> the register's field.
FELDER = {
    "Nachname": "nachname",
    "Vorname": "vorname",
    "Straße und Hausnummer": "strasse",
    "Postleitzahl": "plz",
    "Ort": "ort",
    "Name des Hundes": "hundename",
    "Rasse": "rasse",
    "Wurfdatum": "wurfdatum",
    "Haltung seit": "haltung_seit",
}
_STREET = ((r"(?<=[a-zäöüß])str\.?(?=\s|$)", "straße"), (r"\bStr\.?(?=\s|$)", "Straße"))
_STEUERNUMMER = re.compile(r"HST-[A-Z]{1,3}-\d{4}-\d{5}")


def hund_aus_vorgang(ctx: RunContext | None, akte: dict[str, Any]) -> dict[str, Any]:
    """The register's entry for the Vorgang ``akte`` (as ``civento.vorgang_lesen`` reads it).

    Example: ``{"felder": {"Nachname": "Müller", ..., "Postleitzahl": "D-35390",
    "Rasse": "Dackel", "Zweithund": "Nein"}}`` gives ``{"nachname": "Müller", ...,
    "plz": "35390", "rasse": "Dackel", "zweithund": False, ...}``.
    """
    felder = akte.get("felder", {})
    nummer = akte.get("nummer", "?")
    missing = [label for label in FELDER if not str(felder.get(label, "")).strip()]
    if missing:
        raise NichtUebertragbar(f"Vorgang {nummer}: Angaben fehlen: {', '.join(missing)}.")
    hund = {key: " ".join(str(felder[label]).split()) for label, key in FELDER.items()}
    hund["plz"] = _plz(nummer, hund["plz"])
    hund["strasse"] = _street(hund["strasse"])
    hund["zweithund"] = str(felder.get("Zweithund", "")).strip() == "Ja"
    hund["ermaessigung"] = str(felder.get("Ermäßigung beantragt", "")).strip() == "Ja"
    if hund["rasse"] in GEFAEHRLICHE_RASSEN:
        raise NichtUebertragbar(
            f"Vorgang {nummer}: Die Rasse „{hund['rasse']}“ steht auf der Liste gefährlicher "
            "Hunde (§ 2 HundeVO Hessen). Das Ordnungsamt muss zuerst über die Erlaubnis "
            "entscheiden; danach bitte von Hand im Register erfassen."
        )
    for label, key in FELDER.items():
        bad = "".join(dict.fromkeys(c for c in str(hund[key]) if ord(c) > 0xFF))
        if bad:
            raise NichtUebertragbar(
                f"Vorgang {nummer}: {label} „{hund[key]}“ enthält Zeichen, die das "
                f"Hundesteuer-Register nicht speichern kann ({bad}). Bitte die Schreibweise "
                "mit der Halterin oder dem Halter klären und von Hand erfassen."
            )
    return hund


def steuernummer_aus_meldung(ctx: RunContext | None, meldung: str) -> str:
    """The Steuernummer in the register's message ("Hund gespeichert. Steuernummer: ...",
    or "... ist schon erfasst (Steuernummer ...)")."""
    found = _STEUERNUMMER.search(meldung or "")
    if found is None:
        raise ValueError(f"keine Steuernummer in der Meldung des Registers: {meldung!r}")
    return found.group(0)


def _plz(nummer: str, plz: str) -> str:
    digits = re.sub(r"\D", "", plz)
    if len(digits) != 5:
        raise NichtUebertragbar(f"Vorgang {nummer}: Die Postleitzahl „{plz}“ ist ungültig.")
    return digits


def _street(text: str) -> str:
    for pattern, replacement in _STREET:
        text = re.sub(pattern, replacement, text)
    return text
