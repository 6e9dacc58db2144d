"""The `rtcc` command: run the server or the demo, manage accounts, verify the audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rtcc import __version__
from rtcc.cli_common import DataDir, err, out, runtime_for, settings_for
from rtcc.core.config import Settings, use_config_file

app = typer.Typer(help="OpenRTCC: an open-source Real-Time Crime Center platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit chain.", no_args_is_help=True)
alpr_app = typer.Typer(help="Licence-plate reading.", no_args_is_help=True)
export_app = typer.Typer(help="Evidence exports.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(audit_app, name="audit")
app.add_typer(alpr_app, name="alpr")
app.add_typer(export_app, name="export")

def _version(value: bool) -> None:
    if value:
        out.print(f"rtcc {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file (environment variables win)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """OpenRTCC command line."""
    use_config_file(config)


# --- server --------------------------------------------------------------------------------

@app.command()
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
    _protect_data(settings)
    _run_server(settings)


def _protect_data(settings: Settings) -> None:
    """Before anything is written: a umask for us and our ffmpeg children, and no wider modes left in the data dir."""
    from rtcc.core.runtime import apply_data_dir_umask, protect_data_dir

    apply_data_dir_umask(settings)
    try:
        protect_data_dir(settings)
    except ValueError as error:  # an unknown RTCC_DATA_GROUP
        err.print(f"[red]Invalid settings:[/red] {error}")
        raise typer.Exit(2)


def _run_server(settings: Settings, *, simulated_calls: bool = False) -> None:
    import uvicorn

    from rtcc.app import create_app
    from rtcc.core.logging import configure_logging

    configure_logging()
    uvicorn.run(create_app(settings, simulated_calls=simulated_calls), host=settings.host, port=settings.port, log_config=None, access_log=False)


@app.command()
def demo(
    data_dir: Optional[Path] = DataDir,
    host: Optional[str] = typer.Option(None, help="Listen address."),
    port: Optional[int] = typer.Option(None, help="Listen port."),
) -> None:
    """Run on embedded defaults with a simulated city sending calls; creates admin, analyst and officer once."""
    from rtcc.sim.demo import allow_simulated_cameras, attach_live_cameras, prepare_demo, start_simulated_cameras

    settings = settings_for(data_dir, host=host, port=port)
    _protect_data(settings)
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
        _run_server(settings, simulated_calls=True)
    finally:
        if simulated is not None:
            simulated.stop()


# --- database and settings -----------------------------------------------------------------

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
    from rtcc.core.config import settings_reference

    print(settings_reference())


# --- audit ---------------------------------------------------------------------------------

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


@export_app.command("verify")
def export_verify(path: Path = typer.Argument(..., help="Evidence bag directory.")) -> None:
    """Check an evidence bag: every SHA-256, the tag manifest and the custody-log chain."""
    from rtcc.video.bag_verify import verify_command

    code = verify_command(path)
    if code:
        raise typer.Exit(code)


# --- simulation ------------------------------------------------------------------------------

sim_app = typer.Typer(help="The simulated city.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")


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


# --- plates --------------------------------------------------------------------------------

@alpr_app.command("read")
def alpr_read(
    images: list[Path] = typer.Argument(..., help="Image files to read."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per image per line, in input order."),
) -> None:
    """Read licence plates from still images; a bad file is reported and the others still read."""
    import json

    from rtcc.alpr.reader import read_images_as_json

    failed = 0
    for result in read_images_as_json([str(path) for path in images]):
        failed += "error" in result
        if as_json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            err.print(f"{result['image']}: [red]{result['error']}[/red]")
        else:
            plates = ", ".join(f"{p['plate']} ({p['confidence']:.2f})" for p in result["plates"]) or "no plate"
            out.print(f"{result['image']}: {plates}")
    if failed == len(images):
        raise typer.Exit(1)


from rtcc.cli_accounts import agency_app, user_app  # noqa: E402  (the account commands, in their own module)

app.add_typer(user_app, name="user")
app.add_typer(agency_app, name="agency")

from rtcc.cli_cad import cad_app  # noqa: E402

app.add_typer(cad_app, name="cad")

if __name__ == "__main__":
    app()
