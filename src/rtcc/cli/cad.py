"""`rtcc cad ...`: calls for service from CAD export files."""

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from rtcc.cli.common import DataDir, err, out, runtime_for

cad_app = typer.Typer(help="Calls for service from CAD.", no_args_is_help=True)


@cad_app.command("import")
def cad_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CAD export CSV file."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report (every line) as JSON."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Import one CAD export CSV like the watched folder does (the file stays where it is).

    Each good row is received like `POST /api/v1/cad/calls`: a call_id seen before updates its
    call. Bad rows are listed with their line numbers and skipped. Exit 1 when the file is not a
    CAD CSV at all, or when no row could be imported."""
    from rtcc.cameras.locator import CameraLocator
    from rtcc.core.actor import cli_actor
    from rtcc.incidents.adapters.cad_folder import RetryLater, agency_exists, cad_actor, import_file

    with runtime_for(data_dir) as runtime:
        if not agency_exists(runtime):
            err.print(f"[red]Agency {runtime.settings.effective_cad_agency_ori} does not exist[/red] "
                      "(set RTCC_CAD_AGENCY_ORI, or create it: rtcc agency create ORI NAME).")
            raise typer.Exit(1)
        actor = cad_actor(runtime.settings, via="cli", username=cli_actor().username, source_address="local")
        try:
            report = import_file(runtime, locator=CameraLocator(), actor=actor, path=file)
        except RetryLater as error:
            err.print(f"[red]Not imported:[/red] {escape(str(error))}")
            raise typer.Exit(1)
    if as_json:
        print(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    else:
        out.print(escape(report.summary_text()))
        for line in report.lines:
            if line.outcome == "rejected":
                out.print(f"  line {line.line} ({escape(line.call_id or 'no call id')}): {escape(line.reason or '')}")
    imported = report.summary["rows"] - report.summary["rejected"]
    if report.status == "rejected" or (report.lines and not imported):
        raise typer.Exit(1)
