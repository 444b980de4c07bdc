"""What a bot needs besides its files: connectors, Python packages, robot labels.

A bundle's manifest lists them (:mod:`orchestrator.catalog.bundle`), and ``bots catalog
install`` refuses a bundle whose needs this installation lacks::

    needs = bot_needs(loaded)     # Needs(connectors=['civento'], packages=[], robot_labels=[...])
    missing_needs(needs)          # ["connector 'akte' is not installed (bots connectors list)"]

**Connectors** are those whose step kinds, actions (``use: civento.anmelden``) or flows
(``include: civento:login.yaml``) the bot and its sub-flows use, and **robot labels** those it
declares and those its connectors need, both as the loader found them
(:mod:`orchestrator.model.uses`).

**Python packages**: the lines of a ``requirements.txt`` in the bot directory, when there is
one (it wins: write one when a hook needs a version or an extra); otherwise the distributions
of the modules the bot's ``*.py`` files import, leaving out the standard library, this
project's packages and the bot's own modules. Install checks that each is installed, not
its version.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.model import registry
from orchestrator.model.loader import LoadedBot, bot_files

#: This project's own top-level packages: hooks may import them, they are no requirement.
FIRST_PARTY = frozenset({"orchestrator", "connectors", "sandbox", "recorder"})
REQUIREMENTS_FILE = "requirements.txt"
_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
#: A connector's name; a requirement line (a name, then extras, versions, markers in
#: printable ASCII); a robot label. A manifest's needs are checked against these.
CONNECTOR_NAME = r"^[a-z][a-z0-9_-]*$"
REQUIREMENT = r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:[\[ <>=!~;@(][ -~]*)?$"
ROBOT_LABEL = r"^[^\x00-\x1f\x7f]+$"


class Needs(BaseModel):
    """What a bot needs to run, besides its files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connectors: list[Annotated[str, Field(pattern=CONNECTOR_NAME, max_length=100)]] = Field(
        default_factory=list, description="Connectors it uses."
    )
    packages: list[Annotated[str, Field(pattern=REQUIREMENT, max_length=200)]] = Field(
        default_factory=list, description="Python packages its hooks import (requirements)."
    )
    robot_labels: list[Annotated[str, Field(pattern=ROBOT_LABEL, max_length=100)]] = Field(
        default_factory=list, description="Labels a robot must offer (execution.labels)."
    )


def bot_needs(bot: LoadedBot) -> Needs:
    """The connectors, packages and robot labels ``bot`` needs (see the module docstring)."""
    return Needs(
        connectors=list(bot.connectors),
        packages=packages_used(bot.directory),
        robot_labels=list(bot.labels),
    )


def packages_used(directory: Path) -> list[str]:
    """The Python packages the bot at ``directory`` needs (see the module docstring)."""
    requirements = Path(directory) / REQUIREMENTS_FILE
    if requirements.is_file():
        lines = requirements.read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    files = bot_files(directory)
    own = {Path(name).parts[0].removesuffix(".py") for name in files}
    modules: set[str] = set()
    for name, file in files.items():
        if name.endswith(".py"):
            modules |= _imported(file)
    foreign = {
        module
        for module in modules
        if module not in sys.stdlib_module_names and module not in FIRST_PARTY | own
    }
    distributions = importlib.metadata.packages_distributions()
    return sorted({(distributions.get(module) or [module])[0] for module in foreign})


def missing_needs(needs: Needs) -> list[str]:
    """What of ``needs`` this installation lacks, one sentence each (robot labels are the
    robots' business: a run waits for a robot offering them)."""
    installed = registry.installed().connectors
    missing = [
        f"connector {name!r} is not installed (`bots connectors list` shows those that are)"
        for name in needs.connectors
        if name not in installed
    ]
    for requirement in needs.packages:
        match = _PACKAGE_NAME.match(requirement)
        name = match.group(0) if match else requirement
        if not _installed(name):
            missing.append(
                f"Python package {name!r} is not installed (pip install {requirement!r})"
            )
    return missing


def _imported(file: Path) -> set[str]:
    """Top-level modules a Python file imports (absolute imports only)."""
    try:
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except (SyntaxError, ValueError):
        return set()  # the bot's validation reports it
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    modules.discard("__future__")
    return modules


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        module = name.replace("-", "_")
        # find_spec("a.b") imports ``a``, running its code: only top-level names are looked up.
        return "." not in module and importlib.util.find_spec(module) is not None
