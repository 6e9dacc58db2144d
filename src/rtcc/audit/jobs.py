"""The audit chain's periodic job: signed checkpoints of the head, sent on to the peer centre."""

from __future__ import annotations

from rtcc.core.jobs import Job, JobContext


def declare_jobs(context: JobContext) -> list[Job]:
    """Checkpoints every audit_checkpoint_minutes (the first one interval after start), and one at stop."""
    from rtcc.audit.checkpoint_job import CheckpointPublisher

    publisher = CheckpointPublisher(context.runtime)
    # Not at start: a checkpoint anchors what came before, and a restart adds nothing to anchor.
    return [Job(domain="audit", name="checkpoints",
                interval_seconds=context.runtime.settings.audit_checkpoint_minutes * 60, run=publisher.tick,
                runs_at_start=False, on_stop=publisher.checkpoint_at_shutdown,
                description="Sign a checkpoint of the audit chain head and send it to the peer centre.")]
