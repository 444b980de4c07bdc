"""The engine meets target systems only through the connector interface and names none.

A desktop, mail or e-Akte connector is then an addition in its own package: nothing in
``orchestrator/engine/`` has to learn its name, as nothing there knows the browser's.
"""

from __future__ import annotations

import ast
from pathlib import Path

from orchestrator.model.registry import installed

ENGINE = Path(__file__).resolve().parents[2] / "orchestrator" / "engine"
#: The third-party fixture's connector (tests/fixtures/notiz_connector), not installed here.
THIRD_PARTY = ("notiz",)
#: Connector names that are also words of the engine's own vocabulary (its flow of steps,
#: its work queues): for these, no string in the code may be the name.
ALSO_ENGINE_WORDS = frozenset({"flow", "queue"})
#: What may be imported from the connectors package: the interface, and the run's display.
ALLOWED_IMPORTS = frozenset({"connectors.base", "connectors.display"})


def _sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(ENGINE.rglob("*.py"))}


def _names() -> list[str]:
    return sorted({*installed().connectors, *THIRD_PARTY})


def test_the_engine_imports_no_connector_but_the_interface() -> None:
    imported = []
    for path, text in _sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            imported += [
                f"{path.name}: {module}"
                for module in modules
                if module.split(".")[0] == "connectors" and module not in ALLOWED_IMPORTS
            ]
    assert imported == []


def test_the_engine_names_no_connector_in_code_or_docs() -> None:
    assert {"browser", "civento", "gewerberegister"} <= set(_names())  # the check checks
    found = []
    for path, text in _sources().items():
        for name in _names():
            if name in ALSO_ENGINE_WORDS:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if name in line.lower():
                    found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []


def test_no_string_in_the_engine_is_a_connector_name() -> None:
    found = []
    for path, text in _sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value.strip().lower()
                if value in _names() or any(value.startswith(f"{n}.") for n in _names()):
                    found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == []
