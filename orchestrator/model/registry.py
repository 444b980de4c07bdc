"""Connectors and what they contribute, found through one entry point group.

A connector is a package that contributes, in one :class:`ConnectorSpec`: its session (a
:class:`~connectors.base.Connector` subclass, opened on first use in a run), its step kinds
(pydantic models with their handlers), its named actions (``use: civento.vorgang_lesen``),
the settings it needs and a folder of shared flows. Every connector registers the same way,
the built-in ones included, through the entry point group :data:`ENTRY_POINT_GROUP`::

    # pyproject.toml of a connector package
    [project.entry-points."kommune_bots.connectors"]
    akte = "akte_connector:CONNECTOR"

The entry point names a :class:`ConnectorSpec` (or a function returning one). Loading a spec
imports the connector's models and handlers, never the library behind its session: sessions
are built by a factory that imports it when a run first needs it, so validating a bot stays
free of browsers and databases.

Built like Robot Framework's libraries and Prefect's plugins: the engine knows no concrete
step, it receives :meth:`Registry.handlers` and the session factories.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo

if TYPE_CHECKING:
    from connectors.base import Connector
    from connectors.step_run import StepRun
    from orchestrator.model.steps import StepBase

#: The entry point group every connector registers in.
ENTRY_POINT_GROUP = "kommune_bots.connectors"

#: ``handler(it, step, path)``: runs one step; ``it`` is the run as
#: :class:`connectors.step_run.StepRun` describes it, ``step`` the validated model.
Handler = Callable[["StepRun", Any, str], None]


@dataclass(frozen=True)
class StepKind:
    """A step kind a connector contributes.

    A bot writes the kind qualified by its connector (``browser.click:``, ``notiz.click:``)
    or bare (``click:``); the bare key belongs to the first connector that registered it
    (the built-in ones register first), so two connectors may both have ``click``.

    Args:
        model: The pydantic model; its ``KIND`` is the bare key (``click``).
        run: The handler running it.
        secret_fields: Fields that may take ``{{ secrets.NAME }}`` (e.g. ``value`` of
            ``fill``); elsewhere a secret is refused by ``bots validate``.
        creates: Fields whose value names a variable the step creates (e.g. ``into``); for a
            mapping (``set``) its keys are the variables.
        binds: Variables its nested steps see besides the bot's: a name (``work_item``), or
            ``@FIELD`` for the variable a field names (``@as``: ``for_each``'s loop variable).
        sees: Per field, the variables that field's templates see besides the bot's, in the
            same notation (``{"label": ("@as",)}``).
        raw_interaction: It acts on one element of a target system's user interface (a
            click, a typed text): ``bots lint`` suggests a connector's action instead where
            one exists for the pages it acts on.
        connector: Its connector's name; set when the connector is registered.
        name: How listings, run histories and messages name it: the bare key where it owns
            it, else the qualified one (``notiz.click``); set when registered.
    """

    model: type[StepBase]
    run: Handler
    secret_fields: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()
    sees: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    raw_interaction: bool = False
    connector: str = ""
    name: str = ""

    @property
    def kind(self) -> str:
        """The bare kind key (``click``), as the model declares it."""
        return self.model.KIND

    @property
    def qualified(self) -> str:
        """The kind key with its connector's name (``browser.click``): always accepted."""
        return f"{self.connector}.{self.kind}"


@dataclass(frozen=True)
class Action:
    """A named, typed action: a page object method a bot calls with ``use: connector.name``.

    ``run(ctx, **arguments)`` gets an action context (its connector's sessions, the bot's
    targets, the time left) and the arguments validated by ``arguments``; what it returns
    goes ``into`` the bot's variable. It raises :class:`~connectors.base.ConnectorError` when
    the target system misbehaves, :class:`~connectors.base.BusinessRefusal` when the target
    system refuses the case.
    """

    name: str
    run: Callable[..., Any]
    arguments: type[BaseModel]
    description: str
    returns: str = "nothing"
    secret_arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionEnv:
    """What a session factory gets: its settings and the run's resources.

    Args:
        settings: Its section of the settings file, validated by the connector's model.
        run_dir: Where the run keeps its files.
        headless: Whether the run shows no windows.
        timeout_s: Default timeout of one call into the session (the step timeout).
        display: The run's X display (``":99"``) for a session showing windows (a connector
            with ``display=True`` in a headed run, or with ``needs_display=True``); None
            otherwise. Never ``os.environ``:
            a robot runs several runs at once.
        trace: The run's trace mode (``never``, ``on_failure``, ``always``): a session that
            can record one starts it when it opens and leaves it in ``finish``.
        run_settings: The run's top-level settings (``orchestrator.settings.Settings``), for
            a connector whose defaults are the run's (the browser's ``chromium``).
        work_queues: The run's access to the orchestrator's work queues (a
            :class:`~connectors.base.Connector` the engine builds, see
            :mod:`orchestrator.engine.work_queue`): the session of a connector whose steps
            take and add items; None outside a run.
    """

    settings: BaseModel | None
    run_dir: Path
    headless: bool
    timeout_s: float
    display: str | None = None
    trace: str = "never"
    run_settings: Any = None
    work_queues: Any = None


