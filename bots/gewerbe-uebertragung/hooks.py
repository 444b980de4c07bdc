"""Hooks of ``gewerbe-uebertragung``: Civento's data into the Gewerberegister's form.

Civento shows what the citizen typed; the Gewerberegister wants its own codes and formats:

* Rechtsform: "Gesellschaft mit beschränkter Haftung (GmbH)" -> "GmbH" (option label);
* Straße: "Bahnhofstr. 12a" -> Straße "Bahnhofstraße", Hausnummer "12a";
* PLZ: "D-35390" or "35 390" -> "35390";
* Beginn: "2026-03-01" (Civento, ISO) -> "01.03.2026" (TT.MM.JJJJ).

Anything that cannot be mapped raises :class:`NichtZuordenbar` (a ``BusinessException``, and a
``ValueError``) with a message for the Fachamt: the case then goes to a person, is not tried
again, and nothing half-mapped reaches the register.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from orchestrator.errors import BusinessException

if TYPE_CHECKING:
    from orchestrator.engine.context import RunContext


class NichtZuordenbar(BusinessException, ValueError):
    """Civento's data does not fit the register: a person must look at the case."""


#: Civento's wording -> the Gewerberegister's option label.
RECHTSFORMEN = {
    "Gesellschaft mit beschränkter Haftung (GmbH)": "GmbH",
    "Eingetragener Kaufmann / Eingetragene Kauffrau (e.K.)": "e.K.",
    "Gesellschaft bürgerlichen Rechts (GbR)": "GbR",
    "Einzelunternehmen (nicht im Handelsregister eingetragen)": "Einzelunternehmen",
    "Unternehmergesellschaft (haftungsbeschränkt)": "UG (haftungsbeschränkt)",
    "Aktiengesellschaft (AG)": "AG",
    "Offene Handelsgesellschaft (OHG)": "OHG",
    "Kommanditgesellschaft (KG)": "KG",
}
#: Short forms in brackets or alone, for wordings not listed above.
_KUERZEL = {
    "gmbh": "GmbH",
    "e.k.": "e.K.",
    "ek": "e.K.",
    "gbr": "GbR",
    "ug": "UG (haftungsbeschränkt)",
    "ag": "AG",
    "ohg": "OHG",
    "kg": "KG",
}
_STREET_ABBREVIATIONS = ((r"(?<=[a-zäöüß])str\.?$", "straße"), (r"\bStr\.?$", "Straße"))


def map_rechtsform(ctx: RunContext | None, rechtsform: str) -> str:
    """Civento's Rechtsform as the register's option label.

    Example: ``map_rechtsform(ctx, "Gesellschaft mit beschränkter Haftung (GmbH)")`` is
    ``"GmbH"``; ``"Einzelunternehmen"`` and ``"Kleingewerbe"`` give ``"Einzelunternehmen"``.
    """
    text = " ".join(rechtsform.split())
    if text in RECHTSFORMEN:
        return RECHTSFORMEN[text]
    if text in RECHTSFORMEN.values():
        return text
    bracket = re.search(r"\(([^()]+)\)\s*$", text)
    if bracket and bracket.group(1).casefold() in _KUERZEL:
        return _KUERZEL[bracket.group(1).casefold()]
    if text.casefold() in _KUERZEL:
        return _KUERZEL[text.casefold()]
    if text.casefold().startswith(("einzelunternehm", "kleingewerbe")):
        return "Einzelunternehmen"
    raise NichtZuordenbar(f"Rechtsform „{rechtsform}“ ist dem Gewerberegister nicht zuzuordnen.")


def split_street(ctx: RunContext | None, strasse: str) -> dict[str, str]:
    """Split "Straße Hausnummer" and write out abbreviations.

    Example: ``split_street(ctx, "Frankfurter Str. 112 a")`` is
    ``{"strasse": "Frankfurter Straße", "hausnummer": "112a"}``.
    """
    text = " ".join(strasse.split())
    match = re.match(r"^(.*?)[\s,]*(\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+\s*[a-zA-Z]?)?)$", text)
    if not match or not match.group(1):
        raise NichtZuordenbar(f"Anschrift „{strasse}“: Hausnummer nicht erkennbar.")
    street, number = match.group(1).strip(), match.group(2)
    for pattern, replacement in _STREET_ABBREVIATIONS:
        street = re.sub(pattern, replacement, street)
    return {"strasse": street, "hausnummer": re.sub(r"\s+", "", number)}


