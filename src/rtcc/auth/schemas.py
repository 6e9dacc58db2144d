"""Request and response bodies of the accounts, sign-in and token API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from rtcc.auth.models import ApiToken, User
from rtcc.auth.permissions import ROLES
from rtcc.auth.service import account_status


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignInRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    banner_acknowledged: bool = Field(description="The user acknowledged the system-use notification.")


class MfaRequest(Strict):
    code: str = Field(min_length=6, max_length=8, description="Current 6-digit TOTP code.")


class PasswordChangeRequest(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class SignInResponse(BaseModel):
    next_step: str = Field(description="enrol_mfa, verify_mfa, change_password or done.")
    csrf_token: str | None = Field(default=None, description="Send as X-CSRF-Token on unsafe requests.")
    totp_secret: str | None = Field(default=None, description="Only while enrolling MFA.")
    totp_uri: str | None = Field(default=None, description="otpauth:// URI, only while enrolling MFA.")


class BannerOut(BaseModel):
    text: str


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    agency_ori: str
    status: str
    mfa_enrolled: bool
    must_change_password: bool
    camera_groups: list[str] | None
    expires_at: datetime | None
    last_sign_in_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(
            username=user.username, display_name=user.display_name, role=user.role, agency_ori=user.agency.ori,
            status=account_status(user), mfa_enrolled=user.mfa_enrolled_at is not None,
            must_change_password=user.must_change_password, camera_groups=user.camera_groups,
            expires_at=user.expires_at, last_sign_in_at=user.last_sign_in_at, created_at=user.created_at,
        )


class MeOut(UserOut):
    permissions: list[str]


class UserCreate(Strict):
    username: str = Field(min_length=2, max_length=64)
    role: str = Field(description=f"One of: {', '.join(ROLES)}.")
    agency_ori: str = Field(min_length=9, max_length=9)
    display_name: str = Field(default="", max_length=200)
    expires_at: datetime | None = Field(default=None, description="Temporary account: disabled at this time.")
    camera_groups: list[str] | None = Field(default=None, description="Restrict to these camera groups; null for all.")


class UserUpdate(Strict):
    role: str | None = None
    display_name: str | None = Field(default=None, max_length=200)
    camera_groups: list[str] | None = None
    expires_at: datetime | None = None


class NewCredentialsOut(BaseModel):
    user: UserOut
    one_time_password: str = Field(description="Shown once; must be changed at first sign-in.")
    totp_secret: str = Field(description="Shown once; enrol it in an authenticator app.")
    totp_uri: str


class CredentialResetOut(BaseModel):
    user: UserOut
    one_time_password: str = Field(description="Shown once; must be changed at the next sign-in.")
    next_sign_in: str = Field(default="The user enrols a new authenticator at the next sign-in; no one else sees its key.")


class DisableRequest(Strict):
    reason: str = Field(default="disabled by administrator", min_length=3, max_length=200)


class AgencyOut(BaseModel):
    ori: str
    name: str
    created_at: datetime


class AgencyCreate(Strict):
    ori: str = Field(min_length=9, max_length=9)
    name: str = Field(min_length=2, max_length=200)


class TokenCreate(Strict):
    username: str = Field(description="The account the token acts as.")
    name: str = Field(min_length=2, max_length=100)
    permissions: list[str] = Field(min_length=1)
    expires_in_days: int = Field(default=90, ge=1, le=3650)


class OwnTokenCreate(Strict):
    name: str = Field(min_length=2, max_length=100)
    permissions: list[str] = Field(min_length=1, description="Permissions your own role holds.")
    expires_in_days: int = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    username: str
    permissions: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> "TokenOut":
        return cls(
            id=token.id, name=token.name, prefix=token.prefix, username=token.user.username,
            permissions=token.permissions, created_at=token.created_at, created_by=token.created_by,
            expires_at=token.expires_at, revoked_at=token.revoked_at, last_used_at=token.last_used_at,
        )


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Shown once. Send as 'Authorization: Bearer <token>'.")


class RoleOut(BaseModel):
    role: str
    permissions: list[str]
