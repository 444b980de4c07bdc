"""The bot definition: pydantic models, YAML loader with positions, JSON Schema.

Imports nothing that runs a browser or touches a database.
"""

from orchestrator.model.bot import BotDefinition, Owner, Parameter, SubFlow
from orchestrator.model.locators import Locator
from orchestrator.model.steps import STEP_KINDS, Step, StepBase, step_kind

__all__ = [
    "STEP_KINDS",
    "BotDefinition",
    "Locator",
    "Owner",
    "Parameter",
    "Step",
    "StepBase",
    "SubFlow",
    "step_kind",
]
