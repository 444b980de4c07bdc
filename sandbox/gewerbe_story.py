"""The story the sandbox is seeded with: Vorgänge in Civento, entries in the Gewerberegister.

The same seed and settings always give the same data (names with umlauts, addresses in the
six cities, Civento's wording of legal forms, a few other Leistungen so that filters matter).
Civento's seed comes first: the Vorgänge it makes "Übertragen" or "Abgeschlossen" were
entered in the register, and it hands those entries on to the register's seed
(``SeedContext.handover``), which adds the entries made on paper. The register draws those
from Civento's random generator, handed over too, where it left off: one story, told in the
same order as when one function seeded both systems, so the data stayed as it was.

Example::

    count = seed(Path("data/sandbox"), SandboxSettings(cases=3))   # sandbox.seed
"""

from __future__ import annotations

import random
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.db import hash_password
from sandbox.rules import CITIES, CIVENTO_RECHTSFORMEN, LEISTUNGEN, REGISTER_RECHTSFORMEN
from sandbox.standins import SeedContext

if TYPE_CHECKING:
    from orchestrator.settings import SandboxSettings

BOT_USER = "rpa-gewerbe"
TRAINEE_USER = "schulung"
YEAR = 2026

VORNAMEN = (
    "Jürgen", "Sören", "Günter", "Björn", "Jörg", "Käthe", "Renée", "Zoë", "Chloé", "Andrés",
    "Mehmet", "Elif", "Emre", "Fatma", "Anna", "Lukas", "Sophie", "Leonie", "Stefan", "Nicole",
    "Hans-Jörg", "Maximilian", "Ingrid", "Tobias",
)  # fmt: skip
NACHNAMEN = (
    "Müller", "Özdemir", "Weiß", "Schäfer", "Krüger", "Schröder", "Groß", "Böhm", "Fuß",
    "Köhler", "Günther", "Jäger", "Kühn", "Çelik", "Becker", "Hoffmann", "Wagner", "Lehmann",
    "Dimitriou", "Rossi", "Nowak", "Brückner", "Löffler", "Hübner",
)  # fmt: skip
STRASSEN = {
    "Fulda": ("Bahnhofstraße", "Friedrichstraße", "Petersberger Straße", "Leipziger Straße"),
    "Gießen": ("Seltersweg", "Bahnhofstraße", "Frankfurter Straße", "Licher Straße"),
    "Limburg": ("Grabenstraße", "Diezer Straße", "Holzheimer Straße", "Am Schlag"),
    "Marburg": ("Universitätsstraße", "Wettergasse", "Biegenstraße", "Ketzerbach"),
    "Offenbach": ("Kaiserstraße", "Bieberer Straße", "Waldstraße", "Herrnstraße"),
    "Wetzlar": ("Langgasse", "Karl-Kellner-Ring", "Hauser Gasse", "Nauborner Straße"),
}
#: Tätigkeit -> pattern of the business name ({n}: a surname).
TAETIGKEITEN = (
    ("Einzelhandel mit Backwaren", "Bäckerei {n}"),
    ("IT-Dienstleistungen", "{n} IT-Service"),
    ("Friseurhandwerk", "Salon {n}"),
    ("Betrieb eines Cafés", "Café {n}"),
    ("Handel mit Kraftfahrzeugen", "Autohaus {n}"),
    ("Reinigung von Gebäuden", "{n} Gebäudereinigung"),
    ("Online-Handel mit Bekleidung", "{n} Mode"),
    ("Hausmeisterdienste", "Hausmeisterservice {n}"),
    ("Unternehmensberatung", "{n} Consulting"),
    ("Einzelhandel mit Blumen", "Blumen {n}"),
    ("Elektroinstallation", "Elektro {n}"),
    ("Kurierdienst", "{n} Kurierdienst"),
)
#: Register label -> (weight, suffix of the business name).
RECHTSFORM_WEIGHTS = {
    "Einzelunternehmen": (35, ""),
    "GmbH": (20, " GmbH"),
    "UG (haftungsbeschränkt)": (10, " UG (haftungsbeschränkt)"),
    "e.K.": (10, " e.K."),
    "GbR": (10, " GbR"),
    "OHG": (5, " OHG"),
    "KG": (5, " KG"),
    "AG": (5, " AG"),
}
HUNDE = ("Labrador (Bruno)", "Dackel (Frieda)", "Schäferhund (Rex)", "Mischling (Lümmel)")
_CIVENTO_WORDING = {label: civento for civento, label in CIVENTO_RECHTSFORMEN.items()}
_REGISTER_CODE = {label: code for code, label in REGISTER_RECHTSFORMEN.items()}


@dataclass
class _FromCivento:
    """What Civento's seed hands the register's: its entries and where the story's draws are."""

    entries: list[tuple[Any, ...]]
    rng: random.Random


@dataclass
class _Person:
    anrede: str
    vorname: str
    nachname: str
    geburtsdatum: str
    email: str
    telefon: str


