"""`bots connectors list|show`: what a bot author reads to find a step or an action, generated
from the installed connectors' models."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from cli import app


def _listed() -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(app, ["connectors", "list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["problems"] == []
    return {item["name"]: item for item in listed["connectors"]}


def test_the_browser_connector_lists_its_steps_with_documented_options() -> None:
    browser = _listed()["browser"]
    kinds = [step["kind"] for step in browser["steps"]]
    assert {"goto", "click", "fill", "extract", "wait_for", "download", "upload"} <= set(kinds)
    extract = next(step for step in browser["steps"] if step["kind"] == "extract")
    options = {option["name"]: option for option in extract["options"]}
    assert {"extract", "get", "into"} <= set(options)
    assert all(option["description"] for option in options.values())
    assert browser["session"] is True


def test_the_target_system_connectors_list_their_actions_with_arguments() -> None:
    listed = _listed()
    actions = {
        name: {action["use"]: action for action in listed[name]["actions"]}
        for name in ("civento", "gewerberegister")
    }
    assert {
        "civento.anmelden",
        "civento.posteingang_lesen",
        "civento.vorgang_lesen",
        "civento.status_setzen",
    } <= set(actions["civento"])
    assert {"gewerberegister.suchen", "gewerberegister.eintrag_anlegen"} <= set(
        actions["gewerberegister"]
    )
    lesen = actions["civento"]["civento.posteingang_lesen"]
    arguments = {argument["name"]: argument for argument in lesen["arguments"]}
    assert arguments["status"]["default"] == "Neu"
    assert lesen["description"] and lesen["returns"]
    for action in (*actions["civento"].values(), *actions["gewerberegister"].values()):
        assert action["description"], f"{action['use']} is not documented"
        assert all(argument["description"] for argument in action["arguments"]), action["use"]


def test_connectors_show_prints_one_connector_for_a_reader() -> None:
    result = CliRunner().invoke(app, ["connectors", "show", "civento"])
    assert result.exit_code == 0, result.output
    assert "civento.posteingang_lesen" in result.stdout
    assert "leistung" in result.stdout


def test_connectors_show_of_an_unknown_connector_names_the_known_ones() -> None:
    result = CliRunner().invoke(app, ["connectors", "show", "civento2"])
    assert result.exit_code != 0
    assert "civento" in result.output
    assert "Traceback" not in result.output
