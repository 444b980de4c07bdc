"""The contract every registered connector passes, built-in or third-party.

Parametrised over :func:`orchestrator.model.registry.installed`, so a connector installed in
the environment is checked as well (``tests/connectors/test_third_party.py`` runs this file with
a fixture package on the path, ``-k notiz``). Test ids name the connector first
(``[civento.anmelden]``, ``[browser:click]``), so ``-k NAME`` picks one connector. Contracts:

- **spec**: a lowercase name and a description; every step model has a ``KIND``, a docstring
  and a description on every field; every action a strict arguments model with described
  fields; ``secret_fields``, ``creates`` and ``secret_arguments`` name real fields;
- **schema**: every step kind is in ``bots schema``'s JSON Schema;
- **validation**: an unknown option of every step kind, and an unknown argument of every
  action, is reported as ``bot.yaml:LINE:COL:`` at that key;
- **lifecycle**: a session is built from :class:`SessionEnv`, opened, closed twice; its
  ``capture_evidence`` never raises and returns only existing files in the directory it got;
- **secrets**: an action with secret arguments that cannot reach its target puts the secret
  neither in its error nor in what it logs.

Sessions working on the browser are marked ``browser`` (they start Chromium); those needing a
display (``needs_display``) are marked ``desktop`` and get one virtual display (Xvfb + openbox).
"""

from __future__ import annotations

import functools
import json
import socket
import tempfile
import threading
import time
import types
import typing
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from connectors.base import ActionContext, Connector
from connectors.display import virtual_display
from orchestrator.engine.actions import call_action
from orchestrator.engine.secrets import Redactor
from orchestrator.engine.work_queue import RunQueues
from orchestrator.model import bot_json_schema, validate_paths
from orchestrator.model.locators import Locator
from orchestrator.model.registry import Action, ConnectorSpec, SessionEnv, StepKind, installed
from orchestrator.model.steps import Step, StepBase
from orchestrator.settings import load_settings
from orchestrator.store import RunStore, open_store

CONNECTORS = installed().connectors
SESSION_KINDS = ("screenshot", "html", "url", "log", "trace", "window", "tree")
UNKNOWN = "zz_unbekannt"
HEADER = "id: kontrakt\nname: Kontrakt\nversion: 1.0.0\nowner: {city: Gießen, fachamt: IT}\n"


def _needs_browser(spec: ConnectorSpec) -> bool:
    return spec.name == "browser" or "browser" in spec.uses


def _marks(spec: ConnectorSpec) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.browser] if _needs_browser(spec) else []
    return marks + ([pytest.mark.desktop] if spec.needs_display else [])


_DISPLAYS = ExitStack()


@functools.cache
def _display() -> str:
    """One virtual display (Xvfb + openbox) for the sessions that need one, started once."""
    return _DISPLAYS.enter_context(virtual_display())


@pytest.fixture(scope="module", autouse=True)
def _stop_the_display() -> Iterator[None]:
    yield
    _DISPLAYS.close()
    _display.cache_clear()


def _specs() -> list[Any]:
    return [pytest.param(spec, id=name) for name, spec in sorted(CONNECTORS.items())]


def _step_kinds() -> list[Any]:
    return [
        pytest.param(spec, step, id=f"{spec.name}:{step.kind}")
        for _, spec in sorted(CONNECTORS.items())
        for step in spec.steps
    ]


def _actions(*, secret: bool = False) -> list[Any]:
    """Every action; with ``secret``, those taking secrets (marked as their sessions need)."""
    return [
        pytest.param(
            spec, action, id=f"{spec.name}.{action.name}", marks=_marks(spec) if secret else []
        )
        for _, spec in sorted(CONNECTORS.items())
        for action in spec.actions
        if action.secret_arguments or not secret
    ]


def _with_sessions() -> list[Any]:
    return [
        pytest.param(spec, id=name, marks=_marks(spec))
        for name, spec in sorted(CONNECTORS.items())
        if spec.session is not None
    ]


