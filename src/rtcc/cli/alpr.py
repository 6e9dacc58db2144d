"""`rtcc alpr ...`: licence-plate reading from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from rtcc.cli.common import err, out

alpr_app = typer.Typer(help="Licence-plate reading.", no_args_is_help=True)


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
