"""Accounts and agencies: creation, changes, unlock, disable, and the account lifecycle sweep."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import passwords, scope, totp
from rtcc.auth.events import UserCreated, UserUpdated
from rtcc.auth.models import Agency, SignInAttempt, User, UserSession
from rtcc.auth.permissions import ROLES
from rtcc.core import clock
from rtcc.core.actor import SYSTEM, Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound
from rtcc.core.runtime import Runtime

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
ORI_PATTERN = re.compile(r"^[A-Z0-9]{9}$")


@dataclass
class CredentialReset:
    """A reset's one-time password to hand over; the authenticator is enrolled afresh, by its owner, at the next sign-in."""

    user: User
    one_time_password: str


@dataclass
class NewAccount:
    """What the creator of an account must hand over once: it is never shown again."""

    user: User
    one_time_password: str
    totp_secret: str
    totp_uri: str


def account_status(user: User, *, now: datetime | None = None) -> str:
    """active, locked, disabled or expired: what stops (or not) a sign-in."""
    now = now or clock.utcnow()
    if user.disabled_at is not None:
        return "disabled"
    if user.expires_at is not None and user.expires_at <= now:
        return "expired"
    if user.locked_at is not None:
        return "locked"
    return "active"


def get_agency(session: Session, *, ori: str) -> Agency:
    """The agency with this ORI, or NotFound."""
    agency = session.execute(select(Agency).where(Agency.ori == ori)).scalar_one_or_none()
    if agency is None:
        raise NotFound(f"No agency with ORI {ori}.", code="agency_not_found")
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.execute(select(Agency).order_by(Agency.ori)).scalars())


def create_agency(session: Session, *, runtime: Runtime, actor: Actor, ori: str, name: str) -> Agency:
    """Register an agency by ORI (9 upper-case letters and digits)."""
    ori = ori.strip().upper()
    if not ORI_PATTERN.match(ori):
        raise InvalidInput("ORI must be 9 letters or digits.", code="invalid_ori")
    if session.execute(select(Agency).where(Agency.ori == ori)).scalar_one_or_none():
        raise Conflict(f"Agency {ori} already exists.", code="agency_exists")
    agency = Agency(ori=ori, name=name.strip(), created_at=clock.utcnow())
    session.add(agency)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, action="agency.create", object_type="agency", object_id=ori)
    return agency


def ensure_agency(session: Session, *, runtime: Runtime, ori: str, name: str) -> Agency:
    """The agency with this ORI, created (and audited as the system) if missing."""
    existing = session.execute(select(Agency).where(Agency.ori == ori.upper())).scalar_one_or_none()
    return existing or create_agency(session, runtime=runtime, actor=SYSTEM, ori=ori, name=name)


