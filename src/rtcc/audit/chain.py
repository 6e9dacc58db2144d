"""The hash chain itself: canonical form of a record, its hash, and the signed head."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rtcc.audit.models import AuditRecord
from rtcc.core import clock

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "username",
    "agency_ori",
    "source_address",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "purpose",
    "case_number",
    "query_terms",
    "details",
    "prev_hash",
)


def canonical_json(value: Any) -> str | None:
    """JSON with sorted keys and no spaces: the same bytes on every engine and every run."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(record: AuditRecord) -> str:
    """SHA-256 over every field of the record except the hash itself."""
    fields = {name: getattr(record, name) for name in HASHED_FIELDS}
    fields["occurred_at"] = clock.iso(fields["occurred_at"])
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def head_message(seq: int, hash_hex: str) -> bytes:
    """What the head signature covers."""
    return f"rtcc-audit-head:{seq}:{hash_hex}".encode()
