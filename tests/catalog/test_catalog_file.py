"""The catalog file: its schema, `path:line:col` messages, and the check that a published
bot's files never change without a version bump (`bots validate --catalog`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _catalog_project import ROOT, Project
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.catalog.loading import check_catalog, load_catalog
from orchestrator.catalog.schema import CATALOG_SCHEMA_FILE, catalog_json_schema
from orchestrator.catalog.semver import semver_key
from orchestrator.errors import ConfigError, DefinitionError
from orchestrator.model.schema import DOCS_DIR, schema_text
from orchestrator.reports.catalog import effort_hours_by_bot
from orchestrator.states import MATURITY_MACHINE, Maturity


def bots(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def errors_of(path: Path) -> list[str]:
    return [str(p) for p in check_catalog(path) if p.severity == "error"]


def test_the_projects_catalog_is_valid() -> None:
    assert errors_of(ROOT / "bot_catalog.yaml") == []


def test_the_committed_schema_is_what_the_models_say() -> None:
    committed = (DOCS_DIR / CATALOG_SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema_text(catalog_json_schema()), (
        "docs/catalog.schema.json is stale: regenerate it (orchestrator/catalog/schema.py)"
    )
    result = bots("catalog", "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == catalog_json_schema()


def test_a_valid_catalog_loads(project: Project) -> None:
    catalog = load_catalog(project.catalog)
    entry = catalog.entry("gewerbe-uebertragung")
    assert entry.newest().maturity is Maturity.PILOT
    assert entry.installations["marburg"].version == "1.2.0"
    assert effort_hours_by_bot(project.catalog) == {
        "gewerbe-uebertragung": 160.0,
        "posteingang-export": 40.0,
    }


def _replace(project: Project, old: str, new: str) -> Path:
    text = project.catalog.read_text(encoding="utf-8")
    assert old in text
    return project.write_catalog(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    effort_hours: 160",
            "    owner: {city: Gießen, fachamt: Ordnungsamt}\n    effort_hours: 160",
            "bot_catalog.yaml:11:5: 'owner' repeats bot.yaml: the catalog says only what was "
            "shared (versions, installations, requirements, effort); owner belongs in "
            "bots/gewerbe-uebertragung/bot.yaml",
        ),
        (
            "    effort_hours: 160",
            "    version: 1.2.0\n    effort_hours: 160",
            "bot_catalog.yaml:11:5: 'version' repeats bot.yaml: the catalog says only what was "
            "shared (versions, installations, requirements, effort); version belongs in "
            "bots/gewerbe-uebertragung/bot.yaml, published versions under 'versions:'",
        ),
        (
            "maturity: pilot",
            "maturity: piloted",
            "bot_catalog.yaml:20:19: bots.gewerbe-uebertragung.versions[0].maturity: 'piloted' "
            "is not one of: experimental, pilot, proven, deprecated (did you mean 'pilot'?)",
        ),
        (
            "maturity: pilot",
            "maturity: deprecated",
            "bot_catalog.yaml:17:9: bots.gewerbe-uebertragung.versions[0]: version 1.2.0 is "
            "deprecated: name its successor (successor: other-bot@2.0.0)",
        ),
        (
            "      - version: 1.2.0",
            "      - version: '1.2'",
            "bot_catalog.yaml:17:18: bots.gewerbe-uebertragung.versions[0].version: '1.2' is "
            "not a semantic version like '1.2.0'",
        ),
        (
            "catalog_version: 2",
            "catalog_version: 1",
            "bot_catalog.yaml:2:18: catalog_version: 1 is not 2, the format this version reads "
            "(docs/catalog.md shows it)",
        ),
        (
            "  min_runs: 20",
            "  min_runs: 20\n  min_runs: 30",
            "bot_catalog.yaml:5:3: duplicate key 'min_runs' (first defined at line 4)",
        ),
        (
            "    path: bots/posteingang-export",
            "    path: bots/gewerbe-uebertragung",
            "bot_catalog.yaml:25:11: bots/gewerbe-uebertragung holds bot 'gewerbe-uebertragung', "
            "not 'posteingang-export'",
        ),
        (
            "    path: bots/posteingang-export",
            "    path: bots/fehlt",
            "bot_catalog.yaml:25:11: bots/fehlt holds no bot (bot.yaml missing)",
        ),
        (
            "giessen: {version: 1.2.0,",
            "giessen: {version: 1.1.0,",
            "bot_catalog.yaml:22:26: giessen uses gewerbe-uebertragung 1.1.0, which was never "
            "published (published: 1.2.0) (did you mean '1.2.0'?)",
        ),
        (
            "marburg: {version: 1.2.0, overlay: overlays/marburg/",
            "marburg: {version: 1.2.0, overlay: overlays/kassel/",
            "bot_catalog.yaml:23:42: overlay overlays/kassel/gewerbe-uebertragung.yaml does not "
            "exist (`bots catalog install gewerbe-uebertragung --tenant marburg` writes it)",
        ),
        (
            "  gewerbe-uebertragung:\n    path",
            "  gewerbe-uebertragung:\n    digest: 1\n    path",
            "bot_catalog.yaml:10:5: unknown key 'digest' in catalog bot",
        ),
        (
            "maturity: experimental",
            "maturity: deprecated\n        successor: gewerbe-uebertragen@1.2.0",
            "bot_catalog.yaml:32:20: successor 'gewerbe-uebertragen@1.2.0': the catalog has no "
            "bot 'gewerbe-uebertragen' (it has: gewerbe-uebertragung, posteingang-export) "
            "(did you mean 'gewerbe-uebertragung'?)",
        ),
    ],
    ids=[
        "repeats-owner",
        "repeats-version",
        "maturity",
        "deprecated-without-successor",
        "semver",
        "old-format",
        "duplicate-key",
        "other-bot",
        "no-bot",
        "unpublished-installation",
        "missing-overlay",
        "unknown-key",
        "unknown-successor",
    ],
)
def test_a_bad_catalog_is_told_with_path_line_and_column(
    project: Project, old: str, new: str, expected: str
) -> None:
    path = _replace(project, old, new)
    assert expected in errors_of(path)
    result = bots("validate", "--catalog")
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _add_version(project: Project, version: str) -> Path:
    digest = project.digest("gewerbe-uebertragung")
    entry = f"      - version: {version}\n        digest: {digest}\n"
    entry += "        published: 2026-12-01\n        maturity: experimental\n"
    return _replace(project, "    installations:", entry + "    installations:")


def test_versions_are_listed_oldest_first_by_semver(project: Project) -> None:
    assert (
        "bot_catalog.yaml:21:18: version 1.1.0 comes after 1.2.0: list versions oldest first"
        in errors_of(_add_version(project, "1.1.0"))
    )


def test_a_version_is_listed_once(project: Project) -> None:
    assert (
        "bot_catalog.yaml:21:18: version 1.2.0+build.7 is listed twice (also as 1.2.0)"
        in errors_of(_add_version(project, "1.2.0+build.7"))
    )


def test_ten_is_newer_than_two(project: Project) -> None:
    problems = errors_of(_add_version(project, "1.10.0"))
    assert not any("comes after" in p for p in problems)
    assert any("the working copy is version 1.2.0" in p and "1.10.0" in p for p in problems)


def test_a_missing_catalog_is_named(project: Project) -> None:
    project.catalog.unlink()
    with pytest.raises(ConfigError, match="no bot catalog at"):
        load_catalog(project.catalog)
    result = bots("catalog", "list")
    assert result.exit_code == 2
    assert "no bot catalog at" in result.stderr


# --------------------------------------------------------------------------- version bumps


def test_a_change_without_a_version_bump_is_refused(project: Project) -> None:
    published = project.digest("posteingang-export")
    hooks = project.bot_dir("posteingang-export") / "hooks.py"
    hooks.write_bytes(hooks.read_bytes() + b"\n")  # one byte
    changed = project.digest("posteingang-export")

    result = bots("validate", "--catalog")

    assert result.exit_code == 2
    assert (
        f"posteingang-export 1.1.0 is published with digest {published}, but its files in "
        f"bots/posteingang-export now have digest {changed}: a published version never "
        "changes; raise 'version' in bots/posteingang-export/bot.yaml (e.g. to 1.1.1)"
    ) in result.stderr
    assert "bot_catalog.yaml:29:17: " in result.stderr  # the published digest's line
    with pytest.raises(DefinitionError):
        load_catalog(project.catalog)

    bot_file = project.bot_dir("posteingang-export") / "bot.yaml"
    bot_file.write_text(
        bot_file.read_text(encoding="utf-8").replace("version: 1.1.0", "version: 1.1.1"),
        encoding="utf-8",
    )
    result = bots("validate", "--catalog")
    assert result.exit_code == 0, result.stderr
    assert "and the catalog" in result.stdout


def test_a_working_copy_older_than_the_newest_published_version_is_refused(
    project: Project,
) -> None:
    _replace(project, "      - version: 1.1.0", "      - version: 1.3.0")
    assert any(
        "posteingang-export: the working copy is version 1.1.0 "
        "(bots/posteingang-export/bot.yaml), older than the newest published 1.3.0" in p
        for p in errors_of(project.catalog)
    )


def test_validate_without_catalog_leaves_it_alone(project: Project) -> None:
    hooks = project.bot_dir("posteingang-export") / "hooks.py"
    hooks.write_bytes(hooks.read_bytes() + b"\n")
    assert bots("validate").exit_code == 0


# --------------------------------------------------------------------------- versions, moves


def test_versions_are_ordered_by_semver_precedence() -> None:
    versions = ["1.10.0", "1.2.0", "1.2.0-rc.10", "1.2.0-rc.2", "1.2.0-alpha", "0.9.9"]
    assert sorted(versions, key=semver_key) == [
        "0.9.9",
        "1.2.0-alpha",
        "1.2.0-rc.2",
        "1.2.0-rc.10",
        "1.2.0",
        "1.10.0",
    ]


def test_maturity_moves_one_step_at_a_time() -> None:
    assert MATURITY_MACHINE.sources(Maturity.PROVEN) == [Maturity.PILOT]
    assert MATURITY_MACHINE.sources(Maturity.EXPERIMENTAL) == []
    assert MATURITY_MACHINE.terminal == frozenset({Maturity.DEPRECATED})
    assert set(MATURITY_MACHINE.sources(Maturity.DEPRECATED)) == {
        Maturity.EXPERIMENTAL,
        Maturity.PILOT,
        Maturity.PROVEN,
    }
