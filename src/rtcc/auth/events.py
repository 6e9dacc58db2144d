"""Events of accounts and sign-in."""

from __future__ import annotations

from rtcc.core.events import Event


class AccountEvent(Event):
    """Something happened to an account; administrators of its agency may hear of it."""

    permission = "users.read"
    username: str


class UserCreated(AccountEvent):
    type = "user.created"
    audit_action = "user.create"
    role: str


class UserUpdated(AccountEvent):
    """An account changed; unlock, disable, enable and credential resets are audited under their own action."""

    type = "user.updated"
    audit_action = "user.update"
    changed: list[str]


class UserLocked(AccountEvent):
    """Too many failed sign-ins locked the account."""

    type = "user.locked"
    audit_action = "auth.lockout"


class UserSignedIn(AccountEvent):
    type = "user.signed_in"
    audit_action = "auth.sign_in"
