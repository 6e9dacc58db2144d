"""`rtcc jobs`: every periodic job, with its last run and outcome as the serving process recorded them; switched-off
jobs too, with the setting that switches each on."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from rtcc.cli.common import DataDir, out, runtime_for
from rtcc.core import clock
from rtcc.core.jobs import FAILED, JobOverview


def list_jobs(
    data_dir: Optional[Path] = DataDir,
    as_json: bool = typer.Option(False, "--json", help="A JSON list, one object per job (times in UTC, ISO 8601)."),
) -> None:
    """List every periodic job: domain, name, interval, last run, last outcome and next run (or what switches it on)."""
    from rtcc.bootstrap import declare_jobs
    from rtcc.core.jobs import job_overview

    with runtime_for(data_dir) as runtime:
        overview = job_overview(runtime.database, declare_jobs(runtime, include_off=True))
    if as_json:
        print(json.dumps([job.as_json() for job in overview], indent=1, ensure_ascii=False))
        return
    table = Table()
    for column in ("domain", "name", "interval", "last run"):
        table.add_column(column, no_wrap=True)  # names and times stay whole in a narrow terminal; the outcome wraps
    table.add_column("last outcome", min_width=12)
    table.add_column("next run", min_width=12)
    for job in overview:
        table.add_row(job.domain, job.name, describe_interval(job.interval_seconds), _when(job.last_run_at),
                      _outcome(job), _next_run(job))
    out.print(table)


def describe_interval(seconds: float) -> str:
    """'every 10 min' rather than 600.0."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _when(moment: datetime | None) -> str:
    return clock.iso(moment) if moment else "never run"


def _outcome(job: JobOverview) -> str:
    if job.last_outcome is None:
        return "never run"
    duration = f" in {job.last_duration_ms} ms" if job.last_duration_ms is not None else ""
    if job.last_outcome == FAILED:
        return f"[red]failed{duration}: {escape(job.last_message or '')}[/red]"
    return f"ok{duration}" + (f": {escape(job.last_message)}" if job.last_message else "")


def _next_run(job: JobOverview) -> str:
    if not job.enabled:
        return f"[yellow]off[/yellow] (switched on by {escape(job.switched_on_by)})"
    if job.next_run_at is None:
        return "when the server starts"
    return clock.iso(job.next_run_at)
