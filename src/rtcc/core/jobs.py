"""Periodic jobs: what a domain declares (a Job) and the one scheduler that runs them all.

Each domain lists its jobs in its own `jobs.py`; bootstrap collects them and hands them to one
Scheduler. Every job runs in its own loop, so a slow or failing job delays and stops no other;
a job never overlaps itself (its next run is one interval after its last one ended). Each run's
outcome is kept in memory and in `job_runs`, so `rtcc jobs` in another process can list them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from rtcc.core import clock
from rtcc.core.database import Database, run_write
from rtcc.core.models import JobRun

log = logging.getLogger(__name__)

OK, FAILED = "ok", "failed"
MAX_JOB_THREADS = 8
MESSAGE_LIMIT = 500  # a failure's text in job_runs and `rtcc jobs`; the full traceback goes to the log


@dataclass(frozen=True)
class Job:
    """A periodic job: a function (sync ones run in a thread) run every interval_seconds."""

    domain: str
    name: str
    interval_seconds: float
    run: Callable[[], Any]  # may return a short summary of what it did, shown as the outcome's message
    runs_at_start: bool = True  # False: the first run comes one interval after start
    first_run_delay_seconds: float | None = None  # overrides the above: the first run this long after start
    before_serving: bool = False  # start() waits for the first run (what requests depend on, like partitions)
    jitter: float = 0.0  # each interval is stretched or shrunk at random by up to this fraction
    on_stop: Callable[[], Any] | None = None  # run once as the scheduler stops (e.g. a last audit checkpoint)
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.name}"


@dataclass(frozen=True)
class OffJob:
    """A job this configuration's settings switch off: never scheduled, but `rtcc jobs` lists it and what switches it on."""

    domain: str
    name: str
    interval_seconds: float
    switched_on_by: str  # what an operator sets to run it, e.g. "RTCC_CAD_WATCH_DIR"
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.name}"


@dataclass
class JobStatus:
    """What the scheduler knows of one job: its last run and its next."""

    last_run_at: datetime | None = None
    last_outcome: str | None = None  # ok | failed
    last_message: str | None = None
    last_duration_ms: int | None = None
    next_run_at: datetime | None = None
    run_count: int = 0
    failure_count: int = 0


@dataclass(frozen=True)
class JobOverview:
    """One line of `rtcc jobs`: a job as declared, with its last run as recorded (if it ever ran)."""

    domain: str
    name: str
    interval_seconds: float
    description: str = ""
    declared: bool = True  # False: recorded by a process with other jobs (e.g. `rtcc demo`'s simulated calls)
    last_run_at: datetime | None = None
    last_outcome: str | None = None
    last_message: str | None = None
    last_duration_ms: int | None = None
    next_run_at: datetime | None = None
    run_count: int = 0
    failure_count: int = 0
    scheduled_by: str | None = None
    switched_on_by: str | None = None  # set for a job this configuration switches off: the setting that runs it

    @property
    def enabled(self) -> bool:
        return self.switched_on_by is None

    def as_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "name": self.name, "interval_seconds": self.interval_seconds,
                "description": self.description, "declared": self.declared, "enabled": self.enabled,
                "switched_on_by": self.switched_on_by, "last_run_at": clock.iso(self.last_run_at),
                "last_outcome": self.last_outcome, "last_message": self.last_message,
                "last_duration_ms": self.last_duration_ms, "next_run_at": clock.iso(self.next_run_at),
                "run_count": self.run_count, "failure_count": self.failure_count, "scheduled_by": self.scheduled_by}


@dataclass(frozen=True)
class JobContext:
    """What a domain's jobs may use: the process's runtime and the services it shares with the routes."""

    runtime: Any  # rtcc.core.runtime.Runtime
    camera_locator: Any = None  # rtcc.cameras.locator.CameraLocator, the one the routes use
    simulated_calls: bool = False  # `rtcc demo`: the simulated city sends calls


JobDeclaration = Callable[[JobContext], "list[Job | OffJob]"]  # a domain's jobs.py: declare_jobs(context)


def collect_jobs(declarations: Iterable[JobDeclaration], context: JobContext) -> list[Job]:
    """Every domain's jobs this process runs (a domain declares the ones its settings switch off as OffJob)."""
    return [job for job in collect_every_job(declarations, context) if isinstance(job, Job)]


def collect_every_job(declarations: Iterable[JobDeclaration], context: JobContext) -> list[Job | OffJob]:
    """Every domain's jobs, those switched off included: what `rtcc jobs` lists."""
    return [job for declare in declarations for job in declare(context)]


def process_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