@dataclass(frozen=True)
class ConnectorSpec:
    """Everything one connector contributes (see the module docstring).

    Args:
        name: Short name, used in ``use: NAME.action`` and ``bots connectors show NAME``.
        description: One paragraph for ``bots connectors list``.
        steps: Step kinds it adds to the bot language.
        actions: Named actions (``use: NAME.action``).
        session: Factory of its session, called the first time a run needs it; None for
            connectors without one (flow control) or that use another's (``uses``).
        uses: Sessions of other connectors its actions work on (``civento`` uses
            ``browser``).
        settings: Model of its section in the settings file (``connectors: {NAME: ...}``).
        flows: A folder of shared flows, included as ``include: NAME:flow.yaml``.
        display: Its session shows windows: a headed run hands it the run's display.
        needs_display: Its session needs a display in every run, headless ones included
            (desktop applications have no headless mode): the run's display, or a virtual
            one started for the run (Xvfb and a window manager) and stopped after it.
        main_evidence: Its failure evidence is the run's own (``failure.png``); the other
            sessions' files are named after their connector (``failure-NAME-*``).
        labels: Robot labels its session needs on the machine that runs it (``browser``,
            ``desktop``): a bot using its steps or actions (or those of a connector that
            ``uses`` it) needs them, whether or not the bot declares them.
    """

    name: str
    description: str
    steps: tuple[StepKind, ...] = ()
    actions: tuple[Action, ...] = ()
    session: Callable[[SessionEnv], Connector] | None = None
    uses: tuple[str, ...] = ()
    settings: type[BaseModel] | None = None
    flows: Path | None = None
    version: str = ""
    display: bool = False
    needs_display: bool = False
    main_evidence: bool = False
    labels: tuple[str, ...] = ()