def get_user(session: Session, *, username: str) -> User:
    """The account with this username, or NotFound."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No account named {username}.", code="user_not_found")
    return user


def find_user(session: Session, *, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def list_users(session: Session, *, agency_ori: str | None = None, role: str | None = None) -> list[User]:
    statement = select(User).order_by(User.username)
    if agency_ori:
        statement = statement.join(Agency).where(Agency.ori == agency_ori)
    if role:
        statement = statement.where(User.role == role)
    return list(session.execute(statement).scalars())


def list_users_audited(session: Session, *, runtime: Runtime, actor: Actor, role: str | None = None,
                       via: str | None = None) -> list[User]:
    """The accounts the actor may see (optionally of one role), by username; the look is on record."""
    users = list_users(session, agency_ori=scope.account_agency_filter(actor), role=role)
    audit.record(session, keys=runtime.keys, actor=actor, action="user.list", object_type="user",
                 query_terms={"role": role} if role else None, details={"count": len(users), **({"via": via} if via else {})})
    return users


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; roles are: {', '.join(ROLES)}.", code="invalid_role")


def create_user(
    session: Session,
    *,
    runtime: Runtime,
    actor: Actor,
    username: str,
    role: str,
    agency_ori: str,
    display_name: str = "",
    expires_at: datetime | None = None,
    camera_groups: list[str] | None = None,
) -> NewAccount:
    """Create an account with a one-time password and a TOTP secret, both shown once."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "Username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'.", code="invalid_username"
        )
    _check_role(role)
    if find_user(session, username=username):
        raise Conflict(f"An account named {username} already exists.", code="user_exists")
    agency = get_agency(session, ori=agency_ori.strip().upper())
    if expires_at is not None and expires_at <= clock.utcnow():
        raise InvalidInput("Expiry must be in the future.", code="invalid_expiry")
    one_time_password = passwords.generate_one_time_password()
    secret = totp.new_secret()
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        agency_id=agency.id,
        password_hash=passwords.hash_password(one_time_password, settings=runtime.settings),
        must_change_password=True,
        totp_secret_encrypted=runtime.keys.encrypt(secret),
        camera_groups=camera_groups,
        expires_at=expires_at,
        created_at=clock.utcnow(),
        created_by=actor.username,
    )
    session.add(user)
    session.flush()
    user.agency = agency
    audit.record(
        session, keys=runtime.keys, actor=actor, event=UserCreated(agency_ori=agency.ori, username=username, role=role),
        object_type="user", object_id=username,
        details={"role": role, "agency": agency.ori, "temporary_until": clock.iso(expires_at), "camera_groups": camera_groups},
    )
    uri = totp.provisioning_uri(secret, username=username, issuer=runtime.settings.totp_issuer)
    return NewAccount(user=user, one_time_password=one_time_password, totp_secret=secret, totp_uri=uri)


