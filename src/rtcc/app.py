"""Assembles the ASGI app from the domains' routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from rtcc import __version__
from rtcc.alpr import partitions as read_partitions
from rtcc.alpr.api import hotlist_cache
from rtcc.alpr.api import router as alpr_router
from rtcc.alpr.video_worker import PlateReadingSupervisor
from rtcc.audit.api import router as audit_router
from rtcc.audit.checkpoint_job import CheckpointPublisher
from rtcc.auth import service as accounts
from rtcc.auth.api import router as auth_router
from rtcc.auth.guard import RULE_KEY, authorize
from rtcc.auth.permissions import PUBLIC
from rtcc.cameras.api import router as cameras_router
from rtcc.core.api import health_router
from rtcc.core.api import router as system_router
from rtcc.core.config import Settings
from rtcc.core.http import BodySizeLimit, JsonBodyLimits, SecurityHeaders, install_error_handlers
from rtcc.core.openapi import install_error_responses
from rtcc.core.runtime import Runtime, build_runtime
from rtcc.incidents.api import router as incidents_router
from rtcc.sharing.api import router as sharing_router
from rtcc.sharing.pages import router as field_pages_router
from rtcc.video.api import router as video_router
from rtcc.video.live_api import live_registry
from rtcc.video.live_api import router as live_router
from rtcc.video.supervisor import RecordingSupervisor
from rtcc.web.events import router as events_router
from rtcc.web.pages import mount_console

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
LIFECYCLE_SWEEP_SECONDS = 3600


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               simulated_calls: bool = False) -> FastAPI:
    """The whole HTTP surface: /healthz, /api/v1 (JSON + WebSocket) and the console pages.

    simulated_calls: `rtcc demo` only; the simulated city sends calls for service every
    demo_call_interval_seconds."""
    runtime = runtime or build_runtime(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(runtime.database.upgrade)
        await run_in_threadpool(read_partitions.maintain, runtime.database)  # PostgreSQL: months ahead exist
        await runtime.bus.start()
        audit_checkpoints = CheckpointPublisher(runtime)  # anchors the audit chain outside the database
        background = [asyncio.create_task(_sweep_accounts_periodically(runtime)),
                      asyncio.create_task(_purge_recordings_periodically(runtime)),
                      asyncio.create_task(audit_checkpoints.run())]
        # Recorded cameras feed live view from the recorder's own ffmpeg: one upstream per camera.
        app.state.live_relays = live_registry(runtime.settings)
        recorder = (RecordingSupervisor(runtime, live_relays=app.state.live_relays)
                    if runtime.settings.recording_enabled else None)
        if recorder:
            background.append(asyncio.create_task(recorder.run()))
        app.state.recorder = recorder
        if runtime.settings.mqtt_url:
            from rtcc.alpr.adapters.mqtt import PlateReadSubscriber

            app.state.mqtt_reads = PlateReadSubscriber(runtime, hotlist_cache(app))
            background.append(asyncio.create_task(app.state.mqtt_reads.run()))
        # Plate reading from video, for cameras in the "alpr" group (models load only once one is read).
        plate_reading = PlateReadingSupervisor(runtime, hotlist_cache(app)) if runtime.settings.video_reads_enabled else None
        if plate_reading:
            background.append(asyncio.create_task(plate_reading.run()))
        app.state.plate_reading = plate_reading
        if runtime.settings.hotlist_import_paths:
            from rtcc.alpr.scheduled_imports import ScheduledHotlistImports

            background.append(asyncio.create_task(ScheduledHotlistImports(runtime).run()))
        if runtime.settings.cad_watch_dir or simulated_calls:
            from rtcc.cameras.locator import CameraLocator

            if getattr(app.state, "camera_locator", None) is None:
                app.state.camera_locator = CameraLocator()
        if runtime.settings.cad_watch_dir:
            from rtcc.incidents.cad_files import CadFolderWatch

            background.append(asyncio.create_task(CadFolderWatch(runtime, locator=app.state.camera_locator).run()))
        if simulated_calls and runtime.settings.demo_call_interval_seconds > 0:
            from rtcc.sim.calls import SimulatedCalls

            background.append(asyncio.create_task(SimulatedCalls(runtime, locator=app.state.camera_locator).run()))
        try:
            yield
        finally:
            await app.state.live_relays.stop_all()
            if plate_reading:
                await plate_reading.stop()  # stores open vehicle passes and ends its ffmpeg processes
            for task in background:
                task.cancel()
            if recorder:
                await recorder.stop()
            await run_in_threadpool(audit_checkpoints.checkpoint_at_shutdown)
            await runtime.bus.stop()

    app = FastAPI(
        title="OpenRTCC",
        version=__version__,
        description="Real-Time Crime Center platform: cameras, plates, incidents, with accountability built in.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    install_error_responses(app, rule_key=RULE_KEY, public_rule=PUBLIC)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(authorize)])
    # video before cameras: its /cameras/health must match before /cameras/{camera_id}.
    for router in (auth_router, audit_router, video_router, cameras_router, alpr_router, incidents_router, sharing_router,
                   system_router):
        api.include_router(router)
    app.include_router(health_router)
    app.include_router(api)
    app.include_router(events_router, prefix=API_PREFIX)
    app.include_router(live_router, prefix=API_PREFIX)
    app.include_router(field_pages_router)  # /field/<token>: a field officer's link, no console session
    mount_console(app)

    app.add_middleware(JsonBodyLimits, max_depth=runtime.settings.max_json_depth)  # inside BodySizeLimit
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.max_request_bytes,
                       upload_bytes=runtime.settings.max_import_bytes)
    app.add_middleware(SecurityHeaders)
    return app


async def _sweep_accounts_periodically(runtime: Runtime) -> None:
    """Disable expired temporary accounts and long-idle accounts, hourly."""

    def sweep() -> None:
        with runtime.database.session() as db:
            for username, reason in accounts.sweep_account_lifecycle(db, runtime=runtime):
                log.info("disabled account %s: %s", username, reason)

    while True:
        try:
            await run_in_threadpool(sweep)
        except Exception:  # a failed sweep must not stop the next one
            log.exception("account lifecycle sweep failed")
        await asyncio.sleep(LIFECYCLE_SWEEP_SECONDS)


async def _purge_recordings_periodically(runtime: Runtime) -> None:
    """Enforce retention: video (age, events, quota; holds and exports kept) and unmatched plate reads."""
    from rtcc.video.retention import purge_recordings
    from rtcc.video.supervisor import media_store

    from rtcc.alpr.retention import purge_unmatched_reads
    from rtcc.sharing.service import purge_ended_media

    def purge() -> None:
        with runtime.database.session() as db:
            for receipt in purge_recordings(db, runtime=runtime, store=media_store(runtime)):
                log.info("purged %s segments (%s bytes) of camera %s: %s", receipt.segment_count, receipt.bytes,
                         receipt.camera_id, receipt.reason)
        read_partitions.maintain(runtime.database)  # PostgreSQL: the coming months' read partitions
        with runtime.database.session() as db:
            for receipt in purge_unmatched_reads(db, runtime=runtime):
                log.info("purged %s unmatched plate reads of camera %s", receipt.segment_count, receipt.camera_id)
        with runtime.database.session() as db:
            purge_ended_media(db, runtime=runtime)  # copies frozen for field links that expired or were revoked

    while True:
        try:
            await run_in_threadpool(purge)
        except Exception:  # a failed purge is retried at the next tick
            log.exception("retention purge failed")
        await asyncio.sleep(runtime.settings.retention_sweep_minutes * 60)
