"""Verify the audit chain: every record, the signed head, then every checkpoint that can be reached.

Verification only reads: it runs in a read-only session and writes no key file, so a broken
chain is reported as it is, never as the failure of a write of verify's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit.chain import GENESIS_HASH, head_message, record_hash
from rtcc.audit.checkpoints import Checkpoint, LoadedCheckpoints
from rtcc.audit.models import AuditChainHead, AuditRecord
from rtcc.audit.signing import signature_valid
from rtcc.core.keys import KeyRing, public_key_id

HEAD_ID = 1


@dataclass
class VerifyResult:
    """The outcome of walking the chain and comparing it with its checkpoints."""

    ok: bool
    records_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    checkpoints_checked: int = 0  # sources whose newest valid checkpoint the chain was compared with
    latest_checkpoint_seq: int | None = None
    checkpoint_problems: list[str] = field(default_factory=list)


def verify_chain(
    session: Session, *, keys: KeyRing, checkpoints: list[LoadedCheckpoints] | None = None, batch_size: int = 2000,
) -> VerifyResult:
    """Walk every record in order, then the head, then the checkpoints; name the first fault found."""
    try:
        public_key = keys.audit_public_key()
    except OSError:  # a key dir this account may not read: reported below as a missing key, not a traceback
        public_key = None
    valid, checkpoint_problems = _valid_checkpoints(checkpoints or [], public_key)
    expected_hash_at = {}  # seq -> (where, checkpoint): compared as the walk passes each seq
    for where, checkpoint in valid:
        expected_hash_at.setdefault(checkpoint.seq, []).append((where, checkpoint))
    latest = max((c for _, c in valid), key=lambda c: c.seq, default=None)

    def result(ok: bool, checked: int, first_bad: int | None = None, problem: str | None = None) -> VerifyResult:
        if ok and checkpoint_problems:
            ok, problem = False, checkpoint_problems[0]
        return VerifyResult(ok, checked, first_bad, problem, len(valid), latest.seq if latest else None,
                            checkpoint_problems)

    expected_seq, previous_hash, checked = 1, GENESIS_HASH, 0
    rows = session.execute(select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch_size))
    for entry in rows.scalars():
        if entry.seq != expected_seq:
            missing = f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}-{entry.seq - 1}"
            return result(False, checked, expected_seq, f"record {missing} missing: removed from the chain")
        if entry.prev_hash != previous_hash:
            return result(
                False, checked, entry.seq,
                f"record {entry.seq} does not follow record {entry.seq - 1}: "
                f"a record was inserted or record {entry.seq - 1} was altered",
            )
        if record_hash(entry) != entry.record_hash:
            return result(False, checked, entry.seq, f"record {entry.seq} altered: its content does not match its hash")
        for where, checkpoint in expected_hash_at.get(entry.seq, ()):
            if checkpoint.head_hash != entry.record_hash:
                return result(
                    False, checked, entry.seq,
                    f"record {entry.seq} rewritten: checkpoint {checkpoint.seq} of {checkpoint.created_at} ({where}) "
                    "saw a different record there; the chain was rewritten, or rolled back and written again",
                )
        previous_hash, expected_seq, checked = entry.record_hash, expected_seq + 1, checked + 1
        session.expunge(entry)
    head_fault = _head_fault(session, keys, public_key, checked, previous_hash)
    if head_fault:
        return result(False, checked, *head_fault)
    if latest is not None and latest.seq > checked:
        return result(
            False, checked, checked + 1,
            f"chain rolled back: checkpoint {latest.seq} of {latest.created_at} saw the chain reach record "
            f"{latest.seq}, but it ends at record {checked}; records {checked + 1}-{latest.seq} were removed "
            "and an older signed head put back",
        )
    return result(True, checked)


def _valid_checkpoints(sources: list[LoadedCheckpoints], public_key) -> tuple[list[tuple[str, Checkpoint]], list[str]]:
    # Per source, the newest checkpoint with a valid signature is enough: the hash chain binds every
    # record before it, so a rewrite anywhere below changes the hash it vouches for. Signatures are
    # checked newest first down to that one (each bad one named); a year of 5-minute checkpoints
    # would otherwise cost 100,000 signature checks (37 s) per verify.
    problems = [problem for source in sources for problem in source.problems]
    valid, trusted_key_id = [], public_key_id(public_key) if public_key is not None else None
    for source in sources:
        for where, checkpoint in sorted(source.checkpoints, key=lambda item: item[1].seq, reverse=True):
            if public_key is None:
                problems.append(f"checkpoint {where} cannot be checked: the audit public key is missing from the key dir")
                break
            if checkpoint.key_id != trusted_key_id:
                problems.append(f"checkpoint {where} forged: signed by unknown key {checkpoint.key_id}")
            elif not signature_valid(public_key, checkpoint.signature, checkpoint.message()):
                problems.append(f"checkpoint {where} forged: its signature does not verify")
            else:
                valid.append((where, checkpoint))
                break
    return valid, problems


def _head_fault(session: Session, keys: KeyRing, public_key, checked: int, last_hash: str) -> tuple[int | None, str] | None:
    head = session.get(AuditChainHead, HEAD_ID)
    if head is None:
        if checked == 0:
            return None
        return None, f"chain head missing: the signed head row was deleted (the chain has {checked} records)"
    if head.seq > checked:
        return checked + 1, f"records {checked + 1}-{head.seq} missing: removed from the end of the chain"
    if head.seq < checked:
        extra = f"{head.seq + 1}" if checked == head.seq + 1 else f"{head.seq + 1}-{checked}"
        return head.seq + 1, (f"record {extra} appended after the signed head (record {head.seq}): "
                              "written outside the audit service")
    if head.record_hash != last_hash:
        return head.seq, f"chain head does not match record {head.seq}: the head or the record was altered"
    if public_key is None:
        return None, (f"audit public key missing from (or unreadable in) the key dir {keys.keys_dir}: "
                      "cannot check the chain head")
    if not signature_valid(public_key, head.signature, head_message(head.seq, head.record_hash)):
        return head.seq, "chain head signature invalid: the chain was rewritten"
    return None
