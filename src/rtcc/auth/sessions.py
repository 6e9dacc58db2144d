"""Sign-in (banner, password, TOTP, first-time password change), lockout, sessions and sign-out."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import passwords, totp
from rtcc.auth.events import UserLocked, UserSignedIn
from rtcc.auth.handover import forget_handover
from rtcc.auth.models import SignInAttempt, User, UserSession
from rtcc.auth.permissions import permissions_of
from rtcc.auth.service import account_status, end_sessions, find_user
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import (
    AccountDisabled,
    AccountLocked,
    AuthenticationFailed,
    AuthenticationRequired,
    InvalidInput,
)
from rtcc.core.runtime import Runtime

# The one answer to a wrong password, an unknown username and a locked account alike, so the answer never
# tells an outsider which usernames exist (the lockout still holds: the right password is refused too).
WRONG_CREDENTIALS = ("Wrong username or password. After repeated failures an account is locked until an "
                     "administrator unlocks it.")
# last_seen_at is written at most this often; idle timeouts are 30 minutes, so a few seconds is noise.
TOUCH_INTERVAL = timedelta(seconds=15)
# Said once an account locks mid-sign-in (the person has proven the password, so this tells no outsider anything).
LOCKED_NOW = ("Too many {what}: this account is now locked. An administrator can unlock it in the console, or on the "
              "server with `rtcc user unlock {username}` (`rtcc user reset {username}` issues a fresh one-time password).")


def hash_token(raw_token: str) -> str:
    """Session and API tokens are stored as SHA-256 of the random value (they are 256-bit random)."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


@dataclass
class SignInStep:
    """Where a sign-in stands after a step, and what the client must do next."""

    user_session: UserSession
    raw_token: str | None
    next_step: str  # enrol_mfa | verify_mfa | change_password | done
    enrolment_secret: str | None = None
    enrolment_uri: str | None = None


def user_actor(user: User, *, via: str, permissions: frozenset[str], source_address: str | None, **ids) -> Actor:
    """A person's Actor: who they are, their agency and camera groups, with the permissions this way in grants
    (ids: session_id or token_id)."""
    return Actor(
        via=via,
        username=user.username,
        user_id=user.id,
        role=user.role,
        agency_ori=user.agency.ori,
        permissions=permissions,
        camera_groups=tuple(user.camera_groups) if user.camera_groups is not None else None,
        source_address=source_address,
        **ids,
    )


def actor_for(user_session: UserSession, *, source_address: str | None) -> Actor:
    """The Actor a session acts as."""
    user = user_session.user
    permissions = permissions_of(user.role) if user_session.stage == "active" else frozenset()
    return user_actor(user, via="session", permissions=permissions, source_address=source_address,
                      session_id=user_session.id)


def _attempt_actor(user: User | None, username: str, source_address: str | None) -> Actor:
    return Actor(
        via="anonymous",
        username=(user.username if user else username[:64]) or None,
        user_id=user.id if user else None,
        agency_ori=user.agency.ori if user else None,
        source_address=source_address,
    )


def recent_failures(session: Session, *, user: User, window_minutes: int) -> int:
    """Failed attempts inside the window since the last full sign-in or unlock."""
    since = clock.utcnow() - timedelta(minutes=window_minutes)
    last_reset = session.execute(
        select(func.max(SignInAttempt.at)).where(
            SignInAttempt.user_id == user.id,
            SignInAttempt.succeeded.is_(True),
            SignInAttempt.stage.in_(("mfa", "unlock")),
        )
    ).scalar_one_or_none()
    if last_reset is not None and last_reset > since:
        since = last_reset
    return session.execute(
        select(func.count()).select_from(SignInAttempt).where(
            SignInAttempt.user_id == user.id,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.at >= since,
        )
    ).scalar_one()


def tries_left(session: Session, *, runtime: Runtime, user: User) -> int:
    """Failed attempts the account may still make before it locks (0 once locked)."""
    if user.locked_at is not None:
        return 0
    settings = runtime.settings
    failures = recent_failures(session, user=user, window_minutes=settings.lockout_window_minutes)
    return max(settings.lockout_attempts - failures, 0)