def _person(rng: random.Random) -> _Person:
    vorname, nachname = rng.choice(VORNAMEN), rng.choice(NACHNAMEN)
    plain = (vorname + "." + nachname).lower()
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ç", "c"),
                           ("é", "e"), ("ë", "e")):  # fmt: skip
        plain = plain.replace(umlaut, ascii_)
    born = date(1960, 1, 1) + timedelta(days=rng.randint(0, 42 * 365))
    return _Person(
        anrede=rng.choice(("Frau", "Herr", "Divers"))
        if rng.random() < 0.1
        else rng.choice(("Frau", "Herr")),
        vorname=vorname,
        nachname=nachname,
        geburtsdatum=born.isoformat(),
        email=f"{plain}@example.org",
        telefon=f"0{rng.randint(600, 699)} {rng.randint(10000, 999999)}",
    )


def _address(rng: random.Random) -> tuple[str, str, str, str]:
    """City, street, house number, PLZ (normalised: as the register stores them)."""
    city = rng.choice(sorted(CITIES))
    return (
        city,
        rng.choice(STRASSEN[city]),
        str(rng.randint(1, 120)) + (rng.choice("abc") if rng.random() < 0.15 else ""),
        rng.choice(CITIES[city][1]),
    )


def _as_citizen_types(rng: random.Random, strasse: str, plz: str) -> tuple[str, str]:
    """Street and PLZ as citizens type them into the online form (abbreviations, 'D-')."""
    if rng.random() < 0.35:
        strasse = strasse.replace("straße", "str.").replace("Straße", "Str.")
    if rng.random() < 0.2:
        plz = "D-" + plz
    return strasse, plz


def _specs(cases: int, dog_cases: int) -> list[tuple[str, str]]:
    specs = [("Gewerbeanmeldung", "Neu")] * cases
    specs += [("Gewerbeanmeldung", "In Bearbeitung")] * 2
    specs += [("Gewerbeanmeldung", "Übertragen")] * 3 + [("Gewerbeanmeldung", "Abgeschlossen")] * 3
    specs += [("Gewerbeabmeldung", "Neu")] * 2 + [("Gewerbeabmeldung", "In Bearbeitung")]
    specs += [("Gewerbeabmeldung", "Abgeschlossen"), ("Hundesteuer-Anmeldung", "Abgeschlossen")]
    specs += [("Hundesteuer-Anmeldung", "Neu")] * dog_cases
    return specs


def seed_civento(conn: sqlite3.Connection, context: SeedContext) -> int:
    """Civento's accounts and Vorgänge; hands the register the entries made from them.

    Uses ``cases`` (new Gewerbeanmeldungen), ``problem_cases`` and ``password`` (of the accounts
    ``rpa-gewerbe`` and ``schulung``) of the settings. Returns the number of Vorgänge.
    """
    settings = context.settings
    add_accounts(conn, "civento", settings.password)
    entries: list[tuple[Any, ...]] = []
    from sandbox.hunde_story import dog_problems  # it draws on this story's names

    count = _vorgaenge(conn, context.rng, settings, entries)
    _problem_cases(conn, settings.problem_cases)
    dog_problems(conn, settings.problem_cases)
    context.handover["gewerberegister"] = _FromCivento(entries, context.rng)
    return count


def seed_gewerberegister(conn: sqlite3.Connection, context: SeedContext) -> int:
    """The register's accounts, the entries Civento handed on and those made on paper.

    Returns the number of entries.
    """
    add_accounts(conn, "gewerberegister", context.settings.password)
    handed: _FromCivento = context.handover["gewerberegister"]  # it seeds after Civento
    for entry in handed.entries:
        _insert_entry(conn, entry)
    return len(handed.entries) + _paper_entries(conn, handed.rng)


def add_accounts(conn: sqlite3.Connection, system: str, password: str) -> None:
    """The bot's and the trainees' accounts in ``system``, both with ``password``."""
    conn.execute("DELETE FROM konten WHERE system = ?", (system,))
    for user in (BOT_USER, TRAINEE_USER):
        salt = secrets.token_hex(8)
        conn.execute(
            "INSERT INTO konten VALUES (?, ?, ?, ?)",
            (system, user, salt, hash_password(password, salt)),
        )


def _insert_entry(conn: sqlite3.Connection, entry: tuple[Any, ...]) -> None:
    conn.execute(
        "INSERT INTO register (aktenzeichen, betrieb, rechtsform, inhaber_nachname,"
        " inhaber_vorname, strasse, hausnummer, plz, ort, taetigkeit, beginn, bezugszeichen,"
        " angelegt, angelegt_von) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        entry,
    )


