"""The bot definition: pydantic models, YAML loader with positions, JSON Schema.

Imports nothing that runs a browser or touches a database; the only IO is reading bot files
(and importing a bot's hook modules to check them).
"""

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
