"""City overlays: a city's own settings for a catalog bot, checked against the bot.

A city that installs a shared bot writes only what differs in that city into
``overlays/<tenant>/<bot>.yaml`` (relative to the catalog file); the bot's files stay
byte-identical in every city, which their digest proves::

    bot: gewerbe-uebertragung
    version: 1.2.0
    fachamt: Ordnungsamt
    targets: {civento: https://civento.marburg.de}
    secrets: {civento_password: MARBURG_CIVENTO_RPA}   # the bot's name -> the city's name
    parameters: {max_cases: 30}
    queues: {gewerbeanmeldungen: gewerbe-mr}            # the bot's name -> the city's name
    schedules:
      nachts: {cron: "0 2 * * 1-5"}

``bots catalog install`` writes a skeleton (:func:`complete_overlay`): every target and
secret of the bot and every parameter without a default, empty, with a German comment saying
what to fill in; an upgrade adds what the new version needs and keeps every value. Checked
by :func:`overlay_problems` (``bots validate --catalog``, and before every run of the city):
unknown keys, empty entries and values that do not fit the bot's parameter types are
problems at their ``file:line:col``. Applied at run time by :mod:`orchestrator.catalog.city`.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml.comments import CommentedMap

from orchestrator.catalog.editing import round_trip_yaml
from orchestrator.catalog.files import version_files
from orchestrator.catalog.loading import read_catalog
from orchestrator.errors import BotsError, ConfigError, DefinitionError, ParameterError, Problem
from orchestrator.model.bot import NAME, SEMVER, SLUG, BotDefinition, Parameter
from orchestrator.model.loader import BOT_FILE
from orchestrator.model.parameters import coerce_value
from orchestrator.model.schema_errors import did_you_mean, validate_document
from orchestrator.model.validation import iter_flow_steps
from orchestrator.model.yaml_loader import YamlDocument, parse_yaml, read_yaml
from orchestrator.settings import ScheduleSettings

#: Where a tenant's overlay of a bot lies, relative to the catalog file.
OVERLAY_PATH = "overlays/{tenant}/{bot}.yaml"
#: Step keys whose value names a work queue (connectors/queue.py).
QUEUE_KEYS = ("for_each_item", "add_items")
_URL = re.compile(r"^https?://\S+$")
_FLOW_SUFFIXES = (".yaml", ".yml")


class OverlaySchedule(ScheduleSettings):
    """A schedule of the bot in this city: as under ``schedules`` in the settings, without
    ``bot`` (it is the overlay's bot)."""

    model_config = ConfigDict(extra="forbid", title="overlay schedule")

    bot: str = Field("", description="Leave out: the overlay's bot.")


class Overlay(BaseModel):
    """A city's own settings for one catalog bot (``overlays/<tenant>/<bot>.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="overlay")

    bot: str = Field(pattern=SLUG, description="The bot's id.")
    version: str = Field(pattern=SEMVER, description="The installed version.")
    fachamt: str | None = Field(None, description="The city's Fachamt answering for the bot.")
    targets: dict[str, str | None] = Field(
        default_factory=dict, description="Target name -> the city's base URL."
    )
    secrets: dict[str, str | None] = Field(
        default_factory=dict,
        description="The bot's secret name -> the city's name in the secret store.",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Values of the bot's parameters (run defaults)."
    )
    queues: dict[str, str | None] = Field(
        default_factory=dict, description="Queue name the bot uses -> the city's queue name."
    )
    schedules: dict[str, OverlaySchedule] = Field(
        default_factory=dict, description="The bot's schedules in this city, by name."
    )


@dataclass(frozen=True)
class BotFacts:
    """What an overlay is checked against: a bot version's declarations and queue names."""

    id: str
    version: str
    parameters: Mapping[str, Parameter]
    targets: tuple[str, ...]
    secrets: Mapping[str, str]
    queues: frozenset[str] = frozenset()
    #: A queue name is a template: any name may be mapped.
    open_queues: bool = False


@dataclass(frozen=True)
class OverlayFile:
    """An overlay read from its file: the YAML with positions, the model, its problems."""

    doc: YamlDocument
    overlay: Overlay | None
    problems: list[Problem] = field(default_factory=list)


def bot_facts(files: Mapping[str, bytes]) -> BotFacts:
    """The facts of a bot version given as its files (relative path -> content).

    Raises:
        DefinitionError: its ``bot.yaml`` is missing or invalid.
    """
    if BOT_FILE not in files:
        raise DefinitionError([Problem(BOT_FILE, 1, 1, f"the bot's files hold no {BOT_FILE}")])
    doc = parse_yaml(files[BOT_FILE].decode("utf-8", errors="replace"), BOT_FILE)
    definition, problems = validate_document(BotDefinition, doc)
    if definition is None:
        raise DefinitionError(problems)
    queues: set[str] = set()
    open_queues = False
    for name, content in files.items():
        if not name.endswith(_FLOW_SUFFIXES):
            continue
        try:
            data = parse_yaml(content.decode("utf-8", errors="replace"), name).data
        except DefinitionError:
            continue
        for visit in iter_flow_steps(data):
            value = visit.get(visit.kind) if visit.kind in QUEUE_KEYS else None
            if isinstance(value, str):
                open_queues |= "{{" in value or "{%" in value
                queues.add(value)
    return BotFacts(
        id=definition.id,
        version=definition.version,
        parameters=definition.parameters,
        targets=tuple(definition.targets),
        secrets=definition.secrets,
        queues=frozenset(q for q in queues if "{" not in q),
        open_queues=open_queues,
    )


def overlay_path(tenant: str, bot_id: str) -> str:
    """The overlay's path relative to the catalog file: ``overlays/marburg/x.yaml``."""
    return OVERLAY_PATH.format(tenant=tenant, bot=bot_id)


def read_overlay(path: Path, shown: str | None = None) -> OverlayFile:
    """Read and schema-check the overlay at ``path`` (problems name it as ``shown``).

    Raises:
        DefinitionError: the file cannot be read or is no valid YAML.
    """
    doc = read_yaml(Path(path), shown)
    overlay, problems = validate_document(Overlay, doc)
    return OverlayFile(doc, overlay, [*doc.problems, *problems])


def overlay_problems(
    file: OverlayFile, facts: BotFacts, *, tenant: str, version: str
) -> list[Problem]:
    """Every problem of an overlay of ``tenant`` for ``facts`` (the installed ``version``):
    its schema problems, then keys the bot does not know, empty entries, values that do not
    fit. Example: ``overlays/marburg/x.yaml:4:3: unknown target 'civnto' (the bot uses:
    civento) (did you mean 'civento'?)``."""
    overlay, doc = file.overlay, file.doc
    if overlay is None:
        return list(file.problems)
    problems = list(file.problems)
    if overlay.bot != facts.id:
        problems.append(
            doc.problem(
                ("bot",),
                f"bot: the overlay is for {overlay.bot!r}, but it is installed for {facts.id!r}",
            )
        )
    if overlay.version != version:
        problems.append(
            doc.problem(
                ("version",),
                f"version: the overlay says {overlay.version}, "
                f"the catalog installs {version} for {tenant}",
            )
        )
    problems += _named(doc, "targets", overlay.targets, facts.targets, "target", _target_problem)
    problems += _named(doc, "secrets", overlay.secrets, facts.secrets, "secret", _secret_problem)
    problems += _parameter_problems(doc, overlay, facts)
    known_queues = None if facts.open_queues else sorted(facts.queues)
    problems += _named(doc, "queues", overlay.queues, known_queues, "queue", _queue_problem)
    for name, schedule in overlay.schedules.items():
        if schedule.bot and schedule.bot != facts.id:
            message = f"schedules.{name}.bot: leave it out (the overlay's bot is {facts.id})"
            problems.append(doc.problem(("schedules", name, "bot"), message))
    return problems


def check_overlays(catalog_path: Path) -> list[Problem]:
    """The problems of every installation's overlay in the catalog at ``catalog_path``,
    checked against the installed version's files (for ``bots validate --catalog``; the
    catalog's own problems are :func:`~orchestrator.catalog.loading.check_catalog`'s)."""
    try:
        catalog, _ = read_catalog(Path(catalog_path))
    except (DefinitionError, ConfigError):
        return []
    if catalog is None:
        return []
    problems: list[Problem] = []
    for bot_id, entry in catalog.catalog.bots.items():
        for tenant, installation in entry.installations.items():
            path = catalog.base / installation.overlay
            if not path.is_file():
                continue  # check_catalog names it
            try:
                facts = bot_facts(version_files(catalog, bot_id, installation.version))
                file = read_overlay(path, _shown(path))
            except DefinitionError as exc:
                problems += exc.problems
                continue
            except BotsError as exc:
                loc = ("bots", bot_id, "installations", tenant, "version")
                problems.append(catalog.doc.problem(loc, f"{tenant}: {exc}"))
                continue
            problems += overlay_problems(file, facts, tenant=tenant, version=installation.version)
    return problems


def _shown(path: Path) -> str:
    """``path`` relative to the current directory where it lies below it (as users write)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_overlay_file(path: Path) -> None:
    """An existing overlay can be completed: it is a YAML mapping (or empty).

    Raises:
        DefinitionError: it is no YAML, or no mapping (at the position of the problem).
    """
    if Path(path).exists():
        doc = read_yaml(Path(path))
        if not isinstance(doc.data, dict | None):
            raise DefinitionError([doc.problem((), "an overlay is a mapping (bot: ..., ...)")])


def complete_overlay(path: Path, facts: BotFacts, *, tenant: str, version: str) -> list[str]:
    """Write the overlay skeleton at ``path``, or add to an existing overlay what ``facts``
    need and it lacks; every value and comment already there stays. Returns what was added
    (``["targets.civento", "parameters.max_cases"]``; ``version`` is set to ``version``).

    The file appears complete or not at all (written beside, then renamed).

    Raises:
        DefinitionError: the existing overlay is no YAML mapping.
    """
    path = Path(path)
    yaml = round_trip_yaml()
    if path.exists():
        check_overlay_file(path)
        data = yaml.load(path.read_text(encoding="utf-8")) or CommentedMap()
    else:
        data = CommentedMap()
        data.yaml_set_start_comment(_HEADER.format(tenant=tenant, bot=facts.id))
    added: list[str] = []
    data.setdefault("bot", facts.id)
    data["version"] = version
    if "fachamt" not in data:
        _put(data, "fachamt", _FACHAMT, indent=0)
    targets = _section(data, "targets", _TARGETS)
    for target in facts.targets:
        if target not in targets:
            added.append("targets." + _put(targets, target, _TARGET.format(target=target)))
    secrets = _section(data, "secrets", _SECRETS)
    for secret, description in facts.secrets.items():
        if secret not in secrets:
            text = _SECRET.format(secret=secret, description=description or secret)
            added.append("secrets." + _put(secrets, secret, text))
    parameters = _section(data, "parameters", _parameters_note(facts.parameters))
    for name, spec in facts.parameters.items():
        if spec.required and name not in parameters:
            text = _REQUIRED.format(type=spec.type, description=spec.description or name)
            added.append("parameters." + _put(parameters, name, text))
    _section(data, "queues", _queues_note(facts, tenant))
    _section(data, "schedules", _SCHEDULES)
    _write_atomically(path, yaml, data)
    return added


# --------------------------------------------------------------------------- checking


def _named(
    doc: YamlDocument,
    section: str,
    given: Mapping[str, Any],
    known: Iterable[str] | None,
    what: str,
    check: Any,
) -> list[Problem]:
    """Problems of a section mapping the bot's names: unknown names, then each value."""
    problems: list[Problem] = []
    names = list(known) if known is not None else None
    for key, value in given.items():
        loc = (section, key)
        if names is not None and key not in names:
            listed = ", ".join(names) or "none"
            message = f"unknown {what} {key!r} (the bot uses: {listed}){did_you_mean(key, names)}"
            problems.append(doc.problem(loc, message, at_key=True))
            continue
        message = check(key, value)
        if message:  # an empty value has no position of its own: point at its key
            problems.append(doc.problem(loc, f"{section}.{key}: {message}", at_key=not value))
    return problems


def _target_problem(name: str, value: str | None) -> str | None:
    if not value:
        return (
            f"empty: write the address of {name} in this city, or delete the line to use "
            f"the settings' targets.{name}"
        )
    if not _URL.match(value):
        return f"{value!r} is no http(s) address"
    return None


def _secret_problem(name: str, value: str | None) -> str | None:
    if not value:
        return (
            f"empty: write the name of this city's secret, or delete the line to use the "
            f"bot's own name {name}"
        )
    if not re.match(NAME, value):
        return f"{value!r} is no secret name (letters, digits, _)"
    return None


def _queue_problem(name: str, value: str | None) -> str | None:
    if not value:
        return f"empty: write this city's queue name, or delete the line to use {name!r}"
    return None


def _parameter_problems(doc: YamlDocument, overlay: Overlay, facts: BotFacts) -> list[Problem]:
    problems: list[Problem] = []
    declared = facts.parameters
    for name, value in overlay.parameters.items():
        loc = ("parameters", name)
        spec = declared.get(name)
        if spec is None:
            listed = ", ".join(declared) or "none"
            message = (
                f"unknown parameter {name!r} (the bot declares: {listed})"
                f"{did_you_mean(name, declared)}"
            )
            problems.append(doc.problem(loc, message, at_key=True))
            continue
        if value is None:
            hint = f"write a value ({spec.type})"
            if not spec.required:
                hint += f", or delete the line to use the default {spec.default!r}"
            problems.append(doc.problem(loc, f"parameters.{name}: empty: {hint}", at_key=True))
            continue
        try:
            coerced = coerce_value(name, spec, value)
        except ParameterError as exc:
            problems.append(doc.problem(loc, f"parameters.{name}: {exc}"))
            continue
        if spec.choices and coerced not in spec.choices:
            allowed = ", ".join(str(c) for c in spec.choices)
            problems.append(
                doc.problem(loc, f"parameters.{name}: {value!r} is not one of: {allowed}")
            )
    return problems


# --------------------------------------------------------------------------- writing

_HEADER = (
    "Einstellungen von {tenant} für den Katalog-Bot {bot}: nur, was hier anders ist.\n"
    "Die Dateien des Bots bleiben unverändert (in jeder Stadt derselbe Digest).\n"
    "Leere Einträge ausfüllen oder löschen; prüfen mit: bots validate --catalog"
)
_FACHAMT = "Fachamt, das hier für den Bot zuständig ist (steht in den Laufberichten)"
_TARGETS = "Adressen der Zielsysteme in dieser Stadt"
_TARGET = (
    "Adresse von {target} eintragen, z. B. https://{target}.stadt.de\n"
    "(oder die Zeile löschen: dann gilt targets.{target} der Einstellungen)"
)
_SECRETS = "Namen der Geheimnisse in dieser Stadt; die Werte kommen aus BOTS_SECRET_<NAME>"
_SECRET = (
    "{description}: Name des Geheimnisses in dieser Stadt eintragen\n"
    "(oder die Zeile löschen: dann gilt der Name {secret})"
)
_REQUIRED = "Pflichtwert eintragen ({type}): {description}"
_SCHEDULES = 'Zeitpläne in dieser Stadt, z. B.  nachts: {cron: "0 2 * * 1-5"}'


def _parameters_note(parameters: Mapping[str, Parameter]) -> str:
    optional = [
        f"{name} ({spec.default})" for name, spec in parameters.items() if not spec.required
    ]
    if not optional:
        return "Werte der Parameter des Bots"
    return "Werte der Parameter; mit Vorgabe, hier änderbar: " + ", ".join(optional)


def _queues_note(facts: BotFacts, tenant: str) -> str:
    if not facts.queues:
        return "Eigene Namen von Warteschlangen des Bots (Name im Bot: Name hier)"
    first = sorted(facts.queues)[0]
    listed = ", ".join(sorted(facts.queues))
    return (
        f"Warteschlangen des Bots: {listed}\n"
        f"eigener Name in dieser Stadt z. B.  {first}: {first}-{tenant}"
    )


def _section(data: CommentedMap, key: str, comment: str) -> CommentedMap:
    """The mapping under ``key``; made, with ``comment`` above it, when missing."""
    section = data.get(key)
    if not isinstance(section, CommentedMap):
        made = CommentedMap(section or {})
        made.fa.set_flow_style()  # `{}` until an entry is put in
        if key not in data:
            data[key] = made
            data.yaml_set_comment_before_after_key(key, before=comment, indent=0)
        else:
            data[key] = made
        section = made
    return section


def _put(data: CommentedMap, key: str, comment: str, indent: int = 2) -> str:
    """``key`` with an empty value and ``comment`` above it; returns ``key``. A section
    written in flow style (``{a: 1}``) turns to block style: comments need lines."""
    data[key] = None
    data.fa.set_block_style()
    data.yaml_set_comment_before_after_key(key, before=comment, indent=indent)
    return key


def _write_atomically(path: Path, yaml: Any, data: CommentedMap) -> None:
    out = io.StringIO()
    yaml.dump(data, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(out.getvalue())
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
