"""The `rtcc` command: one module per domain, assembled here (the entry point is rtcc.cli:app)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rtcc import __version__
from rtcc.cli import accounts, alpr, audit, cad, demo, jobs, policy, serve, system, video
from rtcc.cli import retention
from rtcc.cli.common import out
from rtcc.core.config import use_config_file

app = typer.Typer(help="OpenRTCC: an open-source Real-Time Crime Center platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
# The order of `rtcc --help`: the commands, then the groups.
app.add_typer(system.db_app, name="db")
app.add_typer(system.config_app, name="config")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(alpr.alpr_app, name="alpr")
app.add_typer(video.export_app, name="export")
app.command()(serve.serve)
app.command()(demo.demo)
app.add_typer(demo.sim_app, name="sim")
app.add_typer(accounts.user_app, name="user")
app.add_typer(accounts.agency_app, name="agency")
app.add_typer(policy.policy_app, name="policy")
app.add_typer(cad.cad_app, name="cad")
app.command("jobs")(jobs.list_jobs)
app.add_typer(retention.retention_app, name="retention")


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


if __name__ == "__main__":
    app()
