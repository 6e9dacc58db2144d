"""Accounts and sign-in settings (`RTCC_PASSWORD_*`, `RTCC_LOCKOUT_*`, `RTCC_SESSION_*`, ...)."""

from __future__ import annotations

from pydantic import Field, field_validator

from rtcc.core.config import CoreSettings

DEFAULT_BANNER = (
    "You are accessing a criminal justice information system. Usage may be monitored, "
    "recorded and audited. Unauthorized use is prohibited and subject to criminal and civil "
    "penalties. Use of this system indicates consent to monitoring and recording."
)


class AuthSettings(CoreSettings):
    """Accounts, passwords, MFA, sessions and API tokens (CJIS Security Policy 5.5, 5.6)."""

    password_min_length: int = Field(
        default=8, ge=8, le=128, description="Minimum password length (CJIS: at least 8)."
    )
    password_min_strength: int = Field(
        default=3, ge=0, le=4,
        description="Lowest zxcvbn strength score (0-4) a new password may have; 3 resists an offline guessing attack "
                    "on a slow hash, 0 turns the estimator off (the banned list and length still apply).",
    )
    password_hash_time_cost: int = Field(
        default=3, ge=1, le=20, description="Argon2id passes over memory per password hash (RFC 9106 low-memory: 3)."
    )
    password_hash_parallelism: int = Field(
        default=4, ge=1, le=64, description="Argon2id lanes per password hash (RFC 9106 low-memory: 4)."
    )
    password_hash_memory_kib: int = Field(
        default=65_536, ge=8, le=4_194_304,
        description="Argon2id memory per password hash in KiB (RFC 9106 low-memory: 65536 = 64 MiB); at least 8 x parallelism.",
    )
    lockout_attempts: int = Field(
        default=5, ge=1, le=5,
        description="Failed sign-ins within the lockout window that lock the account (CJIS: at most 5).",
    )
    lockout_window_minutes: int = Field(
        default=15, ge=1, le=1440, description="Window in which failed sign-ins are counted."
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=30, description="A session ends after this long without a request (CJIS: at most 30)."
    )
    session_max_hours: int = Field(
        default=12, ge=1, le=12, description="A session must re-authenticate after this long, active or not."
    )
    sign_in_pending_minutes: int = Field(
        default=10, ge=1, le=60,
        description="How long a half-finished sign-in (password accepted, MFA pending) stays valid.",
    )
    account_idle_days: int = Field(
        default=90, ge=1, le=365, description="Accounts not used for this many days are disabled."
    )
    account_sweep_minutes: float = Field(
        default=60, ge=0.1, le=1440,
        description="How often expired temporary accounts and accounts idle past account_idle_days are disabled.",
    )
    api_token_max_days: int = Field(
        default=365, ge=1, le=3650, description="Longest lifetime an API token may be issued with."
    )
    totp_issuer: str = Field(
        default="OpenRTCC", min_length=1, max_length=64, description="Issuer shown in authenticator apps."
    )
    totp_valid_window: int = Field(
        default=1, ge=0, le=2,
        description="TOTP steps of clock drift accepted either side of now (1 = plus or minus 30 s).",
    )
    system_use_banner: str = Field(
        default=DEFAULT_BANNER, min_length=20, max_length=4000,
        description="System-use notification that must be acknowledged at every sign-in.",
    )

    @field_validator("password_hash_memory_kib")
    @classmethod
    def _argon2_memory_fits_lanes(cls, value: int, info) -> int:
        # Argon2 needs 8 KiB per lane; refuse at start rather than at the first sign-in.
        lanes = info.data.get("password_hash_parallelism", 1)
        if value < 8 * lanes:
            raise ValueError(f"must be at least 8 x RTCC_PASSWORD_HASH_PARALLELISM ({8 * lanes} KiB)")
        return value
