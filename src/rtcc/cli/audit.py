"""`rtcc audit ...`: verify, checkpoint and export the audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rtcc.cli.common import DataDir, err, out, runtime_for

audit_app = typer.Typer(help="The audit chain.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    data_dir: Optional[Path] = DataDir,
    checkpoint: list[str] = typer.Option(
        [], "--checkpoint", help="A checkpoint published elsewhere (URL of /api/v1/audit/checkpoint, or a file); repeatable."),
) -> None:
    """Walk the chain and check it against its checkpoints; exit 1 naming the first fault."""
    from rtcc.audit.commands import verify_command

    with runtime_for(data_dir) as runtime:
        code = verify_command(runtime, checkpoint_sources=checkpoint, out=out, err=err)
    if code:
        raise typer.Exit(code)


@audit_app.command("checkpoint")
def audit_checkpoint(data_dir: Optional[Path] = DataDir) -> None:
    """Append a signed checkpoint of the chain head to the checkpoint log now (the server does it periodically)."""
    from rtcc.audit.commands import checkpoint_command

    with runtime_for(data_dir) as runtime:
        code = checkpoint_command(runtime, out=out, err=err)
    if code:
        raise typer.Exit(code)


@audit_app.command("export")
def audit_export(
    output: Path = typer.Argument(..., help="File to write."),
    format: str = typer.Option("csv", "--format", help="csv or json"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Write the whole audit trail to a CSV or JSON file (hashes included)."""
    import csv
    import json

    from rtcc.audit import service as audit
    from rtcc.core.actor import cli_actor

    if format not in ("csv", "json"):
        err.print("[red]--format must be csv or json[/red]")
        raise typer.Exit(2)
    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=cli_actor(), action="audit.export",
                         query_terms={"format": format}, details={"via": "cli", "file": str(output)})
        count = 0
        with runtime.database.read_session() as db, open(output, "w", newline="", encoding="utf-8") as handle:
            rows = (audit.as_row(entry) for entry in audit.iterate(db, query=audit.AuditQuery()))
            if format == "csv":
                writer = csv.DictWriter(handle, fieldnames=audit.EXPORT_FIELDS)
                writer.writeheader()
                for row in rows:
                    writer.writerow(row)
                    count += 1
            else:
                records = list(rows)
                json.dump(records, handle, ensure_ascii=False, indent=1)
                count = len(records)
    out.print(f"wrote {count} records to {output}")
