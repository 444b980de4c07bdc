"""City overlays: the skeleton `install` writes, `bots validate --catalog` pointing at each
problem, and what a run of the city takes from its overlay (targets, parameters, secret and
queue names, schedules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _bundles import bots
from _catalog_project import Project

from orchestrator.catalog.city import schedules_for, with_city_parameters
from orchestrator.engine.plan import plan_run
from orchestrator.engine.secrets import MappingSecretProvider
from orchestrator.engine.work_queue import RunQueues
from orchestrator.errors import ConfigError
from orchestrator.model.loader import resolve_bot
from orchestrator.settings import load_settings
from orchestrator.store import open_store

GEWERBE = "gewerbe-uebertragung"
OVERLAY = "overlays/marburg/gewerbe-uebertragung.yaml"


def write_overlay(project: Project, text: str, city: str = "marburg") -> None:
    path = project.root / "overlays" / city / f"{GEWERBE}.yaml"
    path.write_text(text, encoding="utf-8")


def test_install_writes_a_skeleton_saying_in_german_what_to_fill_in(project: Project) -> None:
    result = bots("catalog", "install", "posteingang-export", "--tenant", "kassel")

    assert result.exit_code == 0, result.output
    overlay = project.root / "overlays" / "kassel" / "posteingang-export.yaml"
    text = overlay.read_text(encoding="utf-8")
    assert text.splitlines()[:1] == [
        "# Einstellungen von kassel für den Katalog-Bot posteingang-export: nur, was hier anders "
        "ist."
    ]
    assert (
        "  # Adresse von civento eintragen, z. B. https://civento.stadt.de\n"
        "  # (oder die Zeile löschen: dann gilt targets.civento der Einstellungen)\n"
        "  civento:\n"
    ) in text
    assert "Passwort des Civento-Kontos rpa-gewerbe: Name des Geheimnisses" in text
    assert "mit Vorgabe, hier änderbar: status (Neu), leistung (Alle)" in text
    assert "(added: targets.civento, secrets.civento_password)" in result.output
    assert "to fill in before the city's runs start" in result.output
    catalog = project.catalog.read_text(encoding="utf-8")
    assert "      kassel: {version: 1.1.0, overlay: overlays/kassel/posteingang-export.yaml}" in (
        catalog
    )
    assert catalog.startswith("# The bots the cities share (a comment that promotion keeps).")

    checked = bots("validate", "--catalog")
    assert checked.exit_code == 2
    lines = [line for line in checked.output.splitlines() if "kassel" in line]
    assert lines == [
        "overlays/kassel/posteingang-export.yaml:12:3: targets.civento: empty: write the address "
        "of civento in this city, or delete the line to use the settings' targets.civento",
        "overlays/kassel/posteingang-export.yaml:17:3: secrets.civento_password: empty: write "
        "the name of this city's secret, or delete the line to use the bot's own name "
        "civento_password",
    ]
    assert text.splitlines()[11] == "  civento:" and text.splitlines()[16] == "  civento_password:"


def test_validate_points_at_every_problem_of_an_overlay(project: Project) -> None:
    write_overlay(
        project,
        "bot: gewerbe-uebertragung\n"
        "version: 1.2.0\n"
        "fachamt: Ordnungsamt\n"
        "targets:\n"
        "  civento: civento.marburg.de\n"
        "  civnto: https://civento.marburg.de\n"
        "secrets: {civento_password: MR-CIVENTO, passwort: X}\n"
        "parameters:\n"
        "  max_cases: viele\n"
        "  paralel: 2\n"
        "queues: {gewerbeanmeldung: gewerbe-mr}\n"
        "zeitplan: {}\n",
    )

    result = bots("validate", "--catalog")

    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.startswith(OVERLAY)] == [
        f"{OVERLAY}:12:1: unknown key 'zeitplan' in overlay",
    ]
    write_overlay(project, (project.root / OVERLAY).read_text().replace("zeitplan: {}\n", ""))
    result = bots("validate", "--catalog")
    assert [line for line in result.output.splitlines() if line.startswith(OVERLAY)] == [
        f"{OVERLAY}:5:12: targets.civento: 'civento.marburg.de' is no http(s) address",
        f"{OVERLAY}:6:3: unknown target 'civnto' (the bot uses: civento, gewerberegister) "
        "(did you mean 'civento'?)",
        f"{OVERLAY}:7:29: secrets.civento_password: 'MR-CIVENTO' is no secret name "
        "(letters, digits, _)",
        f"{OVERLAY}:7:41: unknown secret 'passwort' (the bot uses: civento_password, "
        "gewerberegister_password)",
        f"{OVERLAY}:9:14: parameters.max_cases: parameter 'max_cases' must be of type integer, "
        "got 'viele'",
        f"{OVERLAY}:10:3: unknown parameter 'paralel' (the bot declares: max_cases, parallel) "
        "(did you mean 'parallel'?)",
        f"{OVERLAY}:11:10: unknown queue 'gewerbeanmeldung' (the bot uses: gewerbeanmeldungen) "
        "(did you mean 'gewerbeanmeldungen'?)",
    ]


def test_a_run_of_the_city_takes_targets_parameters_secrets_and_queues_from_its_overlay(
    project: Project,
) -> None:
    write_overlay(
        project,
        "bot: gewerbe-uebertragung\nversion: 1.2.0\nfachamt: Ordnungsamt\n"
        "targets: {civento: 'https://civento.marburg.example/'}\n"
        "secrets: {civento_password: MR_CIVENTO}\n"
        "parameters: {max_cases: 30, parallel: 2}\n"
        "queues: {gewerbeanmeldungen: gewerbe-mr}\n",
    )
    marburg = load_settings(tenant="marburg")
    bot = resolve_bot(GEWERBE, marburg.bot_dirs)
    secrets = MappingSecretProvider({"MR_CIVENTO": "mr-geheim", "gewerberegister_password": "g"})

    plan = plan_run(bot, settings=marburg, params={"parallel": "3"}, secrets=secrets)

    assert plan.params == {"max_cases": 30, "parallel": 3}  # a value given to the run wins
    assert plan.targets == {
        "civento": "https://civento.marburg.example",
        "gewerberegister": marburg.targets_for("marburg")["gewerberegister"],
    }
    assert plan.secret_values == {"civento_password": "mr-geheim", "gewerberegister_password": "g"}
    assert plan.queue_names == {"gewerbeanmeldungen": "gewerbe-mr"}

    kassel = load_settings(tenant="kassel")  # no installation: the bot as it is
    plain = plan_run(
        bot,
        settings=kassel,
        secrets=MappingSecretProvider({"civento_password": "k", "gewerberegister_password": "g"}),
    )
    assert plain.params == {"max_cases": 50, "parallel": 1}
    assert plain.queue_names == {}


def test_the_city_s_queue_name_is_used_where_the_engine_names_a_queue(project: Project) -> None:
    settings = load_settings(tenant="marburg")
    with open_store(settings.database) as store:
        queues = RunQueues(
            store,
            tenant="marburg",
            holder="test",
            run_id=1,
            lease_s=30,
            run_dir=project.root,
            keep=lambda *args, **kwargs: None,
            actor="bot:test",
            names={"gewerbeanmeldungen": "gewerbe-mr"},
        )
        queues.add("gewerbeanmeldungen", "GA-1", {"nummer": "GA-1"})
        taken = queues.take("gewerbeanmeldungen")
        queues.close()
        assert taken is not None and taken.queue == "gewerbe-mr"
        assert [q.name for q in store.queues.list_queues("marburg")] == ["gewerbe-mr"]


def test_an_overlay_with_problems_stops_the_city_s_runs_before_they_start(
    project: Project,
) -> None:
    write_overlay(project, "bot: gewerbe-uebertragung\nversion: 1.2.0\ntargets:\n  civento:\n")
    marburg = load_settings(tenant="marburg")
    bot = resolve_bot(GEWERBE, marburg.bot_dirs)

    with pytest.raises(ConfigError) as refused:
        plan_run(bot, settings=marburg, secrets=MappingSecretProvider({}))

    assert "the overlay of tenant 'marburg' for gewerbe-uebertragung has problems" in str(
        refused.value
    )
    assert f"{OVERLAY}:4:" in str(refused.value) and "targets.civento: empty" in str(refused.value)
    (project.root / OVERLAY).unlink()
    with pytest.raises(ConfigError, match="cannot read file"):
        plan_run(bot, settings=marburg, secrets=MappingSecretProvider({}))


def test_the_overlay_s_schedules_join_the_city_s(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_overlay(
        project,
        "bot: gewerbe-uebertragung\nversion: 1.2.0\n"
        "parameters: {max_cases: 30}\n"
        "schedules:\n  nachts: {cron: '0 2 * * 1-5', skip_holidays: true}\n",
    )
    config = tmp_path / "bots.yaml"
    config.write_text(
        "tenants:\n  marburg:\n    schedules:\n"
        "      morgens: {bot: posteingang-export, cron: '0 7 * * *'}\n",
        encoding="utf-8",
    )

    monkeypatch.setenv("BOTS_CONFIG", str(config))

    schedules = schedules_for(load_settings(), "marburg")

    assert sorted(schedules) == ["gewerbe-uebertragung.nachts", "morgens"]
    nachts = schedules["gewerbe-uebertragung.nachts"]
    assert (nachts.bot, nachts.cron, nachts.skip_holidays) == (GEWERBE, "0 2 * * 1-5", True)
    assert nachts.parameters == {}  # the overlay's values come with each firing:
    marburg = load_settings(tenant="marburg")
    bot = resolve_bot(GEWERBE, marburg.bot_dirs)
    assert with_city_parameters(bot, marburg, "marburg", nachts.parameters) == {"max_cases": 30}
    listed = bots("schedule", "list", "--tenant", "marburg", "--json")
    assert listed.exit_code == 0, listed.output
    assert {s["name"]: s["bot"] for s in json.loads(listed.stdout)} == {
        "gewerbe-uebertragung.nachts": GEWERBE,
        "morgens": "posteingang-export",
    }
