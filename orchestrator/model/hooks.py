"""Python hooks: resolve ``module:function`` references and check their signatures.

A ``call`` step names a hook as ``module:function``. The module is looked up in the bot's
directory first (``hooks:map_rechtsform`` is ``bots/<id>/hooks.py``, ``lib.fees:compute`` is
``bots/<id>/lib/fees.py``), then on ``sys.path``. Bot modules are imported as sub-modules of a
package private to the bot directory, ``bots_hooks.<bot_id>_<hash>``, so two bots that both have a
``hooks.py`` never share a module, and a hook module may import its siblings relatively
(``from .helpers import clean``). A module is imported again when a ``.py`` file of its bot
changed since the last import::

    fn = resolve_hook(Path("bots/gewerbe-melden"), "hooks:map_rechtsform", "gewerbe-melden")
    fn(ctx, rechtsform="GmbH")
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from orchestrator.model.schema_errors import did_you_mean

HOOK_PACKAGE = "bots_hooks"
_IDENTIFIER_UNSAFE = re.compile(r"\W")

_lock = threading.RLock()
_stamps: dict[str, tuple[tuple[str, int, int], ...]] = {}


class HookNotFound(LookupError):
    """A hook reference cannot be resolved; the message says why, without a traceback.

    The loader turns it into a :class:`~orchestrator.errors.Problem`; the engine into a
    :class:`~orchestrator.errors.HookError` naming the step.
    """


def resolve_hook(bot_dir: Path, ref: str, bot_id: str) -> Callable[..., Any]:
    """The function a hook reference ``module:function`` names.

    Args:
        bot_dir: The bot's directory; modules there win over ``sys.path``.
        ref: The reference, e.g. ``hooks:map_rechtsform``.
        bot_id: The bot's id, used in the private module name.

    Raises:
        HookNotFound: The module does not exist or fails to import, or has no such function.
    """
    module_name, sep, function_name = ref.partition(":")
    if not sep or not module_name or not function_name:
        raise HookNotFound(f"{ref!r} is not a hook reference like 'hooks:function_name'")
    module, where = _import(Path(bot_dir), module_name, bot_id)
    function = getattr(module, function_name, None)
    if function is None:
        public = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise HookNotFound(
            f"{where} has no function {function_name!r}{did_you_mean(function_name, public)}"
        )
    if not callable(function):
        raise HookNotFound(f"{where}: {function_name!r} is not a function")
    return function


def signature_problems(
    function: Callable[..., Any], ref: str, with_keys: Iterable[str]
) -> list[tuple[str | None, str]]:
    """Check that a hook can be called as ``function(ctx, **with_)``.

    Returns:
        ``(key, message)`` pairs: ``key`` is the ``with`` key at fault, or None when the problem
        is the function itself (no context parameter, a required argument not supplied).
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []  # builtins without a signature: nothing to check
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not params or params[0].kind not in (*positional, inspect.Parameter.VAR_POSITIONAL):
        return [(None, f"hook {ref} must take the run context as its first parameter")]
    context, rest = params[0], params[1:]
    by_name = {p.name: p for p in rest if p.kind is not inspect.Parameter.VAR_POSITIONAL}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in rest)
    named = [
        p.name for p in rest if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                           inspect.Parameter.KEYWORD_ONLY)
    ]  # fmt: skip
    keys = list(with_keys)
    problems: list[tuple[str | None, str]] = []
    for key in keys:
        param = by_name.get(key)
        if key == context.name and context.kind is not inspect.Parameter.VAR_POSITIONAL:
            problems.append((key, f"{key!r} is the run context of hook {ref}, not an argument"))
        elif param is not None and param.kind is inspect.Parameter.POSITIONAL_ONLY:
            problems.append((key, f"argument {key!r} of hook {ref} is positional-only"))
        elif (param is None or param.kind is inspect.Parameter.VAR_KEYWORD) and not takes_any:
            accepted = ", ".join(named) or "none"
            problems.append(
                (key, f"hook {ref} takes no argument {key!r} (its arguments: {accepted})")
            )
    for param in rest:
        required = param.default is inspect.Parameter.empty and param.kind not in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD,
        )  # fmt: skip
        if required and param.name not in keys:
            problems.append(
                (None, f"hook {ref} needs argument {param.name!r}; add it under 'with'")
            )
    return problems