def _vorgaenge(
    conn: sqlite3.Connection,
    rng: random.Random,
    settings: SandboxSettings,
    entries: list[tuple[Any, ...]],
) -> int:
    from sandbox import hunde_story  # it draws on this story's names

    specs = _specs(settings.cases, settings.dog_cases)
    rng.shuffle(specs)
    numbers = {prefix: rng.randint(100, 400) for prefix in LEISTUNGEN.values()}
    counters = {code: rng.randint(10, 40) for code, _ in CITIES.values()}
    when = datetime(YEAR, 1, 5, 8, 0)
    names: set[str] = set()
    for leistung, status in specs:
        when += timedelta(minutes=rng.randint(20, 2000))
        prefix = LEISTUNGEN[leistung]
        numbers[prefix] += 1
        nummer = f"{prefix}-{YEAR}-{numbers[prefix]:06d}"
        person = _person(rng)
        city, strasse, hausnr, plz = _address(rng)
        betrieb = rechtsform = taetigkeit = beginn = ""
        if leistung.startswith("Gewerbe"):
            taetigkeit, pattern = rng.choice(TAETIGKEITEN)
            label = rng.choices(
                list(RECHTSFORM_WEIGHTS), [w for w, _ in RECHTSFORM_WEIGHTS.values()]
            )[0]
            betrieb = pattern.format(n=person.nachname) + RECHTSFORM_WEIGHTS[label][1]
            while betrieb in names:
                betrieb = pattern.format(n=f"{person.nachname} & {rng.choice(NACHNAMEN)}")
                betrieb += RECHTSFORM_WEIGHTS[label][1]
            names.add(betrieb)
            rechtsform = _CIVENTO_WORDING[label]
            beginn = (when.date() + timedelta(days=rng.randint(0, 60))).isoformat()
        else:
            taetigkeit = rng.choice(HUNDE)
        shown_strasse, shown_plz = _as_citizen_types(rng, strasse, plz)
        aktenzeichen = ""
        if leistung == "Gewerbeanmeldung" and status in ("Übertragen", "Abgeschlossen"):
            code = CITIES[city][0]
            counters[code] += 1
            aktenzeichen = f"GEW-{code}-{YEAR}-{counters[code]:05d}"
            entries.append(
                (aktenzeichen, betrieb, _REGISTER_CODE[label], person.nachname,
                 person.vorname, strasse, hausnr, plz, city, taetigkeit, beginn, nummer,
                 (when + timedelta(days=1)).isoformat(" "), "schulung"),
            )  # fmt: skip
        cursor = conn.execute(
            "INSERT INTO vorgaenge (nummer, leistung, status, eingang, anrede, vorname, nachname,"
            " geburtsdatum, email, telefon, betrieb, rechtsform, strasse, plz, ort, taetigkeit,"
            " beginn, aktenzeichen_fv, geaendert) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (nummer, leistung, status, when.isoformat(" "), person.anrede, person.vorname,
             person.nachname, person.geburtsdatum, person.email, person.telefon, betrieb,
             rechtsform, f"{shown_strasse} {hausnr}", shown_plz, city, taetigkeit, beginn,
             aktenzeichen, when.isoformat(" ")),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO verlauf (vorgang_id, zeit, benutzer, eintrag) VALUES (?, ?, ?, ?)",
            (cursor.lastrowid, when.isoformat(" "), "online", "Eingegangen über Online-Antrag"),
        )
        if leistung == "Hundesteuer-Anmeldung":
            assert cursor.lastrowid is not None
            dog = hunde_story.angaben(conn, cursor.lastrowid, nummer, settings.seed)
            conn.execute(
                "UPDATE vorgaenge SET taetigkeit = ? WHERE id = ?", (dog, cursor.lastrowid)
            )
    return len(specs)


#: What a citizen got wrong, in turn (column, SQL expression): a business exception each.
PROBLEMS = (
    ("beginn", "''"),  # "Beginn der Tätigkeit" left empty
    ("rechtsform", "'Eingetragener Verein (e.V.)'"),  # no legal form of the register
    ("betrieb", "betrieb || ' € 🥐'"),  # the register accepts Latin-1 only
)


def _problem_cases(conn: sqlite3.Connection, count: int) -> None:
    """Give the first ``count`` new Gewerbeanmeldungen (by number) a problem each."""
    numbers = [
        row[0]
        for row in conn.execute(
            "SELECT nummer FROM vorgaenge WHERE leistung = 'Gewerbeanmeldung' AND status = 'Neu'"
            " ORDER BY nummer LIMIT ?",
            (count,),
        )
    ]
    for index, nummer in enumerate(numbers):
        column, value = PROBLEMS[index % len(PROBLEMS)]
        # column and value come from PROBLEMS above, never from input
        conn.execute(f"UPDATE vorgaenge SET {column} = {value} WHERE nummer = ?", (nummer,))


def _paper_entries(conn: sqlite3.Connection, rng: random.Random) -> int:
    """Register entries made on paper, before Civento: no Bezugszeichen."""
    for index in range(4):
        person = _person(rng)
        city, strasse, hausnr, plz = _address(rng)
        taetigkeit, pattern = rng.choice(TAETIGKEITEN)
        code = CITIES[city][0]
        _insert_entry(
            conn,
            (f"GEW-{code}-{YEAR - 1}-{index + 101:05d}", pattern.format(n=person.nachname), "EU",
             person.nachname, person.vorname, strasse, hausnr, plz, city, taetigkeit,
             f"{YEAR - 1}-0{index + 3}-01", "", f"{YEAR - 1}-0{index + 3}-01 10:00:00",
             "schulung"),
        )  # fmt: skip
    return 4
