"""`rtcc demo` and `rtcc sim ...`: the simulated city, on its own or feeding a server."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rtcc.cli.common import DataDir, err, out, runtime_for, settings_for
from rtcc.cli.serve import protect_data, run_server

sim_app = typer.Typer(help="The simulated city.", no_args_is_help=True)


def demo(
    data_dir: Optional[Path] = DataDir,
    host: Optional[str] = typer.Option(None, help="Listen address."),
    port: Optional[int] = typer.Option(None, help="Listen port."),
) -> None:
    """Run on embedded defaults with a simulated city sending calls; creates admin, analyst and officer once."""
    from rtcc.sim.demo import allow_simulated_cameras, attach_live_cameras, prepare_demo, start_simulated_cameras

    settings = settings_for(data_dir, host=host, port=port)
    protect_data(settings)
    allow_simulated_cameras(settings)
    with runtime_for(settings.data_dir) as runtime:
        runtime.settings = settings
        message = prepare_demo(runtime)
        simulated = start_simulated_cameras(settings)
        if simulated is not None:
            # Camera 1's fifth vehicle: its plate crosses the frame whole (the first one's is always cut off).
            planted = simulated.plates(1)[4]
            attach_live_cameras(runtime, simulated.urls, simulated.sub_urls, planted_plate=planted)
            message += (f"\n{len(simulated.urls)} simulated RTSP cameras stream into the city and are recorded; their plates are read."
                        f"\nPlate {planted} is planted on the 'Demo BOLO' hotlist: watch Plate alerts in the console.")
    out.print(message)
    try:
        run_server(settings, simulated_calls=True)
    finally:
        if simulated is not None:
            simulated.stop()


@sim_app.command("cameras")
def sim_cameras(
    count: int = typer.Option(4, "--count", min=1, max=500, help="How many cameras."),
    port: int = typer.Option(8554, "--port", min=0, max=65535, help="RTSP port (0: any free port)."),
    mode: str = typer.Option("auto", "--mode", help="live (clock burned in, encoded live), loop (pre-encoded, cheap) or auto."),
) -> None:
    """Serve N real RTSP streams of a simulated street with moving, plated vehicles; prints their URLs."""
    from rtcc.sim.cameras import MediaDependencyError, serve_cameras

    if mode not in ("auto", "live", "loop"):
        err.print("[red]--mode must be auto, live or loop[/red]")
        raise typer.Exit(2)
    try:
        serve_cameras(count, port, mode)
    except (MediaDependencyError, RuntimeError) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1)
