"""Plates' periodic jobs: read partitions ahead, unmatched-read retention, hotlists refreshed from files."""

from __future__ import annotations

import logging

from rtcc.core.jobs import Job, JobContext

log = logging.getLogger(__name__)


def declare_jobs(context: JobContext) -> list[Job]:
    """Read partitions (before serving, then every retention sweep), read retention, and hotlist imports if any."""
    from rtcc.alpr import partitions as read_partitions
    from rtcc.alpr.retention import purge_unmatched_reads

    runtime = context.runtime
    sweep_seconds = runtime.settings.retention_sweep_minutes * 60

    def maintain_partitions() -> str:
        made = read_partitions.maintain(runtime.database)
        return f"made {len(made)} partitions" if runtime.database.dialect == "postgresql" else "not PostgreSQL: none needed"

    def purge_reads() -> str:
        with runtime.database.session() as db:
            receipts = purge_unmatched_reads(db, runtime=runtime)
        for receipt in receipts:
            log.info("purged %s unmatched plate reads of camera %s", receipt.segment_count, receipt.camera_id)
        return f"purged {sum(receipt.segment_count for receipt in receipts)} unmatched reads"

    jobs = [
        # PostgreSQL: the coming months' partitions of plate_reads must exist before the first read is stored.
        Job(domain="alpr", name="read_partitions", interval_seconds=sweep_seconds, run=maintain_partitions,
            before_serving=True, description="PostgreSQL: create the coming months' partitions of plate reads."),
        Job(domain="alpr", name="read_retention", interval_seconds=sweep_seconds, run=purge_reads,
            description="Delete plate reads that matched no hotlist after read_retention_days."),
    ]
    if runtime.settings.hotlist_import_paths:
        from rtcc.alpr.scheduled_imports import ScheduledHotlistImports

        imports = ScheduledHotlistImports(runtime)

        def import_hotlists() -> str:
            return f"imported {len(imports.sweep())} changed hotlist files"

        jobs.append(Job(domain="alpr", name="hotlist_imports",
                        interval_seconds=runtime.settings.hotlist_import_minutes * 60, run=import_hotlists,
                        description="Re-import each hotlist file whose content changed (a full extract)."))
    return jobs
