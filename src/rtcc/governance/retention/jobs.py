"""Retention's schedule: the purge engine runs every class at start and every retention_sweep_minutes."""

from __future__ import annotations

import logging

from rtcc.core.jobs import Job, JobContext

log = logging.getLogger(__name__)


def declare_jobs(context: JobContext) -> list[Job]:
    runtime = context.runtime

    def purge() -> str:
        from rtcc.governance.retention import engine

        runs = engine.run(runtime)
        done = [r for r in runs if r.count or r.skipped_held]
        for r in done:
            log.info("retention %s: purged %s (%s bytes), kept %s held", r.data_class, r.count, r.bytes, r.skipped_held)
        return "; ".join(f"{r.data_class} {r.count} purged, {r.skipped_held} held" for r in done) or \
            f"{len(runs)} classes: nothing past its clock"

    return [Job(domain="governance", name="retention", interval_seconds=runtime.settings.retention_sweep_minutes * 60,
                run=purge, description="Purge every data class past its policy's clock; holds kept; one receipt per class.")]
