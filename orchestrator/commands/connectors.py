"""`bots connectors`: the installed connectors, their steps and actions."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from orchestrator import errors
from orchestrator.commands.shared import echo

app = typer.Typer(
    name="connectors",
    # The group's name is spelt out: importing the registry (the whole model) costs `--help`.
    help="Installed connectors: their step kinds and actions (entry point group "
    "kommune_bots.connectors).",
    no_args_is_help=True,
)


@app.command("list")
def connectors_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the installed connectors with their step kinds and actions."""
    from orchestrator.model import registry
    from orchestrator.model.describe import describe

    installed = registry.installed()
    described = [
        describe(spec, installed.origins.get(name, ""))
        for name, spec in sorted(installed.connectors.items())
    ]
    if as_json:
        echo(json.dumps({"connectors": described, "problems": installed.problems}, indent=2,
                        ensure_ascii=False))  # fmt: skip
        return
    for item in described:
        echo(f"{item['name']}: {item['description']}")
        if item["steps"]:
            echo("  steps:   " + ", ".join(step["kind"] for step in item["steps"]))
        if item["actions"]:
            echo("  actions: " + ", ".join(action["use"] for action in item["actions"]))
        if item["labels"]:
            echo("  robots need the labels: " + ", ".join(item["labels"]))
    for problem in installed.problems:
        echo(f"warning: {problem}", err=True)


@app.command("show")
def connectors_show(
    name: Annotated[str, typer.Argument(help="The connector, e.g. civento.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one connector: each step kind and action with its parameters and documentation."""
    from orchestrator.model import registry
    from orchestrator.model.describe import describe

    installed = registry.installed()
    spec = installed.connectors.get(name)
    if spec is None:
        known = ", ".join(sorted(installed.connectors)) or "none"
        raise errors.InputError(f"no connector {name!r} is installed (installed: {known})")
    item = describe(spec, installed.origins.get(name, ""))
    if as_json:
        echo(json.dumps(item, indent=2, ensure_ascii=False))
        return
    echo(f"{item['name']}  ({item['origin']})")
    echo(f"  {item['description']}")
    if item["uses"]:
        echo(f"  works on the session of: {', '.join(item['uses'])}")
    if item["labels"]:
        echo(f"  a robot running its steps needs the labels: {', '.join(item['labels'])}")
    if item["settings"]:
        echo(f"\nsettings (connectors: {{{name}: ...}} in the settings file):")
        _fields(item["settings"])
    for step in item["steps"]:
        also = f" (also {step['qualified']})" if step["qualified"] != step["kind"] else ""
        echo(f"\nstep {step['kind']}{also}: {step['description']}")
        _fields(step["options"])
    for action in item["actions"]:
        echo(f"\nuse: {action['use']}\n  {action['description']}")
        _fields(action["arguments"], heading="with")
        echo(f"  returns: {action['returns']}")
    for kind in item["types"]:
        echo(f"\n{kind['name']}: {kind['description']}")
        _fields(kind["fields"])


def _fields(fields: list[dict[str, Any]], heading: str = "") -> None:
    if heading and fields:
        echo(f"  {heading}:")
    for field in fields:
        flags = [
            field["type"],
            "required" if field["required"] else f"default {field['default']!r}",
        ]
        if field["secret"]:
            flags.append("may be a secret")
        echo(f"    {field['name']} ({', '.join(flags)}): {field['description']}")
