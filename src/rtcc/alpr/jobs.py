"""Plates' periodic jobs: read partitions ahead, hotlists refreshed from files (retention: rtcc.governance)."""

from __future__ import annotations

import logging

from rtcc.core.jobs import Job, JobContext, OffJob

log = logging.getLogger(__name__)


def declare_jobs(context: JobContext) -> list[Job | OffJob]:
    """Read partitions (before serving, then every retention sweep), and hotlist imports if any."""
    from rtcc.alpr import partitions as read_partitions

    runtime = context.runtime
    sweep_seconds = runtime.settings.retention_sweep_minutes * 60

    def maintain_partitions() -> str:
        made = read_partitions.maintain(runtime.database)
        return f"made {len(made)} partitions" if runtime.database.dialect == "postgresql" else "not PostgreSQL: none needed"

    jobs = [
        # PostgreSQL: the coming months' partitions of plate_reads must exist before the first read is stored.
        Job(domain="alpr", name="read_partitions", interval_seconds=sweep_seconds, run=maintain_partitions,
            before_serving=True, description="PostgreSQL: create the coming months' partitions of plate reads."),
    ]
    import_minutes, import_description = (runtime.settings.hotlist_import_minutes,
                                          "Re-import each hotlist file whose content changed (a full extract).")
    if not runtime.settings.hotlist_import_paths:
        jobs.append(OffJob(domain="alpr", name="hotlist_imports", interval_seconds=import_minutes * 60,
                           switched_on_by="RTCC_HOTLIST_IMPORT_PATHS", description=import_description))
        return jobs
    from rtcc.alpr.scheduled_imports import ScheduledHotlistImports

    imports = ScheduledHotlistImports(runtime)

    def import_hotlists() -> str:
        return f"imported {len(imports.sweep())} changed hotlist files"

    jobs.append(Job(domain="alpr", name="hotlist_imports", interval_seconds=import_minutes * 60,
                    run=import_hotlists, description=import_description))
    return jobs