def record_sign_in_failure(session: Session, *, runtime: Runtime, user: User, stage: str, actor: Actor, reason: str) -> bool:
    """Count a failed attempt, lock the account at the limit; returns whether it is now locked."""
    session.add(SignInAttempt(user_id=user.id, at=clock.utcnow(), stage=stage, succeeded=False, source_address=actor.source_address))
    session.flush()
    audit.record(
        session, keys=runtime.keys, actor=actor, action="auth.sign_in", outcome="failure",
        object_type="user", object_id=user.username, details={"stage": stage, "reason": reason},
    )
    settings = runtime.settings
    if user.locked_at is None and recent_failures(session, user=user, window_minutes=settings.lockout_window_minutes) >= settings.lockout_attempts:
        user.locked_at = clock.utcnow()
        end_sessions(session, user=user, reason="account_locked")
        audit.record(
            session, keys=runtime.keys, actor=actor, event=UserLocked(agency_ori=user.agency.ori, username=user.username),
            object_type="user", object_id=user.username,
            details={"failed_attempts": settings.lockout_attempts, "window_minutes": settings.lockout_window_minutes},
        )
        return True
    return False


def begin_sign_in(
    session: Session,
    *,
    runtime: Runtime,
    username: str,
    password: str,
    banner_acknowledged: bool,
    source_address: str | None,
    user_agent: str | None = None,
) -> SignInStep:
    """Check the banner acknowledgement and password; on success open a session awaiting MFA.

    Failures are committed by the caller even though an error is raised (see api.py), so the
    lockout counter and the audit trail see every attempt.
    """
    username = (username or "").strip().lower()
    user = find_user(session, username=username)
    actor = _attempt_actor(user, username, source_address)
    if not banner_acknowledged:
        audit.record(session, keys=runtime.keys, actor=actor, action="auth.sign_in", outcome="failure",
                     object_type="user", object_id=username or None, details={"stage": "banner", "reason": "banner not acknowledged"})
        raise InvalidInput("The system-use notification must be acknowledged to sign in.", code="banner_not_acknowledged")
    password_ok = passwords.verify_password(user.password_hash if user else None, password or "", settings=runtime.settings)
    if user is None:
        audit.record(session, keys=runtime.keys, actor=actor, action="auth.sign_in", outcome="failure",
                     object_type="user", object_id=username or None, details={"stage": "password", "reason": "unknown account"})
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    status = account_status(user)
    if status == "locked":
        audit.record(session, keys=runtime.keys, actor=actor, action="auth.sign_in", outcome="failure",
                     object_type="user", object_id=username, details={"stage": "password", "reason": "account locked"})
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    if not password_ok:
        record_sign_in_failure(session, runtime=runtime, user=user, stage="password", actor=actor, reason="wrong password")
        raise AuthenticationFailed(WRONG_CREDENTIALS)
    _refuse_if_inactive(session, runtime=runtime, user=user, actor=actor)
    if passwords.needs_rehash(user.password_hash, settings=runtime.settings):
        user.password_hash = passwords.hash_password(password, settings=runtime.settings)
    raw_token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    user_session = UserSession(
        token_hash=hash_token(raw_token), user_id=user.id, stage="mfa", csrf_token=secrets.token_urlsafe(24),
        created_at=now, last_seen_at=now, source_address=source_address, user_agent=(user_agent or "")[:300] or None,
    )
    user_session.user = user
    session.add(user_session)
    session.add(SignInAttempt(user_id=user.id, at=now, stage="password", succeeded=True, source_address=source_address))
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, action="auth.password_verified", object_type="user",
                 object_id=username, details={"banner_acknowledged": True})
    if user.mfa_enrolled_at is None:
        secret = runtime.keys.decrypt(user.totp_secret_encrypted)
        uri = totp.provisioning_uri(secret, username=user.username, issuer=runtime.settings.totp_issuer)
        return SignInStep(user_session, raw_token, "enrol_mfa", enrolment_secret=secret, enrolment_uri=uri)
    return SignInStep(user_session, raw_token, "verify_mfa")