def update_user(
    session: Session,
    *,
    runtime: Runtime,
    actor: Actor,
    username: str,
    changes: dict,
) -> User:
    """Change role, display name, camera groups or expiry; other fields have their own actions."""
    user = get_user(session, username=username)
    allowed = {"role", "display_name", "camera_groups", "expires_at"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))} here.", code="invalid_change")
    if "role" in changes:
        _check_role(changes["role"])
        if user.username == actor.username and changes["role"] != user.role:
            raise InvalidInput("You cannot change your own role.", code="own_role")
    before = {key: getattr(user, key) for key in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    audit.record(
        session, keys=runtime.keys, actor=actor,
        event=UserUpdated(agency_ori=user.agency.ori, username=username, changed=sorted(changes)),
        object_type="user", object_id=username,
        details={"before": {k: clock.iso(v) if isinstance(v, datetime) else v for k, v in before.items()},
                 "after": {k: clock.iso(v) if isinstance(v, datetime) else v for k, v in changes.items()}},
    )
    return user


def unlock_user(session: Session, *, runtime: Runtime, actor: Actor, username: str) -> User:
    """Lift a lockout; failed attempts before now no longer count."""
    user = get_user(session, username=username)
    was_locked = user.locked_at is not None
    user.locked_at = None
    # A successful 'unlock' attempt resets the failure count the lockout reads.
    session.add(SignInAttempt(user_id=user.id, at=clock.utcnow(), stage="unlock", succeeded=True, source_address=actor.source_address))
    audit.record(
        session, keys=runtime.keys, actor=actor, action="user.unlock",
        event=UserUpdated(agency_ori=user.agency.ori, username=username, changed=["locked"]),
        object_type="user", object_id=username, details={"was_locked": was_locked},
    )
    return user


def end_sessions(session: Session, *, user: User, reason: str) -> int:
    """End every open session of an account; returns how many."""
    open_sessions = session.execute(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).scalars()
    count = 0
    for open_session in open_sessions:
        open_session.ended_at, open_session.end_reason = clock.utcnow(), reason
        count += 1
    return count


def disable_user(session: Session, *, runtime: Runtime, actor: Actor, username: str, reason: str = "disabled by administrator") -> User:
    """Disable an account and end its sessions; its tokens stop working with it."""
    user = get_user(session, username=username)
    if user.username == actor.username:
        raise InvalidInput("You cannot disable your own account.", code="own_account")
    user.disabled_at, user.disabled_reason = clock.utcnow(), reason[:200]
    ended = end_sessions(session, user=user, reason="account_disabled")
    audit.record(
        session, keys=runtime.keys, actor=actor, action="user.disable",
        event=UserUpdated(agency_ori=user.agency.ori, username=username, changed=["disabled"]),
        object_type="user", object_id=username, details={"reason": reason, "sessions_ended": ended},
    )
    return user


def enable_user(session: Session, *, runtime: Runtime, actor: Actor, username: str, expires_at: datetime | None = None) -> User:
    """Re-enable a disabled or expired account (optionally with a new expiry)."""
    user = get_user(session, username=username)
    user.disabled_at, user.disabled_reason = None, None
    if expires_at is not None or (user.expires_at and user.expires_at <= clock.utcnow()):
        user.expires_at = expires_at
    # Counted from now, so a long-idle account is not disabled again at once.
    user.last_sign_in_at = clock.utcnow()
    audit.record(session, keys=runtime.keys, actor=actor, action="user.enable",
                 event=UserUpdated(agency_ori=user.agency.ori, username=username, changed=["enabled"]),
                 object_type="user", object_id=username)
    return user


def reset_credentials(session: Session, *, runtime: Runtime, actor: Actor, username: str) -> CredentialReset:
    """A new one-time password (lost phone, forgotten password, lockout); lifts a lockout.

    The new TOTP secret is shown to no one here: the user enrols it at the next sign-in, so whoever
    resets an account never holds both factors of it.
    """
    user = get_user(session, username=username)
    one_time_password = passwords.generate_one_time_password()
    user.password_hash = passwords.hash_password(one_time_password, settings=runtime.settings)
    user.must_change_password = True
    user.totp_secret_encrypted = runtime.keys.encrypt(totp.new_secret())
    user.mfa_enrolled_at, user.totp_last_step = None, None
    was_locked = user.locked_at is not None
    user.locked_at = None
    # As after an unlock, failures before the reset no longer count towards the next lockout.
    session.add(SignInAttempt(user_id=user.id, at=clock.utcnow(), stage="unlock", succeeded=True, source_address=actor.source_address))
    ended = end_sessions(session, user=user, reason="credentials_reset")
    audit.record(
        session, keys=runtime.keys, actor=actor, action="user.reset_credentials",
        event=UserUpdated(agency_ori=user.agency.ori, username=username, changed=["credentials"]),
        object_type="user", object_id=username,
        details={"sessions_ended": ended, "was_locked": was_locked, "mfa": "enrol at next sign-in"},
    )
    return CredentialReset(user=user, one_time_password=one_time_password)


def sweep_account_lifecycle(session: Session, *, runtime: Runtime) -> list[tuple[str, str]]:
    """Disable temporary accounts past their date and accounts idle past the limit; returns (username, reason)."""
    now = clock.utcnow()
    idle_cutoff = now - timedelta(days=runtime.settings.account_idle_days)
    candidates = session.execute(
        select(User).where(
            User.disabled_at.is_(None),
            or_(
                User.expires_at <= now,
                User.last_sign_in_at < idle_cutoff,
                (User.last_sign_in_at.is_(None)) & (User.created_at < idle_cutoff),
            ),
        )
    ).scalars()
    disabled = []
    for user in candidates:
        reason = "temporary account expired" if user.expires_at and user.expires_at <= now else (
            f"inactive for {runtime.settings.account_idle_days} days"
        )
        user.disabled_at, user.disabled_reason = now, reason
        end_sessions(session, user=user, reason="account_disabled")
        audit.record(
            session, keys=runtime.keys, actor=SYSTEM, action="user.disable", object_type="user",
            object_id=user.username, details={"reason": reason},
        )
        disabled.append((user.username, reason))
    return disabled
