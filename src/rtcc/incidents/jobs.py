"""Incidents' periodic job: the CAD export folder, looked at every cad_watch_poll_seconds."""

from __future__ import annotations

from rtcc.core.jobs import Job, JobContext, OffJob


def declare_jobs(context: JobContext) -> list[Job | OffJob]:
    """The CAD folder watch, when RTCC_CAD_WATCH_DIR names a folder (switched off otherwise)."""
    settings = context.runtime.settings
    if not settings.cad_watch_dir:
        return [OffJob(domain="incidents", name="cad_folder_watch", interval_seconds=settings.cad_watch_poll_seconds,
                       switched_on_by="RTCC_CAD_WATCH_DIR", description="Import the CAD export files dropped in a folder.")]
    from rtcc.incidents.adapters.cad_folder import CadFolderWatch

    watch = CadFolderWatch(context.runtime, locator=context.camera_locator)

    def look_once() -> str:
        return f"imported {len(watch.sweep())} files"

    # A poll, not a long-running watcher: each look compares sizes with the previous one, kept by the watch.
    return [Job(domain="incidents", name="cad_folder_watch", interval_seconds=settings.cad_watch_poll_seconds,
                run=look_once, description=f"Import the CAD export files dropped in {watch.folder}.")]
