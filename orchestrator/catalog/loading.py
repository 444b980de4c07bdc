"""Read and check ``bot_catalog.yaml``, every problem as ``path:line:col: message``.

The library side of ``bots validate --catalog`` and of every ``bots catalog`` command::

    problems = check_catalog(Path("bot_catalog.yaml"))     # errors and warnings, all at once
    catalog = load_catalog(Path("bot_catalog.yaml"))       # DefinitionError unless valid
    catalog.entry("gewerbe-uebertragung").newest().maturity  # Maturity.PILOT

Beyond the schema (:mod:`orchestrator.catalog.model`) a catalog must fit the files: every
bot's ``path`` holds a bot of that id; its versions are unique and in order, oldest first;
the newest published version's digest is the digest of the working copy, unless the working
copy's ``bot.yaml`` has a higher version than every published one (a new version, not yet
published). A change of a published bot's files without a version bump is refused, naming
the bot, the version and both digests. Installations name published versions; a deprecated
version names a successor the catalog knows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from orchestrator.catalog.model import Catalog, CatalogBot, PublishedVersion
from orchestrator.catalog.semver import is_semver, newer, semver_key
from orchestrator.errors import BotNotFound, ConfigError, DefinitionError, Problem
from orchestrator.model.bot import BotDefinition
from orchestrator.model.loader import BOT_FILE, bot_digest
from orchestrator.model.schema_errors import did_you_mean, error_problem, field_path
from orchestrator.model.yaml_loader import YamlDocument, read_yaml
from orchestrator.states import Maturity

#: Keys of ``bot.yaml`` a catalog bot must not repeat (and keys of the old catalog format).
BOT_YAML_KEYS = frozenset(
    {(info.alias or name) for name, info in BotDefinition.model_fields.items()}
    | {"summary", "used_by"}
) - frozenset(CatalogBot.model_fields)


@dataclass(frozen=True)
class WorkingCopy:
    """A catalog bot's files as they are now: its directory, ``bot.yaml``'s version, digest."""

    directory: Path
    bot_id: str | None
    version: str | None
    digest: str


@dataclass(frozen=True)
class CatalogFile:
    """A catalog read from its file: the models, the YAML with positions, where it lies.

    Paths in the catalog (a bot's ``path``, an overlay) are relative to :attr:`base`.
    """

    path: Path
    doc: YamlDocument
    catalog: Catalog

    @property
    def base(self) -> Path:
        """The directory the catalog's paths are relative to: the catalog file's own."""
        return self.path.parent

    def entry(self, bot_id: str) -> CatalogBot:
        """The catalog bot ``bot_id``.

        Raises:
            BotNotFound: the catalog has no such bot (the message lists those it has).
        """
        entry = self.catalog.bots.get(bot_id)
        if entry is None:
            known = ", ".join(self.catalog.bots) or "none"
            raise BotNotFound(
                f"the catalog {self.path} has no bot {bot_id!r} (it has: {known})"
                f"{did_you_mean(bot_id, self.catalog.bots)}"
            )
        return entry

    def published(self, bot_id: str, version: str) -> PublishedVersion:
        """The published version ``version`` of ``bot_id``.

        Raises:
            BotNotFound: no such bot, or that version was never published.
        """
        entry = self.entry(bot_id)
        found = entry.version(version)
        if found is None:
            listed = ", ".join(v.version for v in entry.versions)
            raise BotNotFound(
                f"{bot_id} {version} was never published (published: {listed})"
                f"{did_you_mean(version, [v.version for v in entry.versions])}"
            )
        return found

    def bot_dir(self, bot_id: str) -> Path:
        """The working copy's directory of ``bot_id``."""
        return self.base / self.entry(bot_id).path

    def working_copy(self, bot_id: str) -> WorkingCopy:
        """The working copy of ``bot_id``: the id and version its ``bot.yaml`` says, its digest.

        Raises:
            DefinitionError: its ``bot.yaml`` cannot be read or is no YAML.
        """
        directory = self.bot_dir(bot_id)
        data = read_yaml(directory / BOT_FILE, shown_path(directory / BOT_FILE)).data
        fields = data if isinstance(data, dict) else {}
        bot_id_read, version = fields.get("id"), fields.get("version")
        return WorkingCopy(
            directory,
            bot_id_read if isinstance(bot_id_read, str) else None,
            version if is_semver(version) else None,
            bot_digest(directory),
        )


def read_catalog(path: Path) -> tuple[CatalogFile | None, list[Problem]]:
    """Parse and schema-check the catalog at ``path``; nothing beyond the file itself.

    Returns the catalog (None when it has schema errors) and the problems found.

    Raises:
        ConfigError: there is no file at ``path``.
        DefinitionError: the file cannot be read or is no valid YAML.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"no bot catalog at {path} (the setting catalog_file, BOTS_CATALOG_FILE, names it)"
        )
    doc = read_yaml(path, shown_path(path))
    problems = list(doc.problems)
    try:
        catalog = Catalog.model_validate(doc.data)
    except ValidationError as exc:
        problems += [_schema_problem(doc, err) for err in exc.errors()]
        return None, problems
    if any(p.severity == "error" for p in problems):
        return None, problems
    return CatalogFile(path, doc, catalog), problems


def open_catalog(path: Path) -> CatalogFile:
    """The catalog at ``path`` if its file fits the schema; its fit with the bots' files is
    not checked (for reading it: ``bots catalog list|show|diff``).

    Raises:
        ConfigError: there is no file at ``path``.
        DefinitionError: the file is no valid YAML or does not fit the schema.
    """
    loaded, problems = read_catalog(path)
    if loaded is None:
        raise DefinitionError(problems)
    return loaded


def check_catalog(path: Path) -> list[Problem]:
    """Every problem of the catalog at ``path`` and its fit with the bots' files.

    Raises:
        ConfigError: there is no file at ``path``.
    """
    return _checked(path)[1]


def load_catalog(path: Path) -> CatalogFile:
    """The catalog at ``path``, checked as :func:`check_catalog` does.

    Raises:
        ConfigError: there is no file at ``path``.
        DefinitionError: the catalog has errors; ``problems`` lists every one.
    """
    loaded, problems = _checked(path)
    if loaded is None or any(p.severity == "error" for p in problems):
        raise DefinitionError(problems)
    return loaded


def shown_path(path: Path) -> str:
    """``path`` as problems name it: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


# --------------------------------------------------------------------------- internals


def _checked(path: Path) -> tuple[CatalogFile | None, list[Problem]]:
    """The catalog (None if its file has errors) and every problem of it and its bots."""
    try:
        loaded, problems = read_catalog(path)
    except DefinitionError as exc:
        return None, list(exc.problems)
    if loaded is None:
        return None, problems
    for bot_id in loaded.catalog.bots:
        problems += _bot_problems(loaded, bot_id)
    problems += _successor_problems(loaded)
    return loaded, problems


def _schema_problem(doc: YamlDocument, err: ErrorDetails) -> Problem:
    """A pydantic error as a Problem; a key repeating ``bot.yaml`` says where it belongs."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden" and len(loc) == 3 and loc[0] == "bots":
        key = loc[2]
        if key in BOT_YAML_KEYS:
            where = doc.get((*loc[:2], "path")) or f"bots/{loc[1]}"
            return doc.problem(
                loc,
                f"{key!r} repeats bot.yaml: the catalog says only what was shared (versions, "
                f"installations, requirements, effort); {key} belongs in {where}/{BOT_FILE}"
                + (", published versions under 'versions:'" if key == "version" else ""),
                at_key=True,
            )
    if err["type"] == "enum":  # a maturity: name the choices, guess what was meant
        value, choices = err.get("input"), [m.value for m in Maturity]
        return doc.problem(
            loc,
            f"{field_path(loc)}: {value!r} is not one of: {', '.join(choices)}"
            f"{did_you_mean(value, choices)}",
        )
    if err["type"] == "literal_error" and loc == ("catalog_version",):
        return doc.problem(
            loc,
            f"catalog_version: {err.get('input')!r} is not 2, the format this version reads "
            "(docs/catalog.md shows it)",
        )
    return error_problem(Catalog, doc, err)


def _bot_problems(loaded: CatalogFile, bot_id: str) -> list[Problem]:
    doc, entry = loaded.doc, loaded.entry(bot_id)
    problems = list(_order_problems(doc, bot_id, entry))
    problems += _installation_problems(loaded, bot_id, entry)
    where = ("bots", bot_id, "path")
    directory = loaded.bot_dir(bot_id)
    if not (directory / BOT_FILE).is_file():
        return [*problems, doc.problem(where, f"{entry.path} holds no bot ({BOT_FILE} missing)")]
    try:
        copy = loaded.working_copy(bot_id)
    except DefinitionError as exc:
        return [*problems, *exc.problems]
    if copy.bot_id != bot_id:
        found = repr(copy.bot_id) if copy.bot_id else "no valid id"
        return [*problems, doc.problem(where, f"{entry.path} holds bot {found}, not {bot_id!r}")]
    return problems + _digest_problems(doc, bot_id, entry, copy)


def _order_problems(doc: YamlDocument, bot_id: str, entry: CatalogBot) -> Iterator[Problem]:
    """Versions unique and oldest first."""
    for index in range(1, len(entry.versions)):
        before, this = entry.versions[index - 1].version, entry.versions[index].version
        loc = ("bots", bot_id, "versions", index, "version")
        if semver_key(this) == semver_key(before):
            yield doc.problem(loc, f"version {this} is listed twice (also as {before})")
        elif newer(before, this):
            yield doc.problem(
                loc, f"version {this} comes after {before}: list versions oldest first"
            )


def _digest_problems(
    doc: YamlDocument, bot_id: str, entry: CatalogBot, copy: WorkingCopy
) -> list[Problem]:
    """The newest published version is the working copy, unless that is a newer version."""
    newest = entry.newest()
    if copy.version is None or newer(copy.version, newest.version):
        return []  # a new version, not yet published (or bot.yaml's own error, shown there)
    index = entry.versions.index(newest)
    bot_file = f"{entry.path}/{BOT_FILE}"
    if copy.version != newest.version:
        return [
            doc.problem(
                ("bots", bot_id, "versions", index, "version"),
                f"{bot_id}: the working copy is version {copy.version} ({bot_file}), older than "
                f"the newest published {newest.version}: the working copy must be the newest "
                "version or a new one",
            )
        ]
    if copy.digest == newest.digest:
        return []
    return [
        doc.problem(
            ("bots", bot_id, "versions", index, "digest"),
            f"{bot_id} {newest.version} is published with digest {newest.digest}, but its files "
            f"in {entry.path} now have digest {copy.digest}: a published version never changes; "
            f"raise 'version' in {bot_file} (e.g. to {_next_patch(newest.version)}) and publish "
            "the new version",
        )
    ]


def _next_patch(version: str) -> str:
    major, minor, patch, *_ = semver_key(version)
    return f"{major}.{minor}.{patch + 1}"


def _installation_problems(
    loaded: CatalogFile, bot_id: str, entry: CatalogBot
) -> Iterator[Problem]:
    doc = loaded.doc
    published = [v.version for v in entry.versions]
    for tenant, installation in entry.installations.items():
        loc = ("bots", bot_id, "installations", tenant)
        version = entry.version(installation.version)
        if version is None:
            yield doc.problem(
                (*loc, "version"),
                f"{tenant} uses {bot_id} {installation.version}, which was never published "
                f"(published: {', '.join(published)})"
                f"{did_you_mean(installation.version, published)}",
            )
        elif version.successor is not None:
            yield doc.problem(
                (*loc, "version"),
                f"{tenant} uses {bot_id} {installation.version}, which is deprecated: upgrade "
                f"to {version.successor}",
                severity="warning",
            )
        overlay = Path(installation.overlay)
        if overlay.is_absolute() or ".." in overlay.parts:
            yield doc.problem(
                (*loc, "overlay"),
                f"overlay {installation.overlay!r} must lie below the catalog's directory "
                "(a relative path without '..')",
            )
        elif not (loaded.base / overlay).is_file():
            yield doc.problem(
                (*loc, "overlay"),
                f"overlay {installation.overlay} does not exist (`bots catalog install "
                f"{bot_id} --tenant {tenant}` writes it)",
            )


def _successor_problems(loaded: CatalogFile) -> list[Problem]:
    problems: list[Problem] = []
    bots = loaded.catalog.bots
    for bot_id, entry in bots.items():
        for index, version in enumerate(entry.versions):
            if version.successor is None:
                continue
            message = successor_problem(loaded.catalog, version.successor, bot_id, version.version)
            if message:
                loc = ("bots", bot_id, "versions", index, "successor")
                problems.append(loaded.doc.problem(loc, message))
    return problems


def successor_problem(catalog: Catalog, successor: str, bot_id: str, version: str) -> str | None:
    """Why ``successor`` (``bot`` or ``bot@version``) cannot replace ``bot_id`` ``version``:
    the catalog lacks that bot or version, or it is the same or an older version of the same
    bot. None when it can."""
    bots = catalog.bots
    other, _, other_version = successor.partition("@")
    if other not in bots:
        known = ", ".join(bots)
        return (
            f"successor {successor!r}: the catalog has no bot {other!r} (it has: {known})"
            f"{did_you_mean(other, bots)}"
        )
    if other_version and bots[other].version(other_version) is None:
        return f"successor {successor!r}: {other} {other_version} was never published"
    if other == bot_id and not (other_version and newer(other_version, version)):
        return (
            f"successor {successor!r}: a version of {bot_id} is succeeded by another bot or by "
            f"a newer version of its own ({bot_id}@VERSION, newer than {version})"
        )
    return None