def _keys(model: type[BaseModel]) -> set[str]:
    """The keys a bot may write for ``model``: field names and their aliases."""
    return {key for name, info in model.model_fields.items() for key in (name, info.alias) if key}


# --------------------------------------------------------------------------- (a) the spec


def test_the_registry_loaded_every_connector_without_problems() -> None:
    assert installed().problems == []
    assert {"flow", "browser", "civento", "gewerberegister"} <= set(CONNECTORS)


@pytest.mark.parametrize("spec", _specs())
def test_spec_has_a_lowercase_name_and_a_description(spec: ConnectorSpec) -> None:
    assert spec.name.isidentifier() and spec.name == spec.name.lower(), spec.name
    assert spec.name[0] != "_"
    assert spec.description.strip()
    assert set(spec.uses) <= {name for name, s in CONNECTORS.items() if s.session is not None}
    if spec.flows is not None:
        assert spec.flows.is_dir(), f"{spec.name}: flows folder {spec.flows} does not exist"


@pytest.mark.parametrize("spec", _specs())
def test_settings_model_is_documented(spec: ConnectorSpec) -> None:
    if spec.settings is None:
        return  # it needs none
    assert issubclass(spec.settings, BaseModel)
    undocumented = [n for n, info in spec.settings.model_fields.items() if not info.description]
    assert undocumented == [], f"{spec.name} settings: fields without a description"


@pytest.mark.parametrize(("spec", "step"), _step_kinds())
def test_step_model_is_documented(spec: ConnectorSpec, step: StepKind) -> None:
    model = step.model
    assert issubclass(model, StepBase)
    assert model.KIND and model.KIND.isidentifier() and model.KIND == model.KIND.lower()
    assert model.__doc__ and model.__doc__ != StepBase.__doc__, f"{model.__name__}: no docstring"
    kind_field = next(
        (info for name, info in model.model_fields.items() if model.KIND in (name, info.alias)),
        None,
    )
    assert kind_field is not None, f"{model.__name__} has no field for its kind key {model.KIND!r}"
    assert kind_field.is_required(), f"the kind key {model.KIND!r} must be required"
    undocumented = [n for n, info in model.model_fields.items() if not info.description]
    assert undocumented == [], f"{model.__name__}: fields without a description"
    assert model.model_config.get("extra") == "forbid"
    assert set(step.secret_fields) <= _keys(model), f"secret_fields {step.secret_fields}"
    assert set(step.creates) <= _keys(model), f"creates {step.creates}"
    assert callable(step.run)


@pytest.mark.parametrize(("spec", "action"), _actions())
def test_action_is_documented_and_strict(spec: ConnectorSpec, action: Action) -> None:
    assert action.name.isidentifier() and action.name == action.name.lower(), action.name
    assert action.description.strip()
    assert action.returns.strip()
    assert callable(action.run)
    assert issubclass(action.arguments, BaseModel)
    # A typo in `with:` must be an error, not an argument silently dropped.
    assert action.arguments.model_config.get("extra") == "forbid"
    fields = action.arguments.model_fields
    undocumented = [name for name, info in fields.items() if not info.description]
    assert undocumented == [], f"{spec.name}.{action.name}: arguments without a description"
    assert set(action.secret_arguments) <= set(fields), f"{action.secret_arguments}"


# --------------------------------------------------------------------------- (b) the schema


def _written(step: StepKind) -> list[str]:
    """The kind keys a bot may write for ``step``: its qualified one, and the bare one where
    its connector owns it."""
    return [step.qualified, *([step.kind] if step.name == step.kind else [])]


