"""Fixtures for engine tests: settings, a store, the test site, and bots built from dicts."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.model import BotDefinition, SubFlow
from orchestrator.model.loader import LoadedBot
from orchestrator.settings import Settings, load_settings
from orchestrator.store import RunStore, open_store

HERE = Path(__file__).parent


def _load(name: str, path: Path) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_site = _load("engine_test_site", HERE.parent / "connectors" / "_site.py")


@pytest.fixture(scope="session")
def site() -> Iterator[Any]:
    """The test site (see tests/connectors/_site.py) on a free loopback port."""
    with _site.serve_site() as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, site: Any) -> Settings:
    """Settings with a private data dir, the test site as target ``site``, short timeouts."""
    return load_settings(
        data_dir=tmp_path / "data",
        targets={"site": site.base_url},
        step_timeout_s=5.0,
        trace="on_failure",
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[RunStore]:
    """A fresh SQLite run history in the data dir."""
    with open_store(settings.database) as opened:
        yield opened


MakeBot = Callable[..., Any]


@pytest.fixture
def make_bot(tmp_path: Path) -> MakeBot:
    """Build a LoadedBot from a dict: ``make_bot(steps=[...], hooks="def f(ctx): ...")``."""

    def make(
        steps: list[dict[str, Any]],
        *,
        hooks: str | None = None,
        subflows: dict[str, dict[str, Any]] | None = None,
        **fields: Any,
    ) -> Any:
        bot_dir = tmp_path / "bots" / fields.get("id", "test-bot")
        bot_dir.mkdir(parents=True, exist_ok=True)
        if hooks is not None:
            (bot_dir / "hooks.py").write_text(hooks, encoding="utf-8")
        data = {
            "id": "test-bot",
            "name": "Test bot",
            "version": "1.0.0",
            "owner": {"city": "Gießen", "fachamt": "Ordnungsamt"},
            "targets": ["site"],
            **fields,
            "steps": steps,
        }
        return LoadedBot(
            definition=BotDefinition.model_validate(data),
            directory=bot_dir,
            path=bot_dir / "bot.yaml",
            digest="0" * 64,
            subflows={
                name: SubFlow.model_validate(flow) for name, flow in (subflows or {}).items()
            },
        )

    return make
