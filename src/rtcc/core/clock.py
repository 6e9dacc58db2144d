"""UTC time to the millisecond, the only clock the system reads (tests may move it)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_offset = timedelta(0)


def utcnow() -> datetime:
    """Now, timezone-aware UTC, truncated to the millisecond."""
    now = datetime.now(timezone.utc) + _offset
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests of idle timeouts and lockout windows)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Undo every advance()."""
    global _offset
    _offset = timedelta(0)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and a Z, the one text form of a time."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
