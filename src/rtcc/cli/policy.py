"""`rtcc policy ...`: the sharing policy engine from the server's console: presets, agencies' kinds, decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from rtcc.cli.common import DataDir, out, runtime_for
from rtcc.core import clock

policy_app = typer.Typer(help="Sharing policies, agencies' kinds and the engine's decisions.", no_args_is_help=True)


@policy_app.command("presets")
def list_presets() -> None:
    """The presets shipped with the server, with their sources."""
    from rtcc.policy import presets

    for name, path in presets.shipped_presets().items():
        spec, _ = presets.parse_policy(path.read_text(encoding="utf-8"), origin=f"preset {name}")
        out.print(f"[bold]{name}[/bold] ({spec.jurisdiction}): {spec.title}\n  source: {spec.source}")


@policy_app.command("load")
def load(
    preset: Optional[str] = typer.Argument(None, help="A shipped preset (rtcc policy presets)."),
    file: Optional[Path] = typer.Option(None, "--file", help="Or a policy file (TOML)."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Put a preset or a policy file in force (refused whole when malformed, overlapping or contradictory)."""
    from rtcc.core.actor import cli_actor
    from rtcc.policy import service

    if (preset is None) == (file is None):
        raise typer.BadParameter("name a preset or give --file, one of the two")
    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            if preset is not None:
                policy = service.load_preset(db, runtime=runtime, actor=cli_actor(), name=preset)
            else:
                policy = service.load_policy(db, runtime=runtime, actor=cli_actor(),
                                             text=file.read_text(encoding="utf-8"), origin=str(file))
            out.print(f"In force: {policy.name} ({', '.join(rule['name'] for rule in policy.rules)})")


@policy_app.command("list")
def list_policies(data_dir: Optional[Path] = DataDir) -> None:
    """The policies in force."""
    from rtcc.policy import service

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            for policy in service.policies_in_force(db):
                out.print(f"[bold]{policy['name']}[/bold]: {policy['title']} (rules: {', '.join(policy['rules'])})")


@policy_app.command("agency")
def set_agency(
    ori: str,
    kind: str = typer.Option(..., "--kind", help="local, state, federal, private or out_of_state."),
    state: str = typer.Option(..., "--state", help="Two-letter USPS code of the agency's state."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Record an agency's kind and state (nothing is shared to an agency before)."""
    from rtcc.core.actor import cli_actor
    from rtcc.policy import service

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            agency, profile = service.set_agency_profile(db, runtime=runtime, actor=cli_actor(), ori=ori, kind=kind,
                                                         state=state)
            out.print(f"agency {agency.ori}: {profile.kind}, {profile.state}")


@policy_app.command("decisions")
def decisions(
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    refused: bool = typer.Option(False, "--refused", help="Only refusals."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """The engine's newest decisions, each with the rule that decided it."""
    from rtcc.core.actor import cli_actor
    from rtcc.policy import service

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            rows = service.list_decisions(db, actor=cli_actor(), allowed=False if refused else None, limit=limit)
            table = Table("at", "action", "by", "to", "class", "purpose", "outcome", "rule")
            for row in rows:
                table.add_row(clock.iso(row.at), row.action, row.actor_username or "", row.recipient_agency_ori or "",
                              row.data_class, row.purpose or "", "allowed" if row.allowed else "refused", row.rule)
            out.print(table)
