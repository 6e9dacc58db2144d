"""Builds a process's services from settings, without FastAPI, and starts and stops them.

`rtcc serve` runs them all beside the ASGI app (app.py's lifespan calls start_services and
stop_services); `rtcc jobs` only declares the jobs, to list them. The routes reach the same
objects through app.state (live relays, hotlist cache, camera locator, the camera pipelines).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from rtcc.alpr import jobs as alpr_jobs
from rtcc.alpr.hotlists import HotlistCache
from rtcc.audit import jobs as audit_jobs
from rtcc.auth import jobs as auth_jobs
from rtcc.cameras.locator import CameraLocator
from rtcc.core.jobs import Job, JobContext, JobDeclaration, OffJob, Scheduler, collect_every_job, collect_jobs
from rtcc.core.runtime import Runtime
from rtcc.governance.releases import jobs as release_jobs
from rtcc.governance.retention import jobs as retention_jobs
from rtcc.governance.review import jobs as review_jobs
from rtcc.incidents import jobs as incident_jobs
from rtcc.sim import jobs as sim_jobs
from rtcc.video.live.registry import LiveRelayRegistry
from rtcc.video.live.api import live_registry

log = logging.getLogger(__name__)

# Every domain's periodic jobs, in the order `rtcc jobs` groups them; a domain adds its jobs in its own jobs.py.
JOB_DECLARATIONS: tuple[JobDeclaration, ...] = (
    auth_jobs.declare_jobs, audit_jobs.declare_jobs, alpr_jobs.declare_jobs, incident_jobs.declare_jobs,
    retention_jobs.declare_jobs, review_jobs.declare_jobs, release_jobs.declare_jobs, sim_jobs.declare_jobs,
)


def declare_jobs(runtime: Runtime, *, camera_locator: CameraLocator | None = None,
                 simulated_calls: bool = False, include_off: bool = False) -> list[Job] | list[Job | OffJob]:
    """This process's jobs, as its settings switch them on (nothing runs yet); include_off: the switched-off ones too."""
    context = JobContext(runtime=runtime, camera_locator=camera_locator or CameraLocator(),
                         simulated_calls=simulated_calls)
    return (collect_every_job if include_off else collect_jobs)(JOB_DECLARATIONS, context)


@dataclass
class CameraPipelines:
    """What records each camera and reads its plates; stop() ends every ffmpeg child and stores open passes."""

    recorder: Any = None  # RecordingSupervisor, when recording_enabled
    plate_reading: Any = None  # PlateReadingSupervisor, when video_reads_enabled
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def stop(self) -> None:
        # One supervisor serves both names today: stop each distinct one once (plate reading first: it stores the
        # passes still open before its decoder and the recorders end).
        supervisors = list(dict.fromkeys(part for part in (self.plate_reading, self.recorder) if part is not None))
        if supervisors:
            await supervisors[0].stop()
        for task in self.tasks:
            task.cancel()
        for supervisor in supervisors[1:]:
            await supervisor.stop()


def start_camera_pipelines(runtime: Runtime, *, live_relays: LiveRelayRegistry,
                           hotlist_cache: HotlistCache) -> CameraPipelines:
    """Start recording and plate reading from video: the one place the camera supervisors are built."""
    import rtcc.alpr.video.consumer  # noqa: F401  (registers the "plates" consumer kind)
    from rtcc.video.pipeline.supervisor import CameraPipelineSupervisor

    settings = runtime.settings
    recording, reading = settings.recording_enabled, settings.video_reads_enabled
    # One supervisor for every camera: a recorder (whose ffmpeg also feeds live view: one upstream) and at most one
    # sub-stream decoder shared by health (recorded cameras) and plates (cameras whose reads_plates is set).
    kinds = [*(["health"] if recording else []), *(["plates"] if reading else [])]
    supervisor = (CameraPipelineSupervisor(runtime, live_relays=live_relays, record=recording, kinds=kinds,
                                           services={"hotlists": hotlist_cache}) if recording or reading else None)
    pipelines = CameraPipelines(recorder=supervisor if recording else None, plate_reading=supervisor if reading else None)
    if supervisor:
        pipelines.tasks.append(asyncio.create_task(supervisor.run(), name="camera pipelines"))
    return pipelines


@dataclass
class Services:
    """The long-lived objects of one serving process, shared by its routes, pipelines and jobs."""

    runtime: Runtime
    hotlist_cache: HotlistCache
    camera_locator: CameraLocator
    live_relays: LiveRelayRegistry
    scheduler: Scheduler
    pipelines: CameraPipelines = field(default_factory=CameraPipelines)
    mqtt_reads: Any = None  # PlateReadSubscriber, when mqtt_url is set
    tasks: list[asyncio.Task] = field(default_factory=list)


def provide_cross_domain_checks() -> None:
    """Hand lower domains what a higher one knows, without their importing upward: the cameras' health board
    reads video's segment index; sharing asks governance whether a legal hold keeps an ended link's copy."""
    from rtcc.cameras.health import provide_recording_facts
    from rtcc.governance.retention.purgers import share_media_is_held
    from rtcc.sharing.service import provide_media_hold_check
    from rtcc.video.recording.uptime import SegmentIndexFacts

    provide_recording_facts(SegmentIndexFacts())
    provide_media_hold_check(share_media_is_held)


def build_services(runtime: Runtime, *, simulated_calls: bool = False, hotlist_cache: HotlistCache | None = None,
                   camera_locator: CameraLocator | None = None) -> Services:
    """The services, not started; pass the routes' cache and locator so both see the same ones."""
    provide_cross_domain_checks()
    camera_locator = camera_locator or CameraLocator()
    jobs = declare_jobs(runtime, camera_locator=camera_locator, simulated_calls=simulated_calls)
    return Services(runtime=runtime, hotlist_cache=hotlist_cache or HotlistCache(), camera_locator=camera_locator,
                    live_relays=live_registry(runtime.settings), scheduler=Scheduler(jobs, database=runtime.database))


async def start_services(services: Services) -> None:
    """Schema, bus, jobs (those needed first run before this returns), camera pipelines, MQTT reads."""
    runtime = services.runtime
    await asyncio.to_thread(runtime.database.upgrade)
    await runtime.bus.start()
    await services.scheduler.start()
    services.pipelines = start_camera_pipelines(runtime, live_relays=services.live_relays,
                                                hotlist_cache=services.hotlist_cache)
    if runtime.settings.mqtt_url:
        from rtcc.alpr.adapters.mqtt import PlateReadSubscriber

        services.mqtt_reads = PlateReadSubscriber(runtime, services.hotlist_cache)
        services.tasks.append(asyncio.create_task(services.mqtt_reads.run(), name="mqtt reads"))


async def stop_services(services: Services) -> None:
    """Live views, pipelines, MQTT, then jobs (the last audit checkpoint), then the bus."""
    await services.live_relays.stop_all()
    await services.pipelines.stop()
    for task in services.tasks:
        task.cancel()
    await services.scheduler.stop()
    await services.runtime.bus.stop()
