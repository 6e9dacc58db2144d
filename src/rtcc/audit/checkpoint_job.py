"""The periodic checkpoint job: checkpoint the audit head, then hand the latest checkpoint to the peer centre.

It runs beside the requests, never inside them: an unreachable peer or a full checkpoint disk is
logged and retried at the next tick, and no audit write ever waits for it.
"""

from __future__ import annotations

import logging

import httpx

from rtcc.audit.checkpoints import Checkpoint, CheckpointLog, take_checkpoint
from rtcc.audit.signing import signer_for
from rtcc.core.errors import AuditUnavailable
from rtcc.core.keys import public_key_pem

log = logging.getLogger(__name__)


class CheckpointPublisher:
    """Takes checkpoints of one runtime's chain and sends the newest to the peer centre until it accepts it."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.signer = signer_for(runtime.keys)
        self.checkpoint_log = CheckpointLog(runtime.settings.effective_audit_checkpoint_log)
        self.peer_sent_seq: int | None = None

    def checkpoint_now(self) -> Checkpoint | None:
        """Checkpoint the head (None when unchanged since the last checkpoint)."""
        with self.runtime.database.read_session() as db:
            return take_checkpoint(db, signer=self.signer, checkpoint_log=self.checkpoint_log)

    def send_to_peer(self) -> bool:
        """POST the newest checkpoint to the peer centre if it has not accepted it yet; whether it has now."""
        settings = self.runtime.settings
        latest = self.checkpoint_log.latest(self.signer)
        if not settings.audit_checkpoint_peer_url or latest is None or latest.seq == self.peer_sent_seq:
            return True
        body = {**latest.as_json(), "public_key": public_key_pem(self.signer.public_key())}
        try:
            response = httpx.post(settings.audit_checkpoint_peer_url, json=body,
                                  timeout=settings.audit_checkpoint_peer_timeout_seconds)
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("audit checkpoint %s not accepted by the peer centre (retried next tick): %s",
                        latest.seq, type(error).__name__)
            return False
        self.peer_sent_seq = latest.seq
        log.info("audit checkpoint %s sent to the peer centre", latest.seq)
        return True

    def tick(self) -> str:
        """One round: checkpoint, then publish; says what it did.

        A checkpoint refused (the chain is in question) or not written (the log's disk) is raised after the
        peer's turn, so the scheduler records the round as failed and logs it, every round until it is fixed.
        """
        failure: Exception | None = None
        summary = "head unchanged since the last checkpoint"
        try:
            checkpoint = self.checkpoint_now()
            if checkpoint:
                log.info("audit checkpoint %s written", checkpoint.seq)
                summary = f"checkpoint {checkpoint.seq} written"
        except (AuditUnavailable, OSError) as error:
            failure = error
        sent = self.send_to_peer()
        if failure is not None:
            raise failure
        return summary if sent else f"{summary}; not yet accepted by the peer centre"

    def checkpoint_at_shutdown(self) -> None:
        """One last checkpoint as the server stops: a stopped server is when tampering goes unseen longest."""
        try:
            self.checkpoint_now()  # a local read and one fsynced line; the peer hears of it at the next start
        except Exception as error:  # noqa: BLE001 (shutdown goes on regardless)
            log.error("audit checkpoint at shutdown failed: %s", error)
