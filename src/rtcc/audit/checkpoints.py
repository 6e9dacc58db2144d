"""Signed checkpoints of the audit chain head, kept where the database writer cannot rewrite them.

The signed head alone cannot reveal a rollback: an old head row, kept and put back after the
records behind it were deleted, still carries a valid signature. A checkpoint (sequence, head
hash, time, key id, signature) appended to a log outside the database, published on the public
checkpoint endpoint and optionally sent to a peer centre, remembers how far the chain reached.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit.chain import head_message
from rtcc.audit.models import AuditChainHead, AuditRecord
from rtcc.audit.signing import AuditSigner, signature_valid
from rtcc.core import clock
from rtcc.core.errors import AuditUnavailable

log = logging.getLogger(__name__)
HEAD_ID = 1
FIELDS = ("seq", "head_hash", "created_at", "key_id", "signature")


@dataclass(frozen=True)
class Checkpoint:
    """The chain reached record `seq`, whose hash was `head_hash`, at `created_at` (ISO 8601 UTC)."""

    seq: int
    head_hash: str
    created_at: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        """What the checkpoint signature covers (a prefix of its own, so a head signature is no checkpoint)."""
        return checkpoint_message(self.seq, self.head_hash, self.created_at, self.key_id)

    def as_json(self) -> dict:
        """The checkpoint as published: nothing but what it proves."""
        return asdict(self)


def checkpoint_message(seq: int, head_hash: str, created_at: str, key_id: str) -> bytes:
    """The signed bytes of a checkpoint."""
    return f"rtcc-audit-checkpoint:v1:{seq}:{head_hash}:{created_at}:{key_id}".encode()


def parse_checkpoint(value: object) -> Checkpoint:
    """A checkpoint from its JSON form; ValueError naming what is wrong."""
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 (every malformed line is one kind of fault)
    missing = [name for name in FIELDS if name not in value]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    seq, head_hash = value["seq"], value["head_hash"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("seq is not a positive integer")
    if not isinstance(head_hash, str) or len(head_hash) != 64:
        raise ValueError("head_hash is not a SHA-256 hex digest")
    if not all(isinstance(value[name], str) for name in ("created_at", "key_id", "signature")):
        raise ValueError("created_at, key_id and signature must be text")
    return Checkpoint(seq, head_hash, value["created_at"], value["key_id"], value["signature"])


@dataclass(frozen=True)
class LoadedCheckpoints:
    """What a checkpoint source held: the readable checkpoints with where each came from, and its bad lines."""

    checkpoints: list[tuple[str, Checkpoint]]
    problems: list[str]


def read_checkpoint_lines(text: str, *, source: str) -> LoadedCheckpoints:
    """Every checkpoint of a JSON-lines text; a bad line is named and never hides the others."""
    checkpoints, problems = [], []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoints.append((f"{source} line {number}", parse_checkpoint(json.loads(line))))
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            if number == len(lines):
                # The last line without its newline: a write torn by a crash, not a tamper; say so and go on.
                log.warning("%s line %s is incomplete (torn write?), ignored", source, number)
                continue
            problems.append(f"checkpoint {source} line {number} unreadable: {error}")
    return LoadedCheckpoints(checkpoints, problems)


def load_checkpoint_source(source: str, *, timeout_seconds: float = 10.0) -> LoadedCheckpoints:
    """Checkpoints published elsewhere: a URL (the public endpoint's JSON) or a file (one JSON object, or lines)."""
    if source.startswith(("https://", "http://")):
        import httpx

        try:
            response = httpx.get(source, timeout=timeout_seconds)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            return LoadedCheckpoints([], [f"checkpoint {source} unreachable: {type(error).__name__}: {error}"])
        try:
            return LoadedCheckpoints([(source, parse_checkpoint(body))], [])
        except ValueError as error:
            return LoadedCheckpoints([], [f"checkpoint {source} unreadable: {error}"])
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return LoadedCheckpoints([], [f"checkpoint file {source} unreadable: {error}"])
    try:
        return LoadedCheckpoints([(source, parse_checkpoint(json.loads(text)))], [])
    except ValueError:
        return read_checkpoint_lines(text, source=source)  # not one object: a checkpoint log


class CheckpointLog:
    """The append-only JSON-lines checkpoint log (opened O_APPEND, fsynced after each line)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, checkpoint: Checkpoint) -> None:
        """Add one line and make it durable before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(checkpoint.as_json(), sort_keys=True, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size and not self._ends_with_newline():
                line = "\n" + line  # a torn last line must not swallow this one
            os.write(fd, line.encode())  # one write: appenders in other processes never interleave inside a line
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def read(self) -> LoadedCheckpoints:
        """Every checkpoint in the log (none when it does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LoadedCheckpoints([], [])
        except (OSError, UnicodeDecodeError) as error:
            return LoadedCheckpoints([], [f"checkpoint log {self.path} unreadable: {error}"])
        return read_checkpoint_lines(text, source=f"log {self.path}")

    def latest(self, signer: AuditSigner, *, tail_bytes: int = 65536) -> Checkpoint | None:
        """The newest checkpoint in the log that carries a valid signature (read from the end)."""
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - tail_bytes))
                tail = handle.read()
        except FileNotFoundError:
            return None
        public_key = signer.public_key()
        lines = tail.decode("utf-8", errors="replace").split("\n")
        if size > tail_bytes:
            lines = lines[1:]  # the first line of the tail may be cut
        for line in reversed(lines):
            try:
                checkpoint = parse_checkpoint(json.loads(line))
            except ValueError:
                continue
            if signature_valid(public_key, checkpoint.signature, checkpoint.message()):
                return checkpoint
        if size > tail_bytes:  # a long run of bad lines at the end: look through the whole log
            valid = [c for _, c in self.read().checkpoints if signature_valid(public_key, c.signature, c.message())]
            return max(valid, key=lambda c: c.seq, default=None)
        return None


def take_checkpoint(session: Session, *, signer: AuditSigner, checkpoint_log: CheckpointLog) -> Checkpoint | None:
    """Checkpoint the chain head now; None when there is no chain yet or the head was checkpointed already.

    The head is checked first (its signature, its record, that it did not move backwards, and that
    the last checkpointed record is still there unchanged), so a tampered chain is reported
    instead of being anchored.
    """
    head = session.get(AuditChainHead, HEAD_ID)
    if head is None:
        return None
    public_key = signer.public_key()
    if not signature_valid(public_key, head.signature, head_message(head.seq, head.record_hash)):
        raise AuditUnavailable("audit chain head signature invalid: not checkpointed; run rtcc audit verify")
    last_hash = session.execute(select(AuditRecord.record_hash).where(AuditRecord.seq == head.seq)).scalar_one_or_none()
    if last_hash != head.record_hash:
        raise AuditUnavailable(f"audit chain head does not match record {head.seq}: not checkpointed; run rtcc audit verify")
    latest = checkpoint_log.latest(signer)
    if latest is not None and latest.seq > head.seq:
        raise AuditUnavailable(
            f"audit chain rolled back: checkpoint {latest.seq} but the chain ends at record {head.seq}; run rtcc audit verify"
        )
    if latest is not None:
        # Each checkpoint vouches for all before it (verify compares only the newest), so a chain that
        # no longer holds the last checkpointed record must never be checkpointed again.
        hash_then = session.execute(select(AuditRecord.record_hash).where(AuditRecord.seq == latest.seq)).scalar_one_or_none()
        if hash_then != latest.head_hash:
            raise AuditUnavailable(
                f"audit chain rewritten: record {latest.seq} differs from its checkpoint of {latest.created_at}; "
                "run rtcc audit verify"
            )
        if latest.seq == head.seq:
            return None
    created_at, key_id = clock.iso(clock.utcnow()), signer.key_id()
    checkpoint = Checkpoint(
        seq=head.seq, head_hash=head.record_hash, created_at=created_at, key_id=key_id,
        signature=signer.sign(checkpoint_message(head.seq, head.record_hash, created_at, key_id)).hex(),
    )
    checkpoint_log.append(checkpoint)
    return checkpoint

