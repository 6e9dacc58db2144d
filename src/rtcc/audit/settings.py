"""Audit integrity settings (`RTCC_AUDIT_*`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from rtcc.core.config import CoreSettings


class AuditSettings(CoreSettings):
    """Audit chain checkpoints, kept and sent outside the database (docs/security.md)."""

    audit_checkpoint_log: Path | None = Field(
        default=None,
        description=(
            "Append-only JSON-lines log of signed audit checkpoints (sequence, head hash, time); keep it outside the "
            "data dir (chattr +a). Empty: KEY_DIR/audit-checkpoints.jsonl."
        ),
    )
    audit_checkpoint_minutes: float = Field(
        default=1.0, ge=0.1, le=1440,
        description=(
            "How often the server checkpoints the audit chain head (and once as it stops); a rollback to after the "
            "latest checkpoint goes unseen."
        ),
    )
    audit_checkpoint_peer_url: str = Field(
        default="", max_length=500,
        description=(
            "HTTPS URL of a peer centre that receives each checkpoint (POST JSON); empty: off. Plain http:// only to "
            "the loopback address. Failures are logged and retried at the next checkpoint."
        ),
    )
    audit_checkpoint_peer_timeout_seconds: float = Field(
        default=10.0, ge=1, le=120, description="How long one POST of a checkpoint to the peer centre may take."
    )

    @field_validator("audit_checkpoint_peer_url")
    @classmethod
    def _peer_over_https(cls, value: str) -> str:
        # Checkpoints are public, but a peer reached over plain HTTP could be impersonated on the way.
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if value and not ((parts.scheme == "https" and parts.hostname) or loopback):
            raise ValueError("must be an https:// URL (http:// only to the loopback address)")
        return value

    @property
    def effective_audit_checkpoint_log(self) -> Path:
        """The checkpoint log file to append to and verify against."""
        return self.audit_checkpoint_log or (self.keys_dir / "audit-checkpoints.jsonl")
