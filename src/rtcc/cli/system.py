"""`rtcc db ...` and `rtcc config ...`: the database schema and the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rtcc.cli.common import DataDir, out, runtime_for, settings_for

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: Optional[Path] = DataDir) -> None:
    """Apply pending migrations."""
    from rtcc.core.migrate import current_revision

    with runtime_for(data_dir) as runtime:
        out.print(f"database at revision {current_revision(runtime.database.engine)} ({runtime.database.dialect})")


@config_app.command("show")
def config_show(data_dir: Optional[Path] = DataDir) -> None:
    """Print the effective settings, secrets masked."""
    import json

    from rtcc.core.config import masked_settings

    out.print_json(json.dumps(masked_settings(settings_for(data_dir)), default=str))


@config_app.command("docs")
def config_docs() -> None:
    """Print the settings reference as Markdown (docs/configuration.md is made with this)."""
    from rtcc.settings import settings_reference

    print(settings_reference())
