"""`rtcc export ...`: evidence exports (BagIt bags of recorded video)."""

from __future__ import annotations

from pathlib import Path

import typer

export_app = typer.Typer(help="Evidence exports.", no_args_is_help=True)


@export_app.command("verify")
def export_verify(path: Path = typer.Argument(..., help="Evidence bag directory.")) -> None:
    """Check an evidence bag: every SHA-256, the tag manifest and the custody-log chain."""
    from rtcc.video.evidence.bag_verify import verify_command

    code = verify_command(path)
    if code:
        raise typer.Exit(code)
