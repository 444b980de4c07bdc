"""Deterministic sample data: Vorgänge in Civento, entries in the Gewerberegister, accounts.

The same seed and settings always give the same data (names with umlauts, addresses in the
six cities, Civento's wording of legal forms, a few other Leistungen so that filters matter).

Example::

    count = seed(Path("data/sandbox"), SandboxSettings(cases=3))
"""

from __future__ import annotations

import random
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from orchestrator.settings import SandboxSettings
from sandbox.db import TABLES, connect, hash_password, transaction
from sandbox.rules import CITIES, CIVENTO_RECHTSFORMEN, LEISTUNGEN, REGISTER_RECHTSFORMEN

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


def _specs(cases: int) -> list[tuple[str, str]]:
    specs = [("Gewerbeanmeldung", "Neu")] * cases
    specs += [("Gewerbeanmeldung", "In Bearbeitung")] * 2
    specs += [("Gewerbeanmeldung", "Übertragen")] * 3 + [("Gewerbeanmeldung", "Abgeschlossen")] * 3
    specs += [("Gewerbeabmeldung", "Neu")] * 2 + [("Gewerbeabmeldung", "In Bearbeitung")]
    specs += [("Gewerbeabmeldung", "Abgeschlossen"), ("Hundesteuer-Anmeldung", "Abgeschlossen")]
    specs += [("Hundesteuer-Anmeldung", "Neu")] * 3
    return specs


def seed(sandbox_dir: Path, settings: SandboxSettings, reset: bool = True) -> int:
    """Fill the sandbox with fresh deterministic data and the bot accounts.

    Works while the sandbox is serving: the tables are emptied and refilled in one transaction.

    Args:
        sandbox_dir: Where the sandbox keeps its SQLite file.
        settings: ``seed`` (RNG seed), ``cases`` (new Gewerbeanmeldungen), ``password`` (of the
            accounts ``rpa-gewerbe`` and ``schulung`` in both systems).
        reset: Replace existing data; when False, an already seeded sandbox is left alone.

    Returns:
        The number of Vorgänge in Civento.
    """
    rng = random.Random(settings.seed)
    with connect(sandbox_dir) as conn:
        if not reset:
            count = conn.execute("SELECT COUNT(*) FROM vorgaenge").fetchone()[0]
            if count:
                return int(count)
        with transaction(conn):
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")  # fixed table names
            _accounts(conn, settings.password)
            count = _vorgaenge(conn, rng, settings.cases)
            _paper_entries(conn, rng)
            _problem_cases(conn, settings.problem_cases)
    return count


def _accounts(conn: sqlite3.Connection, password: str) -> None:
    for system in ("civento", "gewerberegister"):
        for user in (BOT_USER, TRAINEE_USER):
            salt = secrets.token_hex(8)
            conn.execute(
                "INSERT INTO konten VALUES (?, ?, ?, ?)",
                (system, user, salt, hash_password(password, salt)),
            )


def _vorgaenge(conn: sqlite3.Connection, rng: random.Random, cases: int) -> int:
    specs = _specs(cases)
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
            conn.execute(
                "INSERT INTO register (aktenzeichen, betrieb, rechtsform, inhaber_nachname,"
                " inhaber_vorname, strasse, hausnummer, plz, ort, taetigkeit, beginn,"
                " bezugszeichen, angelegt, angelegt_von) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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


def _paper_entries(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Register entries made on paper, before Civento: no Bezugszeichen."""
    for index in range(4):
        person = _person(rng)
        city, strasse, hausnr, plz = _address(rng)
        taetigkeit, pattern = rng.choice(TAETIGKEITEN)
        code = CITIES[city][0]
        conn.execute(
            "INSERT INTO register (aktenzeichen, betrieb, rechtsform, inhaber_nachname,"
            " inhaber_vorname, strasse, hausnummer, plz, ort, taetigkeit, beginn, bezugszeichen,"
            " angelegt, angelegt_von) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (f"GEW-{code}-{YEAR - 1}-{index + 101:05d}", pattern.format(n=person.nachname), "EU",
             person.nachname, person.vorname, strasse, hausnr, plz, city, taetigkeit,
             f"{YEAR - 1}-0{index + 3}-01", "", f"{YEAR - 1}-0{index + 3}-01 10:00:00",
             "schulung"),
        )  # fmt: skip
