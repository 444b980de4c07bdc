"""Calling a bot's Python hooks (``call: hooks:register_entry``) with a time limit.

A hook runs in a worker thread so a stuck hook fails its step instead of hanging the run; the
thread cannot be killed, so it is a daemon thread that dies with the process. A hook's
exception becomes a :class:`~orchestrator.errors.HookError` naming the hook, redacted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.engine.context import RunContext
from orchestrator.engine.secrets import Redactor
from orchestrator.errors import BusinessException, DeliberateFailure, FailureKind, HookError
from orchestrator.model.hooks import resolve_hook

if TYPE_CHECKING:
    from orchestrator.model.loader import LoadedBot

#: ``(bot_dir, ref, bot_id) -> callable``
HookResolver = Callable[[Path, str, str], Callable[..., Any]]


class HookTimedOut(Exception):
    """The hook did not return within its time."""


class HookCaller:
    """Resolves each hook once per run and calls it with the run context."""

    def __init__(
        self,
        bot: LoadedBot,
        ctx: RunContext,
        redactor: Redactor,
        resolver: HookResolver | None = None,
    ) -> None:
        self._bot, self._ctx, self._redactor = bot, ctx, redactor
        self._resolver: HookResolver = resolver or resolve_hook
        self._hooks: dict[str, Callable[..., Any]] = {}

    def hook(self, ref: str, path: str) -> Callable[..., Any]:
        """The hook function ``module:function``, resolved once per run."""
        if ref not in self._hooks:
            try:
                self._hooks[ref] = self._resolver(self._bot.directory, ref, self._bot.definition.id)
            except Exception as exc:
                message = self._redactor.redact(f"cannot load hook {ref}: {exc}")
                raise HookError(path, message) from None
        return self._hooks[ref]

    def call(self, ref: str, kwargs: dict[str, Any], timeout: float, path: str) -> Any:
        """Call hook ``ref`` with the run context and ``kwargs``, up to ``timeout`` seconds.

        Raises:
            HookError: it cannot be loaded, or it raised.
            HookTimedOut: it did not return in time (the caller decides what that means).
        """
        function = self.hook(ref, path)
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = function(self._ctx, **kwargs)
            except BaseException as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=target, name=f"hook {ref}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise HookTimedOut(ref)
        error = outcome.get("error")
        if isinstance(error, BusinessException):
            message = self._redactor.redact(str(error) or f"hook {ref}: business exception")
            raise DeliberateFailure(path, message, FailureKind.BUSINESS)
        if error is not None:
            detail = str(error) or type(error).__name__
            message = f"hook {ref} raised {type(error).__name__}: {detail}"
            raise HookError(path, self._redactor.redact(message))
        return outcome.get("value")