#: A bare step kind key.
_KIND_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class Registry:
    """The installed connectors, by name, with the problems found loading them.

    Step kinds are known by every key a bot may write (:meth:`step_keys`: ``browser.click``
    and, for the first connector registering it, ``click``) and by one name each
    (:meth:`step_kinds`)."""

    connectors: dict[str, ConnectorSpec] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)
    _keys: dict[str, StepKind] = field(default_factory=dict, repr=False)
    _models: dict[str, type[StepBase]] = field(default_factory=dict, repr=False)
    _by_model: dict[type[BaseModel], StepKind] = field(default_factory=dict, repr=False)

    def add(self, spec: ConnectorSpec, origin: str = "") -> None:
        """Register ``spec``; a second connector of that name, or a step kind that is no
        plain lower-case key, is a problem, not a crash."""
        if spec.name in self.connectors:
            self.problems.append(
                f"connector {spec.name!r} ({origin}) is registered twice; the first one "
                f"({self.origins.get(spec.name, '?')}) is used"
            )
            return
        kinds = [step.kind for step in spec.steps]
        for step in spec.steps:
            why = (
                "it is not a lower-case key (letters, digits, _)"
                if not _KIND_KEY.match(step.kind)
                else "its model is registered by another connector"
                if step.model in self._by_model
                else "the connector has it twice"
                if kinds.count(step.kind) > 1
                else ""
            )
            if why:
                self.problems.append(
                    f"connector {spec.name!r} ({origin}) adds step kind {step.kind!r}: {why}; "
                    "the connector is left out"
                )
                return
        steps = []
        for step in spec.steps:
            owns = step.kind not in self._keys
            named = replace(
                step, connector=spec.name, name=step.kind if owns else f"{spec.name}.{step.kind}"
            )
            steps.append(named)
            if owns:
                self._keys[step.kind], self._models[step.kind] = named, step.model
            qualified = _qualified_model(step.model, named.qualified)
            self._keys[named.qualified], self._models[named.qualified] = named, qualified
            self._by_model[step.model] = self._by_model[qualified] = named
        self.connectors[spec.name] = replace(spec, steps=tuple(steps))
        self.origins[spec.name] = origin

    def step_kinds(self) -> dict[str, StepKind]:
        """name -> step kind, one entry per kind of every connector (``click``,
        ``notiz.click``)."""
        return {step.name: step for spec in self.connectors.values() for step in spec.steps}

    def step_models(self) -> dict[str, type[StepBase]]:
        """name -> step model."""
        return {name: step.model for name, step in self.step_kinds().items()}

    def step_keys(self) -> Mapping[str, StepKind]:
        """Every kind key a bot may write -> its step kind: the qualified key of every kind,
        the bare key of the connector owning it."""
        return MappingProxyType(self._keys)

    def key_models(self) -> Mapping[str, type[StepBase]]:
        """Every kind key a bot may write -> the model validating a step written with it
        (for a qualified key, the kind's model with its kind field under that key)."""
        return MappingProxyType(self._models)

    def by_model(self) -> Mapping[type[BaseModel], StepKind]:
        """A validated step's model type -> its step kind: what the interpreter is given."""
        return MappingProxyType(self._by_model)

    def actions(self) -> dict[str, Action]:
        """``connector.action`` -> action."""
        return {
            f"{spec.name}.{action.name}": action
            for spec in self.connectors.values()
            for action in spec.actions
        }

    def flows_dir(self, connector: str) -> Path | None:
        """The shared flows folder of a connector, if it has one."""
        spec = self.connectors.get(connector)
        return spec.flows if spec is not None else None


def _qualified_model(model: type[StepBase], key: str) -> type[StepBase]:
    """``model`` with its kind field under ``key`` (``browser.click``): what validates a
    step written with its qualified key, with the same fields, handler and messages."""
    name, info = next(
        (name, info)
        for name, info in model.model_fields.items()
        if (info.alias or name) == model.KIND
    )
    renamed = FieldInfo.merge_field_infos(
        info, alias=key, validation_alias=key, serialization_alias=key
    )
    qualified: type[StepBase] = create_model(  # type: ignore[call-overload]
        f"{model.__name__}_{key.partition('.')[0]}",
        __base__=model,
        __module__=model.__module__,
        __doc__=model.__doc__,
        **{name: (info.annotation, renamed)},
    )
    return qualified


def load(names: Iterable[str] | None = None) -> Registry:
    """Load every connector of the entry point group (or only ``names``)."""
    registry = Registry()
    wanted = set(names) if names is not None else None
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    # The built-in ones first: a third party cannot take their names or kinds.
    found.sort(key=lambda ep: 0 if ep.value.startswith("connectors.") else 1)
    for entry in found:
        if wanted is not None and entry.name not in wanted:
            continue
        origin = f"{entry.value}" + (f" from {entry.dist.name}" if entry.dist else "")
        try:
            spec = entry.load()
            if callable(spec) and not isinstance(spec, ConnectorSpec):
                spec = spec()
        except Exception as exc:
            registry.problems.append(
                f"connector {entry.name!r} ({origin}) cannot be loaded: {type(exc).__name__}: {exc}"
            )
            continue
        if not isinstance(spec, ConnectorSpec):
            registry.problems.append(
                f"connector {entry.name!r} ({origin}) is a {type(spec).__name__}, "
                "not a ConnectorSpec"
            )
            continue
        registry.add(spec, origin)
    if not registry.connectors:
        registry.problems.append(
            f"no connector is installed (entry point group {ENTRY_POINT_GROUP!r}): "
            "reinstall the project (pip install -e .)"
        )
    return registry


@functools.cache
def installed() -> Registry:
    """The connectors installed in this environment, loaded once per process."""
    return load()


__all__ = [
    "ENTRY_POINT_GROUP",
    "Action",
    "ConnectorSpec",
    "Handler",
    "Registry",
    "SessionEnv",
    "StepKind",
    "installed",
    "load",
]
