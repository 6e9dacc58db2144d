"""Sharing's periodic job: delete the frozen copies of field links that expired or were revoked."""

from __future__ import annotations

from rtcc.core.jobs import Job, JobContext


def declare_jobs(context: JobContext) -> list[Job]:
    """Ended media, at start and every retention_sweep_minutes."""
    runtime = context.runtime

    def purge_media() -> str:
        from rtcc.sharing.service import purge_ended_media

        with runtime.database.session() as db:
            return f"deleted {purge_ended_media(db, runtime=runtime)} copies"

    return [Job(domain="sharing", name="ended_media", interval_seconds=runtime.settings.retention_sweep_minutes * 60,
                run=purge_media, description="Delete the copies frozen for field links that expired or were revoked.")]
