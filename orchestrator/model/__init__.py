"""The bot definition: pydantic models, YAML loader with positions, JSON Schema.

Imports nothing that runs a browser or touches a database; the only IO is reading bot files
(and importing a bot's hook modules to check them). Its names are imported when first asked
for (``from orchestrator.model import LoadedBot``), so that a module using one part (a run
request's parameters) does not load the YAML loader and the templates.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.model.bot import BotDefinition, Owner, Parameter, SubFlow
    from orchestrator.model.hooks import HookNotFound, resolve_hook, signature_problems
    from orchestrator.model.loader import (
        LoadedBot,
        bot_digest,
        find_bots,
        load_bot,
        resolve_bot,
        validate_paths,
    )
    from orchestrator.model.locators import Locator
    from orchestrator.model.schema import bot_json_schema, subflow_json_schema
    from orchestrator.model.steps import Step, StepBase, step_kind, step_kinds
    from orchestrator.model.yaml_loader import YamlDocument, parse_yaml, read_yaml

__all__ = [
    "BotDefinition",
    "HookNotFound",
    "LoadedBot",
    "Locator",
    "Owner",
    "Parameter",
    "Step",
    "StepBase",
    "SubFlow",
    "YamlDocument",
    "bot_digest",
    "bot_json_schema",
    "find_bots",
    "load_bot",
    "parse_yaml",
    "read_yaml",
    "resolve_bot",
    "resolve_hook",
    "signature_problems",
    "step_kind",
    "step_kinds",
    "subflow_json_schema",
    "validate_paths",
]

#: The module of each name of ``__all__``.
_HOMES = {
    "BotDefinition": "bot",
    "Owner": "bot",
    "Parameter": "bot",
    "SubFlow": "bot",
    "HookNotFound": "hooks",
    "resolve_hook": "hooks",
    "signature_problems": "hooks",
    "LoadedBot": "loader",
    "bot_digest": "loader",
    "find_bots": "loader",
    "load_bot": "loader",
    "resolve_bot": "loader",
    "validate_paths": "loader",
    "Locator": "locators",
    "bot_json_schema": "schema",
    "subflow_json_schema": "schema",
    "Step": "steps",
    "StepBase": "steps",
    "step_kind": "steps",
    "step_kinds": "steps",
    "YamlDocument": "yaml_loader",
    "parse_yaml": "yaml_loader",
    "read_yaml": "yaml_loader",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
