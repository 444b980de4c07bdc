"""`bots catalog list|show|diff`: what the catalog says, as text and JSON."""

from __future__ import annotations

import json

from _catalog_project import Project
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner, Result

from cli import app
from orchestrator.catalog.bundle import pack
from orchestrator.catalog.files import BUNDLES_DIR
from orchestrator.model import load_bot


def bots(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_list_names_each_bot_its_newest_version_and_the_cities(project: Project) -> None:
    result = bots("catalog", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "BOT                   NEWEST  MATURITY      CITIES",
        "gewerbe-uebertragung  1.2.0   pilot         giessen 1.2.0, marburg 1.2.0",
        "posteingang-export    1.1.0   experimental  -",
    ]
    listed = json.loads(bots("catalog", "list", "--json").stdout)
    assert listed[0] == {
        "bot": "gewerbe-uebertragung",
        "newest": "1.2.0",
        "maturity": "pilot",
        "cities": {"giessen": "1.2.0", "marburg": "1.2.0"},
    }


def test_show_tells_versions_installations_requirements_and_effort(project: Project) -> None:
    digest = project.digest("gewerbe-uebertragung")
    result = bots("catalog", "show", "gewerbe-uebertragung")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "gewerbe-uebertragung (bots/gewerbe-uebertragung)",
        f"working copy: 1.2.0, digest {digest} (published)",
        "effort: 160 hours to build",
        "requires: connectors civento, gewerberegister, queue; robot labels browser",
        "proven against: civento 3.4, gewerberegister 2025.2",
        "versions:",
        "  VERSION  PUBLISHED   MATURITY  DIGEST" + " " * 58 + "  SUCCESSOR",
        f"  1.2.0    2026-11-30  pilot     {digest}",
        "installations:",
        "  CITY     VERSION  OVERLAY                                     FILES",
        "  giessen  1.2.0    overlays/giessen/gewerbe-uebertragung.yaml  bots/gewerbe-uebertragung",
        "  marburg  1.2.0    overlays/marburg/gewerbe-uebertragung.yaml  bots/gewerbe-uebertragung",
    ]
    shown = json.loads(bots("catalog", "show", "gewerbe-uebertragung", "--json").stdout)
    assert shown["versions"] == [
        {
            "version": "1.2.0",
            "digest": digest,
            "published": "2026-11-30",
            "maturity": "pilot",
            "successor": None,
        }
    ]
    assert shown["working_copy"] == {"version": "1.2.0", "digest": digest, "published": True}
    assert shown["effort_hours"] == 160

    unknown = bots("catalog", "show", "gewerbe-uebertragen")
    assert unknown.exit_code == 2
    assert "(did you mean 'gewerbe-uebertragung'?)" in unknown.stderr


def test_diff_reads_a_published_bundle_and_the_working_copy(project: Project) -> None:
    directory = project.bot_dir("posteingang-export")
    pack(load_bot(directory), Ed25519PrivateKey.generate(), project.root / BUNDLES_DIR)
    bot_file = directory / "bot.yaml"
    text = bot_file.read_text(encoding="utf-8").replace("version: 1.1.0", "version: 1.2.0")
    text = text.replace("  - use: civento.abmelden", "  - pause: 1\n  - use: civento.abmelden")
    bot_file.write_text(text, encoding="utf-8")
    assert bots("validate", "--catalog").exit_code == 0  # a new version, not yet published

    result = bots("catalog", "diff", "posteingang-export", "1.1.0", "1.2.0")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "posteingang-export 1.1.0 -> 1.2.0"
    assert lines[1:3] == ["steps:", "  + bot.yaml finally[0]: pause"]
    assert "  ~ bot.yaml: version (1.1.0 -> 1.2.0)" in lines
    assert bots("catalog", "diff", "posteingang-export", "1.1.0", "1.1.0").stdout.splitlines()[
        1:
    ] == ["no differences: the two versions have the same files"]


def test_diff_of_a_version_without_its_files_says_what_is_missing(project: Project) -> None:
    hooks = project.bot_dir("posteingang-export") / "hooks.py"
    hooks.write_bytes(hooks.read_bytes() + b"\n")  # the working copy is no longer 1.1.0
    result = bots("catalog", "diff", "posteingang-export", "1.1.0", "1.0.0")
    assert result.exit_code == 2
    assert "the files of posteingang-export 1.1.0 are not here: its bundle" in result.stderr
    assert "Traceback" not in result.stderr
