"""Settings: `RTCC_*` environment variables over an optional TOML file over documented defaults.

This module holds the base every group builds on (data dir, database, bus, HTTP limits, keys) and how
settings are read. Domain settings live in rtcc/<domain>/settings.py, each group a subclass of
CoreSettings; rtcc/settings.py composes them into the one `Settings` the server reads (core must not
import domains, so it is not here).
"""

# domain settings live in rtcc/<domain>/settings.py (composed in rtcc/settings.py); add a new one there.

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The TOML file: given by the CLI's --config option, or the RTCC_CONFIG_FILE variable.
CONFIG_FILE_ENV = "RTCC_CONFIG_FILE"
_config_file: Path | None = None


def known_time_zone(value: str) -> str:
    """An IANA time zone name as given (a settings validator's check), or a ValueError naming it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {value!r}") from error
    return value


def use_config_file(path: Path | None) -> None:
    """Read settings from this TOML file from now on (None: only RTCC_CONFIG_FILE, if set)."""
    global _config_file
    _config_file = path


# The same for every group, so each can also be read on its own (e.g. VideoSettings()).
SETTINGS_CONFIG = SettingsConfigDict(env_prefix="RTCC_", extra="forbid", validate_default=True)


class CoreSettings(BaseSettings):
    """What every process needs: data dir, database, event bus, HTTP limits and keys."""

    model_config = SETTINGS_CONFIG

    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory holding the SQLite file, media, keys and exports.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the system of record. Empty means SQLite at DATA_DIR/rtcc.sqlite3; "
            "postgresql+psycopg://user:pass@host/db selects PostgreSQL."
        ),
    )
    database_pool_size: int = Field(
        default=10, ge=1, le=200, description="Connections kept open to PostgreSQL per process."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=100, le=600_000,
        description="How long a SQLite writer waits for the write lock before failing.",
    )
    database_write_attempts: int = Field(
        default=6, ge=1, le=50,
        description=(
            "Tries a background write (segment index, plate read, CAD call) gets when the database is busy, locked "
            "or deadlocked, with growing pauses between; an item that still fails is kept and retried later."
        ),
    )
    database_write_backoff_max_ms: int = Field(
        default=2_000, ge=10, le=60_000, description="Longest pause between two tries of a busy database write."
    )
    busy_retry_after_seconds: int = Field(
        default=2, ge=1, le=3600,
        description="Retry-After of a 503 answer (database busy or audit unavailable: nothing was stored; resend).",
    )
    data_group: str | None = Field(
        default=None, max_length=64,
        description=(
            "Group that may read the data dir (e.g. a backup account's); the server makes its files group-readable "
            "for it. Empty: only the server's own account can read them."
        ),
    )
    bus_url: str = Field(
        default="inprocess://",
        description="Event bus: inprocess:// (single box) or nats://host:4222 (NATS JetStream).",
    )
    bus_stream: str = Field(
        default="RTCC", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="JetStream stream name that holds OpenRTCC events (subjects <bus_subject_prefix>.>).",
    )
    bus_subject_prefix: str = Field(
        default="rtcc", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="First token of the NATS subjects events go out on (<prefix>.<event type>). JetStream lets one "
                    "stream claim a subject, so two deployments (or test runs) sharing a NATS server each need their own.",
    )
    bus_subscriber_queue: int = Field(
        default=1000, ge=10, le=100_000,
        description="Events buffered per subscriber; past this the oldest are dropped and counted.",
    )
    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port the server listens on.")
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, le=1_073_741_824,
        description="Largest request body accepted; larger bodies get HTTP 413.",
    )
    max_json_depth: int = Field(
        default=32, ge=2, le=256,
        description="Deepest nesting of arrays and objects a JSON body, upload or MQTT message may have; deeper gets HTTP 422 json_too_deep.",
    )
    tls: bool = Field(
        default=False,
        description="Set when served over TLS (directly or behind a proxy): session cookies get the Secure flag.",
    )
    key_dir: Path | None = Field(
        default=None,
        description=(
            "Directory of the audit signing key and the secret-encryption key; in production outside the data dir "
            "and owned by another account. Empty: DATA_DIR/keys (demo). While it holds no keys, DATA_DIR/keys is used."
        ),
    )

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def effective_database_url(self) -> str:
        """The database URL to connect to, defaulting to SQLite inside the data dir."""
        if self.database_url and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'rtcc.sqlite3').resolve()}"

    @property
    def keys_dir(self) -> Path:
        """Where signing and encryption keys live (created 0700): KEY_DIR, or DATA_DIR/keys until it is moved."""
        from rtcc.core.keys import effective_key_dir

        return effective_key_dir(self.key_dir, self.data_dir)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file or os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            if not Path(config_file).is_file():
                raise FileNotFoundError(f"config file not found: {config_file}")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def masked_settings(settings: CoreSettings) -> dict[str, Any]:
    """The effective settings as plain values, with secrets and URL passwords masked."""
    shown: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = _mask_url(value.get_secret_value()) if value.get_secret_value() else None
        elif isinstance(value, Path):
            value = str(value)
        shown[name] = value
    shown["effective_database_url"] = _mask_url(settings.effective_database_url)
    return shown


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: mask it whole
        return "***"