def _import(bot_dir: Path, module_name: str, bot_id: str) -> tuple[ModuleType, str]:
    """Import ``module_name`` from the bot directory or ``sys.path``; also say where from."""
    parts = module_name.split(".")
    candidates = [
        bot_dir.joinpath(*parts).with_suffix(".py"),
        bot_dir.joinpath(*parts, "__init__.py"),
    ]
    local = next((c for c in candidates if c.is_file()), None)
    if local is None:
        try:
            return importlib.import_module(module_name), f"module {module_name!r}"
        except ModuleNotFoundError as exc:
            if exc.name == module_name or module_name.startswith(f"{exc.name}."):
                raise HookNotFound(
                    f"hook module {module_name!r} not found (no {candidates[0].name} in the bot "
                    "directory, and none on the Python path)"
                ) from None
            raise HookNotFound(_import_failure(f"module {module_name!r}", exc, None)) from None
        except Exception as exc:
            raise HookNotFound(_import_failure(f"module {module_name!r}", exc, None)) from None
    shown = local.relative_to(bot_dir).as_posix()
    with _lock:
        package = _bot_package(bot_dir, bot_id)
        # No .pyc files: bot directories stay clean, and an edit within the same second can
        # never be shadowed by stale bytecode.
        writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            return importlib.import_module(f"{package}.{module_name}"), shown
        except (Exception, SystemExit) as exc:
            _forget(package)
            raise HookNotFound(_import_failure(shown, exc, bot_dir)) from None
        finally:
            sys.dont_write_bytecode = writes_bytecode


def _bot_package(bot_dir: Path, bot_id: str) -> str:
    """Register (or refresh) the private package whose ``__path__`` is the bot directory."""
    root = bot_dir.resolve()
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:8]
    name = f"{HOOK_PACKAGE}.{_IDENTIFIER_UNSAFE.sub('_', bot_id)}_{digest}"
    if HOOK_PACKAGE not in sys.modules:
        sys.modules[HOOK_PACKAGE] = _package(HOOK_PACKAGE, [])
    stamp = _source_stamp(root)
    if name in sys.modules and _stamps.get(name) == stamp:
        return name
    _forget(name)
    importlib.invalidate_caches()
    sys.modules[name] = _package(name, [str(root)])
    _stamps[name] = stamp
    return name


def _package(name: str, path: list[str]) -> ModuleType:
    spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    assert spec is not None
    spec.submodule_search_locations = path
    module = importlib.util.module_from_spec(spec)
    module.__path__ = path
    return module


def _forget(package: str) -> None:
    """Drop a bot package and its modules, so the next import reads the files again."""
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    _stamps.pop(package, None)


def _source_stamp(root: Path) -> tuple[tuple[str, int, int], ...]:
    stamp = []
    for file in sorted(root.rglob("*.py")):
        if "__pycache__" not in file.parts:
            info = file.stat()
            stamp.append((str(file), info.st_mtime_ns, info.st_size))
    return tuple(stamp)


def _import_failure(shown: str, exc: BaseException, bot_dir: Path | None) -> str:
    """``importing hooks.py failed: NameError: name 'x' is not defined (hooks.py line 3)``."""
    where = ""
    if isinstance(exc, SyntaxError) and exc.lineno:
        where = f" ({Path(exc.filename or shown).name} line {exc.lineno})"
        text = f"SyntaxError: {exc.msg}"
    else:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        frames = traceback.extract_tb(exc.__traceback__)
        inside = [
            f for f in frames if bot_dir is not None and _is_within(Path(f.filename), bot_dir)
        ]
        if inside:
            where = f" ({Path(inside[-1].filename).name} line {inside[-1].lineno})"
    return f"importing {shown} failed: {text}{where}"


def _is_within(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True