def _refuse_if_inactive(session: Session, *, runtime: Runtime, user: User, actor: Actor) -> None:
    """Disable accounts found expired or idle, and refuse any disabled account."""
    now = clock.utcnow()
    status = account_status(user, now=now)
    last_used = user.last_sign_in_at or user.created_at
    if status == "expired":
        user.disabled_at, user.disabled_reason = now, "temporary account expired"
    elif status == "active" and last_used < now - timedelta(days=runtime.settings.account_idle_days):
        user.disabled_at, user.disabled_reason = now, f"inactive for {runtime.settings.account_idle_days} days"
    if user.disabled_at is not None:
        audit.record(session, keys=runtime.keys, actor=actor, action="auth.sign_in", outcome="failure",
                     object_type="user", object_id=user.username, details={"stage": "password", "reason": user.disabled_reason})
        raise AccountDisabled(f"This account is disabled ({user.disabled_reason}). Contact an administrator.")


def complete_mfa(session: Session, *, runtime: Runtime, user_session: UserSession, code: str, source_address: str | None) -> SignInStep:
    """Check the TOTP code (enrolling the authenticator on first use) and advance the session."""
    user = user_session.user
    actor = _attempt_actor(user, user.username, source_address)
    if account_status(user) != "active":
        end_sessions(session, user=user, reason="account_unavailable")
        raise AccountLocked("This account is locked or disabled.")
    secret = runtime.keys.decrypt(user.totp_secret_encrypted)
    step = totp.matching_step(secret, code, valid_window=runtime.settings.totp_valid_window)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        reason = "wrong code" if step is None else "code already used"
        if record_sign_in_failure(session, runtime=runtime, user=user, stage="mfa", actor=actor, reason=reason):
            raise AccountLocked(LOCKED_NOW.format(what="failed sign-ins", username=user.username))
        left = tries_left(session, runtime=runtime, user=user)
        raise AuthenticationFailed(
            f"That code is not valid. Enter the current 6-digit code from your authenticator ({_tries(left)}).",
            code="invalid_mfa_code", details={"tries_left": left},
        )
    now = clock.utcnow()
    user.totp_last_step = step
    if user.mfa_enrolled_at is None:
        user.mfa_enrolled_at = now
        audit.record(session, keys=runtime.keys, actor=actor, action="auth.mfa_enrolled", object_type="user", object_id=user.username)
        _forget_demo_handover_after_commit(session, runtime=runtime, username=user.username)
    session.add(SignInAttempt(user_id=user.id, at=now, stage="mfa", succeeded=True, source_address=source_address))
    user_session.authenticated_at = now
    user_session.last_seen_at = now
    user.last_sign_in_at = now
    raw_token = rotate_session_token(user_session)
    if user.must_change_password:
        user_session.stage = "password_change"
        return SignInStep(user_session, raw_token, "change_password")
    user_session.stage = "active"
    _signed_in(session, runtime=runtime, user_session=user_session, actor=actor)
    return SignInStep(user_session, raw_token, "done")


def _signed_in(session: Session, *, runtime: Runtime, user_session: UserSession, actor: Actor) -> None:
    user = user_session.user
    audit.record(session, keys=runtime.keys, actor=actor, event=UserSignedIn(agency_ori=user.agency.ori, username=user.username),
                 object_type="user", object_id=user.username, details={"session": user_session.id})