def normalize_plz(ctx: RunContext | None, plz: str) -> str:
    """Five digits: "D-35390", "35 390" and " 35390" all give "35390"."""
    digits = re.sub(r"\D", "", re.sub(r"^\s*D\s*-\s*", "", plz, flags=re.IGNORECASE))
    if len(digits) != 5:
        raise NichtZuordenbar(f"Postleitzahl „{plz}“ hat nicht fünf Ziffern.")
    return digits


def german_date(ctx: RunContext | None, value: str) -> str:
    """A date as TT.MM.JJJJ; accepts ISO ("2026-03-01") and already German dates."""
    text = value.strip()
    if re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", text):
        return text
    try:
        return date.fromisoformat(text).strftime("%d.%m.%Y")
    except ValueError:
        raise NichtZuordenbar(f"Datum „{value}“ ist kein gültiges Datum.") from None


def register_entry(ctx: RunContext | None, nummer: str, **fields: Any) -> dict[str, str]:
    """The Gewerberegister form's values for one Civento Vorgang.

    Args:
        ctx: The run context (unused: the mapping needs nothing of the run).
        nummer: The Civento number, entered as Bezugszeichen.
        **fields: vorname, nachname, betrieb, rechtsform, strasse, plz, ort, taetigkeit,
            beginn as read from Civento.

    Returns:
        Keys bezugszeichen, betrieb, rechtsform, inhaber_nachname, inhaber_vorname, strasse,
        hausnummer, plz, ort, taetigkeit, beginn.
    """
    text = {key: " ".join(str(value).split()) for key, value in fields.items()}
    address = split_street(ctx, text["strasse"])
    return {
        "bezugszeichen": nummer.strip(),
        "betrieb": text["betrieb"],
        "rechtsform": map_rechtsform(ctx, text["rechtsform"]),
        "inhaber_nachname": text["nachname"],
        "inhaber_vorname": text["vorname"],
        "strasse": address["strasse"],
        "hausnummer": address["hausnummer"],
        "plz": normalize_plz(ctx, text["plz"]),
        "ort": text["ort"],
        "taetigkeit": text["taetigkeit"],
        "beginn": german_date(ctx, text["beginn"]),
    }


#: Civento's field labels (``civento.vorgang_lesen``'s ``felder``) -> ``register_entry``'s names.
CIVENTO_FELDER = {
    "Vorname": "vorname",
    "Nachname": "nachname",
    "Name des Betriebs": "betrieb",
    "Rechtsform": "rechtsform",
    "Straße und Hausnummer": "strasse",
    "Postleitzahl": "plz",
    "Ort": "ort",
    "Angemeldete Tätigkeit": "taetigkeit",
    "Beginn der Tätigkeit": "beginn",
}


def register_entry_from_vorgang(ctx: RunContext | None, akte: dict[str, Any]) -> dict[str, str]:
    """``register_entry`` for a Vorgang as ``civento.vorgang_lesen`` returns it.

    Example: ``{"nummer": "GA-2026-000231", "felder": {"Vorname": "Anna", ...}}`` gives the
    register's form values with ``bezugszeichen`` ``GA-2026-000231``. A field the Vorgang
    lacks is an error naming it.
    """
    felder = akte.get("felder") or {}
    missing = [label for label in CIVENTO_FELDER if not str(felder.get(label) or "").strip()]
    if missing:
        raise NichtZuordenbar(
            f"Vorgang {akte.get('nummer')}: Angabe fehlt: {', '.join(missing)}. Bitte beim "
            "Antragsteller nachfordern und den Vorgang danach wieder freigeben."
        )
    values = {name: str(felder[label]) for label, name in CIVENTO_FELDER.items()}
    return register_entry(ctx, str(akte["nummer"]), **values)
