"""Video's periodic job: enforce recording retention (age, event-only, quota; holds and exports kept)."""

from __future__ import annotations

import logging

from rtcc.core.jobs import Job, JobContext

log = logging.getLogger(__name__)


def declare_jobs(context: JobContext) -> list[Job]:
    """Video retention, at start and every retention_sweep_minutes."""
    runtime = context.runtime

    def purge_video() -> str:
        from rtcc.video.recording.retention import purge_recordings
        from rtcc.video.pipeline.supervisor import media_store

        with runtime.database.session() as db:
            receipts = purge_recordings(db, runtime=runtime, store=media_store(runtime))
        for receipt in receipts:
            log.info("purged %s segments (%s bytes) of camera %s: %s", receipt.segment_count, receipt.bytes,
                     receipt.camera_id, receipt.reason)
        return (f"purged {sum(receipt.segment_count for receipt in receipts)} segments "
                f"({sum(receipt.bytes for receipt in receipts)} bytes)")

    return [Job(domain="video", name="retention", interval_seconds=runtime.settings.retention_sweep_minutes * 60,
                run=purge_video, description="Delete expired and over-quota recordings; holds and exports are kept.")]
