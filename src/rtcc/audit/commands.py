"""`rtcc audit verify` and `rtcc audit checkpoint`: what they print and the exit code they return."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from rtcc.audit import service as audit
from rtcc.audit.checkpoints import (
    CheckpointLog,
    load_checkpoint_source,
    take_checkpoint,
)
from rtcc.audit.signing import signer_for
from rtcc.core.actor import cli_actor
from rtcc.core.errors import AuditUnavailable


def verify_command(runtime, *, checkpoint_sources: list[str], out: Console, err: Console) -> int:
    """Verify the chain against the local checkpoint log and the given copies; 0 intact, 1 broken."""
    settings = runtime.settings
    checkpoints = [CheckpointLog(settings.effective_audit_checkpoint_log).read()]
    checkpoints += [load_checkpoint_source(source, timeout_seconds=settings.audit_checkpoint_peer_timeout_seconds)
                    for source in checkpoint_sources]
    with runtime.database.read_session() as db:
        result = audit.verify_chain(db, keys=runtime.keys, checkpoints=checkpoints)
    recorded = True
    try:
        with runtime.database.session() as db:
            audit.record_verification(db, keys=runtime.keys, actor=cli_actor(), result=result, via="cli")
    except AuditUnavailable:
        if result.ok:
            raise
        recorded = False  # a broken chain refuses appends too: the verdict below matters more
    if result.ok:
        reach = (f", consistent with the latest checkpoint (record {result.latest_checkpoint_seq}; "
                 f"{result.checkpoints_checked} source{'s' if result.checkpoints_checked > 1 else ''})"
                 if result.checkpoints_checked else ", no checkpoint to compare with yet")
        out.print(f"audit chain intact: {result.records_checked} records verified{reach}")
        return 0
    where = f" at record {result.first_bad_seq}" if result.first_bad_seq else ""
    err.print(f"[red]audit chain BROKEN{where}:[/red] {escape(result.problem or '')}")
    for problem in result.checkpoint_problems:
        if problem != result.problem:
            err.print(f"also: {escape(problem)}")
    err.print(f"({result.records_checked} records verified before it)")
    if not recorded:
        err.print("(this verification could not be added to the audit trail: the chain refuses appends)")
    return 1


def checkpoint_command(runtime, *, out: Console, err: Console) -> int:
    """Checkpoint the chain head now; 0 written or already checkpointed, 1 refused."""
    checkpoint_log = CheckpointLog(runtime.settings.effective_audit_checkpoint_log)
    try:
        with runtime.database.read_session() as db:
            checkpoint = take_checkpoint(db, signer=signer_for(runtime.keys), checkpoint_log=checkpoint_log)
    except AuditUnavailable as error:
        err.print(f"[red]checkpoint refused:[/red] {escape(error.message)}")
        return 1
    except OSError as error:
        err.print(f"[red]checkpoint log {checkpoint_log.path} not writable:[/red] {escape(str(error))}")
        return 1
    if checkpoint is None:
        out.print(f"nothing new to checkpoint (log: {checkpoint_log.path})")
    else:
        out.print(f"checkpoint of record {checkpoint.seq} ({checkpoint.head_hash[:16]}…) written to {checkpoint_log.path}")
    return 0