class Scheduler:
    """Runs each job on its interval until stopped; failures are logged and recorded, never raised."""

    def __init__(self, jobs: Iterable[Job], *, database: Database | None = None,
                 now: Callable[[], datetime] = clock.utcnow,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 chooser: random.Random | None = None):
        self.jobs = list(jobs)
        keys = [job.key for job in self.jobs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"two jobs share a name: {sorted(key for key in keys if keys.count(key) > 1)}")
        self.database = database  # None: outcomes stay in memory (unit tests)
        self.now = now
        self.sleep = sleep
        self.chooser = chooser or random.Random()
        self.statuses: dict[str, JobStatus] = {job.key: JobStatus() for job in self.jobs}
        self.label = process_label()
        self._tasks: list[asyncio.Task] = []
        # Threads of their own: a long purge never holds up the threads plate reading and recording use.
        self._threads = ThreadPoolExecutor(max_workers=max(1, min(len(self.jobs), MAX_JOB_THREADS)),
                                           thread_name_prefix="rtcc-job")

    async def start(self) -> None:
        """Run the jobs needed before serving, then start every job's loop in the background."""
        started = self.now()
        for job in self.jobs:
            log.info("job %s runs every %s s: %s", job.key, job.interval_seconds, job.description or job.name)
            self.statuses[job.key].next_run_at = started + timedelta(seconds=self._first_delay(job))
            await self._record(job, ran=False)
        for job in self.jobs:
            if job.before_serving:
                await self.run_once(job)
        self._tasks = [asyncio.create_task(self._loop(job), name=f"job {job.key}") for job in self.jobs]

    async def stop(self) -> None:
        """Cancel every loop (a run in a thread finishes on its own), then run the jobs' stop hooks."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for job in self.jobs:
            if job.on_stop is not None:
                try:
                    await self._call(job.on_stop)
                except Exception:  # the other hooks, and shutdown, go on
                    log.exception("stop hook of job %s failed", job.key)
        self._threads.shutdown(wait=False)  # a run still going in a thread finishes on its own

    async def run_once(self, job: Job) -> JobStatus:
        """Run the job now and record the outcome; an exception becomes a 'failed' outcome, not an error."""
        status = self.statuses[job.key]
        began = self.now()
        try:
            result = await self._call(job.run)
        except Exception as error:  # one failing job must not stop the others, or its own next run
            log.exception("job %s failed", job.key)
            status.last_outcome, status.last_message = FAILED, f"{type(error).__name__}: {error}"[:MESSAGE_LIMIT]
            status.failure_count += 1
        else:
            status.last_outcome = OK
            status.last_message = result[:MESSAGE_LIMIT] if isinstance(result, str) and result else None
        ended = self.now()
        status.last_run_at = began
        status.last_duration_ms = max(0, round((ended - began).total_seconds() * 1000))
        status.run_count += 1
        status.next_run_at = ended + timedelta(seconds=self._interval(job))
        await self._record(job, ran=True)
        return status

    async def _loop(self, job: Job) -> None:
        status = self.statuses[job.key]
        await self._sleep_until(status.next_run_at)  # before_serving: one interval after the run start() awaited
        while True:
            await self.run_once(job)
            await self._sleep_until(status.next_run_at)

    async def _sleep_until(self, moment: datetime | None) -> None:
        if moment is not None:
            await self.sleep(max(0.0, (moment - self.now()).total_seconds()))

    def _first_delay(self, job: Job) -> float:
        if job.first_run_delay_seconds is not None:
            return job.first_run_delay_seconds
        return 0.0 if job.runs_at_start or job.before_serving else self._interval(job)

    def _interval(self, job: Job) -> float:
        if not job.jitter:
            return job.interval_seconds
        return job.interval_seconds * self.chooser.uniform(1 - job.jitter, 1 + job.jitter)

    async def _call(self, function: Callable[[], Any]) -> Any:
        if inspect.iscoroutinefunction(function):
            return await function()
        return await asyncio.get_running_loop().run_in_executor(self._threads, function)

    async def _record(self, job: Job, *, ran: bool) -> None:
        """Keep the job's status in job_runs; a database that refuses is logged, and the job goes on regardless."""
        if self.database is None:
            return
        status = self.statuses[job.key]
        try:
            await self._call(lambda: run_write(self.database, lambda db: _store(db, job, status, self.label, ran=ran),
                                               what=f"job run {job.key}"))
        except Exception as error:  # noqa: BLE001
            log.warning("job %s: its run could not be recorded: %s", job.key, type(error).__name__)


def _store(db, job: Job, status: JobStatus, label: str, *, ran: bool) -> None:
    row = db.get(JobRun, (job.domain, job.name))
    if row is None:
        row = JobRun(domain=job.domain, name=job.name, run_count=0, failure_count=0)
        db.add(row)
    row.interval_seconds = job.interval_seconds
    row.next_run_at = status.next_run_at
    row.scheduled_by = label
    row.updated_at = clock.utcnow()
    if ran:  # at start only the schedule is written: the last run of the process before stays listed
        row.last_run_at, row.last_outcome = status.last_run_at, status.last_outcome
        row.last_message, row.last_duration_ms = status.last_message, status.last_duration_ms
        row.run_count += 1
        row.failure_count += status.last_outcome == FAILED


def job_overview(database: Database, jobs: Iterable[Job | OffJob]) -> list[JobOverview]:
    """Every declared job (switched off or not) with its recorded last run, then any recorded job not declared here."""
    overview = []
    with database.read_session() as db:  # read the rows inside: the session's end expires them
        rows = {(row.domain, row.name): row for row in db.execute(select(JobRun)).scalars()}
        for job in sorted(jobs, key=lambda job: (job.domain, job.name)):
            row = rows.pop((job.domain, job.name), None)
            switched_on_by = job.switched_on_by if isinstance(job, OffJob) else None
            overview.append(_overview(job.domain, job.name, job.interval_seconds, row, description=job.description,
                                      switched_on_by=switched_on_by))
        for (domain, name), row in sorted(rows.items()):
            overview.append(_overview(domain, name, row.interval_seconds, row, declared=False))
    return overview


def _overview(domain: str, name: str, interval_seconds: float, row: JobRun | None, **extra) -> JobOverview:
    if row is None:
        return JobOverview(domain=domain, name=name, interval_seconds=interval_seconds, **extra)
    return JobOverview(domain=domain, name=name, interval_seconds=interval_seconds, last_run_at=row.last_run_at,
                       last_outcome=row.last_outcome, last_message=row.last_message,
                       last_duration_ms=row.last_duration_ms, next_run_at=row.next_run_at, run_count=row.run_count,
                       failure_count=row.failure_count, scheduled_by=row.scheduled_by, **extra)
