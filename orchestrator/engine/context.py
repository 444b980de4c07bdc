"""The run context a hook receives as its first argument.

Example hook::

    from orchestrator.engine.context import RunContext

    def export_csv(ctx: RunContext, rows: list[dict]) -> str:
        path = ctx.run_dir / "export.csv"
        path.write_text(...)
        ctx.artifact(path)                      # kept with the run, with its sha256
        ctx.log.info("exported", rows=len(rows))
        return str(path)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.errors import SecretMissing
from orchestrator.results import ArtifactKind, ArtifactRecord


@dataclass
class RunContext:
    """What a hook may see and do during a run.

    Attributes:
        params: The run's parameters, coerced to their declared types.
        vars: The bot's variables (mutable: a hook may set ``ctx.vars["x"] = ...``).
        run_id: Id of the run in the history.
        run_dir: Directory holding the run's files.
        tenant: The tenant (city) the run belongs to.
        bot_id: Id of the running bot.
        log: A structlog logger bound to the run; its lines go to the run log, redacted.
    """

    params: dict[str, Any]
    vars: dict[str, Any]
    run_id: int
    run_dir: Path
    tenant: str
    bot_id: str
    log: Any
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)
    _keep_artifact: Callable[[Path, ArtifactKind], ArtifactRecord] | None = field(
        default=None, repr=False
    )

    def secret(self, name: str) -> str:
        """The value of a secret the bot declares.

        Raises:
            SecretMissing: the bot does not declare ``name``.
        """
        try:
            return self._secrets[name]
        except KeyError:
            declared = ", ".join(sorted(self._secrets)) or "none"
            raise SecretMissing(
                f"a hook asked for secret {name!r}, which the bot does not declare "
                f"(declared: {declared})."
            ) from None

    def artifact(
        self, path: Path | str, kind: ArtifactKind | str = ArtifactKind.OUTPUT
    ) -> ArtifactRecord:
        """Keep a file as an artifact of the run (relative paths are inside ``run_dir``).

        The file is scrubbed of secrets, hashed and recorded in the run history.
        """
        target = Path(path)
        if not target.is_absolute():
            target = self.run_dir / target
        if not target.is_file():
            raise FileNotFoundError(f"artifact {target} does not exist")
        if self._keep_artifact is None:
            raise RuntimeError("this context cannot keep artifacts")
        return self._keep_artifact(target, ArtifactKind(kind))
