"""`rtcc serve`: the API, console, camera pipelines and jobs in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rtcc.cli.common import DataDir, err, settings_for
from rtcc.settings import Settings


def serve(
    data_dir: Optional[Path] = DataDir,
    host: Optional[str] = typer.Option(None, help="Listen address (default from settings)."),
    port: Optional[int] = typer.Option(None, help="Listen port (default from settings)."),
) -> None:
    """Run the API and console server."""
    from rtcc.core.keys import key_dir_warnings

    settings = settings_for(data_dir, host=host, port=port)
    for warning in key_dir_warnings(settings.key_dir, settings.data_dir):  # the demo may keep its keys there
        err.print(f"[bold red]WARNING:[/bold red] {warning}")
    protect_data(settings)
    run_server(settings)


def protect_data(settings: Settings) -> None:
    """Before anything is written: a umask for us and our ffmpeg children, and no wider modes left in the data dir."""
    from rtcc.core.runtime import apply_data_dir_umask, protect_data_dir

    apply_data_dir_umask(settings)
    try:
        protect_data_dir(settings)
    except ValueError as error:  # an unknown RTCC_DATA_GROUP
        err.print(f"[red]Invalid settings:[/red] {error}")
        raise typer.Exit(2)


def run_server(settings: Settings, *, simulated_calls: bool = False) -> None:
    """Serve the app until stopped; its lifespan starts and stops the services (rtcc.bootstrap)."""
    import uvicorn

    from rtcc.app import create_app
    from rtcc.core.logging import configure_logging

    configure_logging()
    uvicorn.run(create_app(settings, simulated_calls=simulated_calls), host=settings.host, port=settings.port,
                log_config=None, access_log=False)