@pytest.mark.parametrize(("spec", "step"), _step_kinds())
def test_every_step_kind_is_in_the_bot_schema(spec: ConnectorSpec, step: StepKind) -> None:
    schema = bot_json_schema()
    choices = schema["properties"]["steps"]["items"]["oneOf"]
    definitions = [schema["$defs"][ref["$ref"].rpartition("/")[2]] for ref in choices]
    assert step.name in (step.kind, step.qualified)
    for key in _written(step):
        found = [d for d in definitions if key in d.get("required", ())]
        assert len(found) == 1, f"step kind key {key!r} is not (once) in the bot schema"
        assert found[0]["properties"][key].get("description")
        assert found[0]["description"].startswith(str(step.model.__doc__).strip().split("\n")[0])
        assert found[0].get("additionalProperties") is False


@pytest.mark.parametrize("spec", _specs())
def test_its_robot_labels_are_plain_words(spec: ConnectorSpec) -> None:
    for label in spec.labels:
        assert label and label == label.strip() and "," not in label, repr(label)


# --------------------------------------------------------------------------- (c) validation


def _example(annotation: Any) -> Any:
    """A plausible YAML value for a field of this type (valid for most; not guaranteed)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return {"set": {"a": "x"}} if annotation == Step else _example(args[0])
    if origin in (typing.Union, types.UnionType):
        return _example(next(a for a in args if a is not type(None)))
    if origin is Literal:
        return args[0]
    if origin in (list, tuple, set, frozenset):
        return [_example(args[0] if args else str)]
    if origin is dict or annotation is dict:
        return {"a": _example(args[1] if args else str)}
    if annotation is bool:
        return True
    if annotation in (int, float):
        return 1
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    if annotation is Locator:
        return {"css": "#x"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _required(annotation)
    return "x"


def _required(model: type[BaseModel]) -> dict[str, Any]:
    """Example values of the required fields of ``model``, by the key a bot writes."""
    return {
        info.alias or name: _example(info.annotation)
        for name, info in model.model_fields.items()
        if info.is_required()
    }


def _bot(directory: Path, steps: list[str]) -> Path:
    """``directory/bot.yaml`` with ``steps`` (YAML lines, each indented by two)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bot.yaml"
    path.write_text(HEADER + "steps:\n" + "".join(f"  {line}\n" for line in steps), "utf-8")
    return path


