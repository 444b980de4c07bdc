"""The business rules the two stand-ins enforce, kept apart from HTTP.

Example::

    >>> next_status_error("Neu", "Übertragen")
    'Statuswechsel von „Neu“ nach „Übertragen“ ist nicht zulässig. Erlaubt ist: „In Bearbeitung“.'
    >>> city_code("35390")
    'GI'
"""

from __future__ import annotations

import re
from datetime import date, datetime

from connectors.register_form import RECHTSFORMEN

#: Civento's status order; a Vorgang moves one step forward at a time.
STATUSES = ("Neu", "In Bearbeitung", "Übertragen", "Abgeschlossen")

#: Leistungen (kinds of Vorgang) and the prefix of their numbers.
LEISTUNGEN = {
    "Gewerbeanmeldung": "GA",
    "Gewerbeabmeldung": "GAB",
    "Hundesteuer-Anmeldung": "HST",
}

#: Rechtsform as Civento words it -> the Gewerberegister's option label.
CIVENTO_RECHTSFORMEN = RECHTSFORMEN

#: The Gewerberegister's Rechtsform codes (option values) and labels.
REGISTER_RECHTSFORMEN = {
    "EU": "Einzelunternehmen",
    "EK": "e.K.",
    "GBR": "GbR",
    "OHG": "OHG",
    "KG": "KG",
    "GMBH": "GmbH",
    "UG": "UG (haftungsbeschränkt)",
    "AG": "AG",
}

#: The six cities: name, licence-plate code (used in Aktenzeichen) and their PLZ.
CITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Fulda": ("FD", ("36037", "36039", "36041", "36043")),
    "Gießen": ("GI", ("35390", "35392", "35394", "35396", "35398")),
    "Limburg": ("LM", ("65549", "65551", "65552", "65553", "65554", "65555", "65556")),
    "Marburg": ("MR", ("35037", "35039", "35041", "35043")),
    "Offenbach": ("OF", ("63065", "63067", "63069", "63071", "63073", "63075")),
    "Wetzlar": ("WZ", ("35576", "35578", "35579", "35580", "35581", "35582", "35583", "35584")),
}

_PLZ_TO_CODE = {plz: code for code, plzs in CITIES.values() for plz in plzs}
PLZ_RE = re.compile(r"^\d{5}$")
DATE_RE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")


def next_status_error(current: str, wanted: str) -> str | None:
    """Why ``current -> wanted`` is not allowed, or None when it is (one step forward)."""
    if wanted == current:
        return None
    if wanted not in STATUSES:
        return f"Unbekannter Status „{wanted}“."
    index = STATUSES.index(current)
    if index + 1 < len(STATUSES) and STATUSES[index + 1] == wanted:
        return None
    if index + 1 >= len(STATUSES):
        return f"Der Vorgang ist „{current}“ und kann nicht mehr geändert werden."
    allowed = STATUSES[index + 1]
    return (
        f"Statuswechsel von „{current}“ nach „{wanted}“ ist nicht zulässig. "
        f"Erlaubt ist: „{allowed}“."
    )


def non_latin1(text: str) -> list[str]:
    """The characters of ``text`` outside ISO-8859-1, in order, without repeats."""
    found: list[str] = []
    for char in text:
        if ord(char) > 0xFF and char not in found:
            found.append(char)
    return found


def latin1_error(field: str, text: str) -> str | None:
    """The error message for a text with characters outside Latin-1, or None."""
    bad = non_latin1(text)
    if not bad:
        return None
    shown = " ".join(f"„{c}“ (U+{ord(c):04X})" for c in bad)
    return f"{field}: Unzulässige Zeichen {shown}. Erlaubt sind nur Zeichen aus ISO-8859-1."


def city_code(plz: str) -> str | None:
    """The licence-plate code of the city a PLZ belongs to, or None."""
    return _PLZ_TO_CODE.get(plz.strip())


def parse_german_date(text: str) -> date | None:
    """A date written ``TT.MM.JJJJ``, or None when it is not one."""
    if not DATE_RE.match(text.strip()):
        return None
    try:
        return datetime.strptime(text.strip(), "%d.%m.%Y").date()
    except ValueError:
        return None


def identity_key(
    betrieb: str, strasse: str, hausnummer: str, plz: str, nachname: str, vorname: str
) -> str:
    """What makes two register entries the same business (case and spacing ignored)."""
    parts = (betrieb, f"{strasse} {hausnummer}", plz, nachname, vorname)
    return "|".join(" ".join(p.casefold().split()) for p in parts)
