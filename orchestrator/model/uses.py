"""What a bot uses of the installed connectors, and the robot labels that follows from it.

A bot uses a connector when it writes one of its step kinds (``click``, ``notiz.click``), calls
one of its actions (``use: civento.vorgang_lesen``) or includes one of its flows (``include:
civento:login.yaml``); ``flow``, the bot language's own steps, does not count. A connector
declares the robot labels its session needs (:attr:`ConnectorSpec.labels
<orchestrator.model.registry.ConnectorSpec>`: the browser ``browser``, a desktop
``desktop``); a bot needs those of the connectors it uses and of the connectors they use
(``civento`` works on the browser's session)::

    used = connectors_used([doc.data for doc in docs], includes)   # ["civento", "queue"]
    needed_labels(used)                                             # ["browser"]

A label the bot declares in ``execution.labels`` beyond those is its own (a city's network,
``giessen``); declaring a connector's label that none of its connectors needs says the bot
runs where it does not (:func:`label_problems`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.errors import Problem
from orchestrator.model import registry
from orchestrator.model.validation import iter_flow_steps
from orchestrator.model.yaml_loader import YamlDocument

#: The connector of the bot language's own steps (if, for_each, include, ...).
LANGUAGE = "flow"


def connectors_used(flows: Iterable[Any], includes: Iterable[str] = ()) -> list[str]:
    """The connectors whose steps or actions the parsed flow files ``flows`` use, or whose
    flows ``includes`` (include references as written) name; sorted, ``flow`` left out."""
    installed = registry.installed()
    keys = installed.step_keys()
    used: set[str] = set()
    for ref in includes:
        connector, colon, _ = ref.partition(":")
        if colon and "/" not in connector:
            used.add(connector)
    for data in flows:
        for visit in iter_flow_steps(data):
            if visit.kind == "use" and isinstance(visit.get("use"), str):
                used.add(str(visit.get("use")).partition(".")[0])
            elif visit.key is not None:
                used.add(keys[visit.key].connector)
            else:  # several kind keys (an error reported elsewhere): each one's connector
                used.update(keys[key].connector for key in visit.step if key in keys)
    used.discard(LANGUAGE)
    return sorted(used)


def needed_labels(connectors: Iterable[str]) -> list[str]:
    """The robot labels the sessions of ``connectors`` need, and of the connectors they use."""
    specs = registry.installed().connectors
    labels: set[str] = set()
    seen: set[str] = set()
    todo = list(connectors)
    while todo:
        name = todo.pop()
        if name in seen or name not in specs:
            continue
        seen.add(name)
        labels.update(specs[name].labels)
        todo.extend(specs[name].uses)
    return sorted(labels)


def label_problems(doc: YamlDocument, declared: Any, needed: Iterable[str]) -> list[Problem]:
    """A declared robot label that is a connector's while no connector of the bot needs it:
    its runs would wait for a robot offering what they never use."""
    if not isinstance(declared, list):
        return []  # the schema check reports it
    owners: dict[str, list[str]] = {}
    for spec in registry.installed().connectors.values():
        for label in spec.labels:
            owners.setdefault(label, []).append(spec.name)
    wanted = set(needed)
    problems = []
    for index, label in enumerate(declared):
        if isinstance(label, str) and label in owners and label not in wanted:
            names = " or ".join(repr(n) for n in owners[label])
            problems.append(
                doc.problem(
                    ("execution", "labels", index),
                    f"execution.labels[{index}]: {label!r} is the robot label of the connector "
                    f"{names}, whose steps and actions this bot does not use: its runs would "
                    f"wait for a robot with {label!r} for nothing; remove it (the labels of "
                    "the connectors a bot uses are added by themselves)",
                )
            )
    return problems
