"""`rtcc user ...` and `rtcc agency ...`: accounts and agencies from the server's console."""

from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from rtcc.cli.common import DataDir, err, out, runtime_for
from rtcc.core.errors import RTCCError

user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
agency_app = typer.Typer(help="Agencies.", no_args_is_help=True)


def _print_credentials(new, *, qr: bool) -> None:
    from rtcc.auth import totp

    out.print(f"Account [bold]{new.user.username}[/bold] ({new.user.role}, agency {new.user.agency.ori})")
    out.print(f"One-time password: [bold]{new.one_time_password}[/bold]  (must be changed at first sign-in)")
    out.print(f"TOTP secret:       [bold]{new.totp_secret}[/bold]  (add to an authenticator app)")
    out.print(f"TOTP URI:          {new.totp_uri}")
    if qr:
        out.print(totp.qr_text(new.totp_uri), highlight=False)
    out.print("These are shown once. Hand them over in person.")


@user_app.command("create")
def user_create(
    username: str,
    role: str = typer.Option(..., "--role", help="admin, supervisor, analyst, operator, field_officer, auditor, partner_agency or camera_owner."),
    agency: Optional[str] = typer.Option(None, "--agency", help="Agency ORI; created if new. Default: the only agency."),
    display_name: str = typer.Option("", "--name", help="Display name."),
    expires: Optional[datetime] = typer.Option(None, "--expires", help="Temporary account: disabled at this UTC time."),
    qr: bool = typer.Option(False, "--qr", help="Also draw the TOTP QR code."),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Create an account; prints a one-time password and the TOTP secret."""
    from datetime import timezone

    from rtcc.auth import service
    from rtcc.core.actor import cli_actor

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            actor = cli_actor()
            if agency is None:
                agencies = service.list_agencies(db)
                if len(agencies) != 1:
                    err.print("[red]Give --agency ORI (there is not exactly one agency).[/red]")
                    raise typer.Exit(2)
                agency = agencies[0].ori
            if service.find_user(db, username=username.lower()) is None:
                try:
                    service.get_agency(db, ori=agency.upper())
                except RTCCError:
                    service.create_agency(db, runtime=runtime, actor=actor, ori=agency, name=agency.upper())
                    out.print(f"Created agency {agency.upper()}.")
            new = service.create_user(
                db, runtime=runtime, actor=actor, username=username, role=role, agency_ori=agency,
                display_name=display_name, expires_at=expires.replace(tzinfo=timezone.utc) if expires and expires.tzinfo is None else expires,
            )
        _print_credentials(new, qr=qr)


def _account_action(name: str, username: str, data_dir: Optional[Path], **kwargs) -> None:
    from rtcc.auth import service
    from rtcc.core.actor import cli_actor

    operation = {"unlock": service.unlock_user, "disable": service.disable_user, "enable": service.enable_user}[name]
    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            user = operation(db, runtime=runtime, actor=cli_actor(), username=username, **kwargs)
            out.print(f"{user.username}: {service.account_status(user)}")


@user_app.command("unlock")
def user_unlock(username: str, data_dir: Optional[Path] = DataDir) -> None:
    """Lift a lockout after failed sign-ins."""
    _account_action("unlock", username, data_dir)


@user_app.command("disable")
def user_disable(
    username: str,
    reason: str = typer.Option("disabled by administrator", "--reason"),
    data_dir: Optional[Path] = DataDir,
) -> None:
    """Disable an account and end its sessions."""
    _account_action("disable", username, data_dir, reason=reason)


@user_app.command("enable")
def user_enable(username: str, data_dir: Optional[Path] = DataDir) -> None:
    """Re-enable a disabled or expired account."""
    _account_action("enable", username, data_dir)


@user_app.command("reset")
def user_reset(username: str, data_dir: Optional[Path] = DataDir) -> None:
    """Issue a fresh one-time password and lift a lockout; the user enrols a new authenticator at the next sign-in."""
    from rtcc.auth import service
    from rtcc.core.actor import cli_actor

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            reset = service.reset_credentials(db, runtime=runtime, actor=cli_actor(), username=username)
            account = f"{reset.user.username} ({reset.user.role}, agency {reset.user.agency.ori})"
    out.print(f"Account [bold]{account}[/bold]: {service.account_status(reset.user)}")
    out.print(f"One-time password: [bold]{reset.one_time_password}[/bold]  (must be changed at the next sign-in)")
    out.print("The next sign-in enrols a new authenticator; its key is shown only there, to the user. "
              "Hand the one-time password over in person.")


@user_app.command("list")
def user_list(data_dir: Optional[Path] = DataDir) -> None:
    """Every account with its status."""
    from rich.table import Table

    from rtcc.auth import service
    from rtcc.core import clock
    from rtcc.core.actor import cli_actor

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            users = service.list_users_audited(db, runtime=runtime, actor=cli_actor(), via="cli")
            table = Table("username", "role", "agency", "status", "mfa", "last sign-in")
            for user in users:
                table.add_row(user.username, user.role, user.agency.ori, service.account_status(user),
                              "yes" if user.mfa_enrolled_at else "pending", clock.iso(user.last_sign_in_at) or "never")
    out.print(table)


@user_app.command("sweep")
def user_sweep(data_dir: Optional[Path] = DataDir) -> None:
    """Disable expired temporary accounts and accounts idle past the limit (the server does this hourly)."""
    from rtcc.auth import service

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            disabled = service.sweep_account_lifecycle(db, runtime=runtime)
    for username, reason in disabled:
        out.print(f"disabled {username}: {reason}")
    out.print(f"{len(disabled)} account(s) disabled")


@agency_app.command("create")
def agency_create(ori: str, name: str, data_dir: Optional[Path] = DataDir) -> None:
    """Register an agency by its 9-character ORI."""
    from rtcc.auth import service
    from rtcc.core.actor import cli_actor

    with runtime_for(data_dir) as runtime:
        with runtime.database.session() as db:
            agency = service.create_agency(db, runtime=runtime, actor=cli_actor(), ori=ori, name=name)
            out.print(f"agency {agency.ori}: {agency.name}")


