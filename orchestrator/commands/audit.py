"""`bots audit`: verify, anchor and export the tamper-evident audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator import errors
from orchestrator.commands.shared import EXIT_FAILED, echo, service_context

app = typer.Typer(name="audit", help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain, and against the heads noted down in the anchors file;
    name the first altered, inserted or deleted entry."""
    from orchestrator.services import audit

    with service_context() as ctx:
        verified = audit.verify_audit(ctx)
    check, anchors = verified.check, verified.anchors
    if not check.ok:
        echo(f"audit trail broken at entry {check.first_bad_seq}: {check.problem}", err=True)
        echo(f"({check.checked} entries before it are intact)", err=True)
        raise typer.Exit(EXIT_FAILED)
    agreed = f"; {len(anchors)} anchors agree" if anchors else "; no anchors noted yet"
    echo(f"ok: {check.checked} entries checked, head {check.head_hash}{agreed}")


@app.command("anchor")
def audit_anchor() -> None:
    """Verify the trail, then note its head down in the anchors file (e.g. from cron)."""
    from orchestrator.services import audit

    with service_context() as ctx:
        anchoring = audit.anchor_audit(ctx)
    check, anchor, path = anchoring.check, anchoring.anchor, ctx.settings.audit_anchors_file
    if not check.ok:
        echo(f"audit trail broken at entry {check.first_bad_seq}: {check.problem}", err=True)
        echo("nothing noted down: a broken head is no anchor", err=True)
        raise typer.Exit(EXIT_FAILED)
    if anchor is None:
        echo(f"nothing new to note: the head is in {path} already (or the trail is empty)")
        return
    echo(f"noted entry {anchor.seq} (hash {anchor.hash}) in {path}")


@app.command("export")
def audit_export(
    since: Annotated[
        str | None, typer.Option(help="Only entries at or after this ISO date or time.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="Only this tenant's entries (a user of one tenant: always its own)."),
    ] = None,
) -> None:
    """Write audit entries as JSON lines (for the data protection officer or an archive)."""
    from datetime import UTC, datetime

    from orchestrator.services import audit

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise errors.InputError(
                f"--since {since!r} is not an ISO date or time, e.g. 2026-11-01 or "
                "2026-11-01T08:00+01:00"
            ) from None
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    with service_context() as ctx:
        lines = (
            json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
            for entry in audit.export_audit(ctx, since=start, tenant=tenant)
        )
        if output is None:
            for line in lines:
                sys.stdout.write(line)
            return
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
        partial.replace(output)  # never a half-written export under the real name