def _problems(directory: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(directory)
    return [str(problem) for problem in validate_paths([Path("bot.yaml")])]


@pytest.mark.parametrize(("spec", "step"), _step_kinds())
def test_an_unknown_option_is_reported_at_its_key(
    spec: ConnectorSpec, step: StepKind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in _written(step):
        values = _required(step.model)
        first = f"- {key}: {json.dumps(values.pop(step.kind), ensure_ascii=False)}"
        others = [f"  {k}: {json.dumps(value, ensure_ascii=False)}" for k, value in values.items()]
        _bot(tmp_path / key, [first, *others, f"  {UNKNOWN}: 1"])
        line = 7 + len(others)  # 4 header lines, `steps:`, the kind key, the other options
        expected = f"bot.yaml:{line}:5: unknown key {UNKNOWN!r} in {step.name} step"
        problems = _problems(tmp_path / key, monkeypatch)
        assert expected in problems, "\n".join(problems)


@pytest.mark.parametrize(("spec", "action"), _actions())
def test_an_unknown_action_argument_is_reported_at_its_key(
    spec: ConnectorSpec, action: Action, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments = {**_required(action.arguments), UNKNOWN: "x"}
    lines = [
        f"    {key}: {json.dumps(value, ensure_ascii=False)}" for key, value in arguments.items()
    ]
    _bot(tmp_path, [f"- use: {spec.name}.{action.name}", "  with:", *lines])
    line = 7 + len(arguments)  # 4 header lines, `steps:`, `use:`, `with:`, the arguments
    ref = f"{spec.name}.{action.name}"
    expected = f"bot.yaml:{line}:7: {ref} has no argument {UNKNOWN!r}"
    problems = _problems(tmp_path, monkeypatch)
    assert any(problem.startswith(expected) for problem in problems), "\n".join(problems)
    assert not any(f"{ref} needs the argument" in p for p in problems), "\n".join(problems)


# --------------------------------------------------------------------------- (d) lifecycle


def _settings(spec: ConnectorSpec) -> BaseModel | None:
    """The connector's settings model with its defaults (None when it has none); a Chromium
    path comes from the project's settings, as the runner passes it."""
    if spec.settings is None:
        return None
    overrides: dict[str, Any] = {}
    if "chromium" in spec.settings.model_fields:
        overrides["chromium"] = str(load_settings().chromium)
    return spec.settings(**overrides)


@functools.cache
def _store() -> RunStore:
    """A run history of its own for the suite (SQLite in a temporary folder)."""
    return open_store(f"sqlite:///{tempfile.mkdtemp(prefix='contract-')}/runs.db")


def _work_queues(run_dir: Path) -> RunQueues:
    """The run's access to the work queues, as the engine hands it to every factory."""
    return RunQueues(
        _store(),
        tenant="contract",
        holder="contract-test",
        run_id=0,
        lease_s=30,
        run_dir=run_dir,
        keep=lambda *args, **kwargs: None,
        actor="bot:contract",
    )


def _env(spec: ConnectorSpec, run_dir: Path) -> SessionEnv:
    return SessionEnv(
        settings=_settings(spec),
        run_dir=run_dir,
        headless=True,
        timeout_s=5,
        display=_display() if spec.needs_display else None,
        work_queues=_work_queues(run_dir),
    )


def _session(spec: ConnectorSpec, run_dir: Path) -> Connector:
    assert spec.session is not None
    session = spec.session(_env(spec, run_dir))
    assert isinstance(session, Connector), f"{spec.name}: the factory built {session!r}"
    return session


def _assert_evidence(session: Connector, directory: Path, stem: str) -> None:
    """``capture_evidence`` does not raise and returns existing files inside ``directory``."""
    evidence = session.capture_evidence(directory, stem)
    assert isinstance(evidence, dict)
    for kind, path in evidence.items():
        assert kind in SESSION_KINDS, f"unknown evidence kind {kind!r}"
        assert Path(path).is_file(), f"{kind}: {path} does not exist"
        assert Path(path).resolve().parent == directory.resolve(), f"{path} not in {directory}"
        assert Path(path).name.startswith(stem), f"{path} is not named {stem}*"


@pytest.mark.parametrize("spec", _with_sessions())
def test_session_builds_without_settings(spec: ConnectorSpec, tmp_path: Path) -> None:
    assert spec.session is not None
    env = SessionEnv(None, tmp_path, headless=True, timeout_s=5, work_queues=_work_queues(tmp_path))
    session = spec.session(env)
    assert isinstance(session, Connector)
    session.close()  # never opened: closing is still fine


@pytest.mark.parametrize("spec", _with_sessions())
def test_session_opens_closes_twice_and_captures_evidence(
    spec: ConnectorSpec, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    session = _session(spec, run_dir)
    _assert_evidence(session, run_dir, "before-open")
    session.open()
    try:
        _assert_evidence(session, run_dir, f"failure-{spec.name}")
        evidence = tmp_path / "evidence"
        evidence.mkdir()
        _assert_evidence(session, evidence, "failure")
        _assert_evidence(session, tmp_path / "missing", "failure")
    finally:
        session.close()
    session.close()
    _assert_evidence(session, run_dir, "after-close")


@pytest.mark.parametrize("spec", _with_sessions())
def test_session_is_a_context_manager(spec: ConnectorSpec, tmp_path: Path) -> None:
    with _session(spec, tmp_path) as session:
        assert isinstance(session, Connector)
    session.close()


def _assert_learnt(session: Connector) -> None:
    learnt = session.secrets_learnt()
    assert isinstance(learnt, set) and all(isinstance(value, str) for value in learnt)


@pytest.mark.parametrize("spec", _with_sessions())
def test_session_says_what_it_learnt_at_any_time(spec: ConnectorSpec, tmp_path: Path) -> None:
    session = _session(spec, tmp_path)
    _assert_learnt(session)  # before open
    with session:
        _assert_learnt(session)
    _assert_learnt(session)  # after close


@pytest.mark.parametrize("spec", _with_sessions())
def test_session_leaves_its_files_in_scratch_only(spec: ConnectorSpec, tmp_path: Path) -> None:
    run_dir, scratch = tmp_path / "run", tmp_path / "scratch"
    run_dir.mkdir()
    scratch.mkdir()
    with _session(spec, run_dir) as session:
        left = session.finish(scratch, failed=True)
    assert isinstance(left, dict)
    for kind, path in left.items():
        assert kind in SESSION_KINDS, f"unknown kind {kind!r}"
        assert Path(path).is_file() and Path(path).resolve().parent == scratch.resolve(), path


@pytest.mark.parametrize("spec", _with_sessions())
def test_session_forks_for_a_parallel_worker(spec: ConnectorSpec, tmp_path: Path) -> None:
    """A fork is None (no parallel work), the session itself (shared by the workers), or a
    session of its own that opens, captures and closes in the worker's thread while the
    run's stays open."""
    with _session(spec, tmp_path) as session:
        fork = session.fork()
        if fork is None or fork is session:
            return
        assert isinstance(fork, Connector) and type(fork) is type(session)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                with fork:
                    _assert_evidence(fork, tmp_path, "worker-1-failure")
                    _assert_learnt(fork)
                fork.close()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive() and errors == []
        _assert_evidence(session, tmp_path, "after-fork")


# --------------------------------------------------------------------------- (e) secrets


class _RecordingLog:
    """A structlog-like logger keeping every call: ``log.warning("event", key=value)``."""

    def __init__(self) -> None:
        self.records: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def bind(self, **values: Any) -> _RecordingLog:
        self.records.append(("bind", (), values))
        return self

    def __getattr__(self, level: str) -> Any:
        def record(*args: Any, **values: Any) -> None:
            self.records.append((level, args, values))

        return record


class _Sessions:
    """The run's sessions as the engine offers them: each built and opened on first use."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.open: dict[str, Connector] = {}

    def get(self, name: str) -> Connector:
        if name not in self.open:
            session = _session(CONNECTORS[name], self.run_dir)
            session.open()
            self.open[name] = session
        return self.open[name]

    def close(self) -> None:
        for session in reversed(self.open.values()):
            session.close()


class _Unreachable(dict[str, str]):
    """Every target the bot might declare, each at ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def get(self, key: str, default: Any = None) -> str:
        return self.url


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[_Sessions]:
    pool = _Sessions(tmp_path)
    yield pool
    pool.close()


def _messages(error: BaseException | None) -> str:
    """The error's text and its causes', as far as anything could print them."""
    parts = []
    while error is not None:
        parts += [str(error), repr(error.args)]
        error = error.__cause__ or error.__context__
    return "\n".join(parts)


@pytest.mark.parametrize(("spec", "action"), _actions(secret=True))
def test_a_failing_action_keeps_its_secrets(
    spec: ConnectorSpec, action: Action, sessions: _Sessions
) -> None:
    secret = f"Geh31m-{uuid.uuid4().hex[:12]}"
    arguments = _required(action.arguments)
    arguments.update(dict.fromkeys(action.secret_arguments, secret))
    log = _RecordingLog()
    context = ActionContext(
        connector=spec.name,
        sessions=sessions,
        targets=_Unreachable(f"http://127.0.0.1:{_closed_port()}"),
        state={},
        log=log,
        call_timeout=2.0,
        deadline=time.monotonic() + 2.0,
        redact=Redactor([secret]).redact,  # as the engine gives it: the run's secrets
    )
    ref = f"{spec.name}.{action.name}"
    error: BaseException | None = None
    result: Any = None
    try:
        result = call_action(action, context, arguments, ref=ref, path="steps[0]")
    except Exception as exc:
        error = exc
    assert secret not in _messages(error)
    assert secret not in repr(result)
    assert secret not in repr(log.records)
