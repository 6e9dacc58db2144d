"""The scheduler: each job on its own interval, a failing job stops no other, outcomes recorded."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from rtcc.core.jobs import FAILED, OK, Job, JobContext, Scheduler, collect_jobs

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """now() and sleep() for the scheduler; time moves only when the test advances it."""

    def __init__(self, loops: int):
        self.current = START
        self.loops = loops  # the scheduler's job loops: between two moments, each of them sleeps
        self._sleepers: list[tuple[datetime, int, asyncio.Future]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.current + timedelta(seconds=seconds), next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper at its moment, in order, and letting its job run."""
        until = self.current + timedelta(seconds=seconds)
        await self._all_asleep()
        while self._sleepers and self._sleepers[0][0] <= until:
            moment, _, future = heapq.heappop(self._sleepers)
            self.current = max(self.current, moment)
            future.set_result(None)
            await self._all_asleep()
        self.current = until

    async def _all_asleep(self) -> None:
        for _ in range(10_000):  # a sync job runs in a thread: wait for it on a loaded machine, up to ~10 s
            if len(self._sleepers) >= self.loops:
                return
            await asyncio.sleep(0.001)
        raise AssertionError("a job loop never went back to sleep")


def _run(scenario):
    return asyncio.run(scenario())


def test_each_job_runs_on_its_own_interval():
    clock = FakeClock(loops=3)
    runs: dict[str, list[datetime]] = {"often": [], "seldom": [], "later": []}
    jobs = [Job(domain="test", name="often", interval_seconds=60, run=lambda: runs["often"].append(clock.now())),
            Job(domain="test", name="seldom", interval_seconds=600, run=lambda: runs["seldom"].append(clock.now())),
            Job(domain="test", name="later", interval_seconds=300, runs_at_start=False,
                run=lambda: runs["later"].append(clock.now()))]

    async def scenario():
        scheduler = Scheduler(jobs, now=clock.now, sleep=clock.sleep)
        await scheduler.start()
        await clock.advance(1200)
        await scheduler.stop()
        return scheduler

    scheduler = _run(scenario)
    minutes = {name: [(moment - START) / timedelta(minutes=1) for moment in moments] for name, moments in runs.items()}
    assert minutes["often"] == [float(minute) for minute in range(21)]
    assert minutes["seldom"] == [0.0, 10.0, 20.0]
    assert minutes["later"] == [5.0, 10.0, 15.0, 20.0]  # not at start: the first run one interval after it
    assert scheduler.statuses["test.seldom"].next_run_at == START + timedelta(minutes=30)


def test_a_failing_job_stops_neither_the_others_nor_its_own_next_run():
    clock = FakeClock(loops=2)
    healthy_runs = []

    def broken():
        raise OSError("disk full")

    jobs = [Job(domain="test", name="broken", interval_seconds=60, run=broken),
            Job(domain="test", name="healthy", interval_seconds=60, run=lambda: healthy_runs.append(clock.now()) or "fine")]

    async def scenario():
        scheduler = Scheduler(jobs, now=clock.now, sleep=clock.sleep)
        await scheduler.start()
        await clock.advance(180)
        await scheduler.stop()
        return scheduler

    scheduler = _run(scenario)
    broken_status, healthy_status = scheduler.statuses["test.broken"], scheduler.statuses["test.healthy"]
    assert len(healthy_runs) == 4 and healthy_status.last_outcome == OK and healthy_status.last_message == "fine"
    assert broken_status.run_count == broken_status.failure_count == 4
    assert broken_status.last_outcome == FAILED and broken_status.last_message == "OSError: disk full"
    assert broken_status.last_run_at == START + timedelta(minutes=3)


def test_async_jobs_first_run_delays_jitter_and_stop_hooks():
    clock = FakeClock(loops=1)
    calls, stopped = [], []

    async def send():
        calls.append(clock.now())

    jobs = [Job(domain="test", name="calls", interval_seconds=100, run=send, first_run_delay_seconds=5, jitter=0.4,
                on_stop=lambda: stopped.append("calls"))]

    async def scenario():
        scheduler = Scheduler(jobs, now=clock.now, sleep=clock.sleep)
        await scheduler.start()
        await clock.advance(1000)
        await scheduler.stop()

    _run(scenario)
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(calls)]
    assert calls[0] == START + timedelta(seconds=5)
    assert gaps and all(60 <= gap <= 140 for gap in gaps) and len(set(gaps)) > 1
    assert stopped == ["calls"]


def test_a_job_needed_before_serving_has_run_when_start_returns():
    clock = FakeClock(loops=1)
    made = []
    jobs = [Job(domain="test", name="partitions", interval_seconds=600, run=lambda: made.append(clock.now()),
                before_serving=True)]

    async def scenario():
        scheduler = Scheduler(jobs, now=clock.now, sleep=clock.sleep)
        await scheduler.start()
        assert made == [START]
        await clock.advance(600)
        await scheduler.stop()

    _run(scenario)
    assert made == [START, START + timedelta(minutes=10)]  # once before serving, then on its interval only


def test_two_jobs_of_one_name_are_refused_and_domains_declare_their_own():
    job = Job(domain="test", name="same", interval_seconds=1, run=lambda: None)
    with pytest.raises(ValueError, match="test.same"):
        Scheduler([job, job])
    context = JobContext(runtime=None)
    assert collect_jobs([lambda context: [job], lambda context: []], context) == [job]
