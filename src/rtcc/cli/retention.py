"""`rtcc retention`: run the purge engine (or only show what it would purge), list and load presets, policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from rtcc.cli.common import DataDir, err, out, runtime_for
from rtcc.core import clock

retention_app = typer.Typer(help="Retention per data class: purge runs, presets, policies.", no_args_is_help=True)


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


@retention_app.command("run")
def run_retention(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show per data class what would be purged."),
    data_class: Optional[list[str]] = typer.Option(None, "--class", help="Only this data class (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per class."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Purge every data class past its policy's clock, skipping what legal holds cover; one receipt per class."""
    from rtcc.governance.retention import engine
    from rtcc.governance.retention.data_classes import UnknownDataClass

    with runtime_for(data_dir) as runtime:
        try:
            runs = engine.run(runtime, dry_run=dry_run, classes=data_class or None)
        except UnknownDataClass as error:
            err.print(f"[red]{error}[/red]")
            raise typer.Exit(2)
    if as_json:
        for r in runs:
            print(json.dumps({"data_class": r.data_class, "dry_run": r.dry_run, "count": r.count, "bytes": r.bytes,
                              "window_start": clock.iso(r.first), "window_end": clock.iso(r.last),
                              "older_than": clock.iso(r.cutoff), "policy_version": r.policy.version,
                              "keep_for": r.policy.keep_for_text, "action": r.policy.action,
                              "skipped_held": r.skipped_held, "held_items": [s["item"] for s in r.skipped],
                              "kept": r.kept, "receipt_id": r.receipt_id}))
        return
    table = Table(title="Would be purged (dry run)" if dry_run else "Purged")
    table.add_column("data class", no_wrap=True)
    for column in ("policy", "older than", "count", "bytes", "window", "held, skipped", "receipt"):
        table.add_column(column)
    for r in runs:
        window = f"{clock.iso(r.first)} to {clock.iso(r.last)}" if r.count else "-"
        policy = f"v{r.policy.version} {r.policy.action} after {r.policy.keep_for_text} ({r.policy.source})"
        table.add_row(r.data_class, policy, clock.iso(r.cutoff), str(r.count), _size(r.bytes), window,
                      str(r.skipped_held), str(r.receipt_id or "-"))
    out.print(table)
    for r in runs:  # what a clock keeps whatever its age (an open case's items), never purged nor counted above
        for why, count in r.kept.items():
            out.print(f"{r.data_class}: {count} kept: {why}")


@retention_app.command("presets")
def list_presets() -> None:
    """The jurisdiction presets shipped, with the source each follows."""
    from rtcc.governance.retention import presets

    table = Table()
    for column in ("preset", "title", "sets", "source"):
        table.add_column(column)
    for name in presets.available():
        preset = presets.describe(name)
        sets = ", ".join(f"{p['class']} {p['keep_for'] or 'agency-set'}" for p in preset["policies"])
        table.add_row(name, preset["title"], sets, preset["source"])
    out.print(table)


@retention_app.command("load")
def load_preset(
    names: list[str] = typer.Argument(..., help="Preset names (see `rtcc retention presets`), or paths to a jurisdiction's own .toml files."),
    value: Optional[list[str]] = typer.Option(None, "--value", help="CLASS=DURATION for a class the preset leaves to the agency."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Load presets: a new policy version for each class they set (refused whole if any is invalid or they overlap)."""
    from rtcc.core.actor import cli_actor
    from rtcc.governance.retention import service

    values = {}
    for item in value or []:
        key, _, duration = item.partition("=")
        if not duration:
            err.print(f"[red]--value {item!r}: give CLASS=DURATION, e.g. plate_reads=1y[/red]")
            raise typer.Exit(2)
        values[key.strip()] = duration.strip()
    with runtime_for(data_dir) as runtime, runtime.database.session() as db:
        files = [Path(name) for name in names if name.endswith(".toml")]
        rows = service.load_presets(db, runtime=runtime, actor=cli_actor(), agency_values=values, files=files,
                                    names=[name for name in names if not name.endswith(".toml")])
        for row in rows:
            out.print(f"{row.data_class}: v{row.version} {row.action} after {row.keep_for} ({row.source})")


@retention_app.command("policies")
def list_policies(data_dir: Optional[Path] = DataDir) -> None:
    """The policy in force for every data class."""
    from rtcc.governance.retention import service

    with runtime_for(data_dir) as runtime, runtime.database.session() as db:
        policies = service.policies_in_force(db, runtime=runtime)
    table = Table()
    for column in ("data class", "version", "keep for", "clock", "action", "source"):
        table.add_column(column)
    for p in policies:
        table.add_row(p.data_class, str(p.version), p.keep_for_text, p.clock, p.action, p.source)
    out.print(table)