def change_password(
    session: Session, *, runtime: Runtime, user_session: UserSession, current_password: str, new_password: str,
    source_address: str | None,
) -> SignInStep:
    """Set a new password (required after a one-time password); completes a pending sign-in."""
    user = user_session.user
    settings = runtime.settings
    actor = actor_for(user_session, source_address=source_address)
    if not passwords.verify_password(user.password_hash, current_password or "", settings=settings):
        if record_sign_in_failure(session, runtime=runtime, user=user, stage="password", actor=actor, reason="wrong current password"):
            raise AccountLocked(LOCKED_NOW.format(what="wrong passwords", username=user.username))
        left = tries_left(session, runtime=runtime, user=user)
        wanted = "one-time password you were given" if user.must_change_password else "current password"
        raise AuthenticationFailed(f"That is not the {wanted} ({_tries(left)}).", code="wrong_current_password",
                                   details={"tries_left": left})
    passwords.check_password_policy(new_password, username=user.username, min_length=settings.password_min_length,
                                    min_strength=settings.password_min_strength, user_inputs=(user.display_name,))
    if passwords.verify_password(user.password_hash, new_password, settings=settings):
        raise InvalidInput("The new password must differ from the current one.", code="password_reused")
    user.password_hash = passwords.hash_password(new_password, settings=settings)
    user.must_change_password = False
    user.password_changed_at = clock.utcnow()
    audit.record(session, keys=runtime.keys, actor=actor, action="auth.password_changed", object_type="user", object_id=user.username)
    raw_token = rotate_session_token(user_session)
    if user_session.stage == "password_change":
        user_session.stage = "active"
        _signed_in(session, runtime=runtime, user_session=user_session, actor=actor)
    return SignInStep(user_session, raw_token, "done")


def rotate_session_token(user_session: UserSession) -> str:
    """A new cookie token and CSRF token for a session stepping up; the old ones are worth nothing (ASVS 3.2.1)."""
    raw_token = secrets.token_urlsafe(32)
    user_session.token_hash = hash_token(raw_token)
    user_session.csrf_token = secrets.token_urlsafe(24)
    return raw_token


def _tries(left: int) -> str:
    return f"{left} {'try' if left == 1 else 'tries'} left before the account locks"


def _forget_demo_handover_after_commit(session: Session, *, runtime: Runtime, username: str) -> None:
    """Once an account has enrolled, the demo's saved first-start credentials for it are removed (after commit:
    a rolled-back enrolment keeps them)."""
    data_dir = runtime.settings.data_dir
    sqlalchemy_event.listen(session, "after_commit", lambda _: forget_handover(data_dir, username), once=True)


def resolve_session(session: Session, *, runtime: Runtime, raw_token: str, touch: bool = True) -> UserSession:
    """The live session for a cookie token; ends it (and says why) when idle, too old or the account is unusable.

    `touch=False` checks without counting as activity (a live event feed is not a person at work).
    """
    user_session = session.execute(
        select(UserSession).where(UserSession.token_hash == hash_token(raw_token))
    ).scalar_one_or_none()
    if user_session is None or user_session.ended_at is not None:
        raise AuthenticationRequired("Your session has ended. Sign in again.", code="session_ended")
    now = clock.utcnow()
    settings = runtime.settings
    reason = None
    if user_session.stage != "active" and now - user_session.created_at > timedelta(minutes=settings.sign_in_pending_minutes):
        reason = "sign_in_timeout"
    elif now - user_session.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        reason = "idle_timeout"
    elif now - (user_session.authenticated_at or user_session.created_at) > timedelta(hours=settings.session_max_hours):
        reason = "reauthentication_required"
    elif account_status(user_session.user, now=now) != "active":
        reason = "account_unavailable"
    if reason:
        user_session.ended_at, user_session.end_reason = now, reason
        audit.record(session, keys=runtime.keys, actor=actor_for(user_session, source_address=None),
                     action="auth.session_ended", object_type="session", object_id=user_session.id, details={"reason": reason})
        raise AuthenticationRequired(_ENDED_MESSAGES[reason], code=reason)
    if touch and now - user_session.last_seen_at >= TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return user_session


_ENDED_MESSAGES = {
    "sign_in_timeout": "The sign-in took too long. Start again.",
    "idle_timeout": "Your session ended after a period of inactivity. Sign in again.",
    "reauthentication_required": "Sessions must re-authenticate periodically. Sign in again.",
    "account_unavailable": "Your account is locked or disabled.",
}


def sign_out(session: Session, *, runtime: Runtime, user_session: UserSession, source_address: str | None) -> None:
    """End the session on the server; the cookie alone is worth nothing afterwards."""
    user_session.ended_at, user_session.end_reason = clock.utcnow(), "signed_out"
    audit.record(session, keys=runtime.keys, actor=actor_for(user_session, source_address=source_address),
                 action="auth.sign_out", object_type="session", object_id=user_session.id)
