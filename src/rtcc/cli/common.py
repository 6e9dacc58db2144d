"""What every `rtcc` command shares: the consoles, the --data-dir option, settings and a wired runtime."""

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from rtcc.settings import Settings, load_settings
from rtcc.core.errors import RTCCError

# Piped or captured output (a script, a log, CI) has no terminal to measure: rich would squeeze tables into 80
# columns and cut every cell short. Give it room unless COLUMNS says otherwise.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
out = Console(soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, soft_wrap=True, width=_WIDTH)

DataDir = typer.Option(None, "--data-dir", envvar="RTCC_DATA_DIR", help="Data directory (SQLite file, media, keys).")


def settings_for(data_dir: Optional[Path], **overrides) -> Settings:
    try:
        return load_settings(data_dir=data_dir, **overrides)
    except Exception as error:  # invalid settings: say which, exit non-zero
        err.print(f"[red]Invalid settings:[/red] {error}")
        raise typer.Exit(2)


@contextmanager
def runtime_for(data_dir: Optional[Path]):
    """A wired runtime with the schema up to date; RTCC errors become a message and exit 1."""
    from rtcc.core.runtime import build_runtime

    runtime = build_runtime(settings_for(data_dir))
    try:
        runtime.database.upgrade()
        yield runtime
    except RTCCError as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1)
    finally:
        runtime.close()
