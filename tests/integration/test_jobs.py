"""`rtcc jobs` in another process lists what `rtcc serve`'s scheduler ran: last run, outcome, next run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys

import httpx
from support import free_port, wait_until

EXPECTED_JOBS = {"auth.account_sweep", "audit.checkpoints", "governance.retention", "alpr.read_partitions",
                 "incidents.cad_folder_watch", "governance.audit_review", "governance.release_render_recovery"}
# Listed too, never run by `rtcc serve` here: what switches each on.
SWITCHED_OFF = {"alpr.hotlist_imports": "RTCC_HOTLIST_IMPORT_PATHS", "sim.demo_calls": "`rtcc demo`"}


def _rtcc_jobs(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtcc.cli", "jobs", *arguments], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def _listed(environment: dict[str, str]) -> dict[str, dict]:
    result = _rtcc_jobs(environment, "--json")
    assert result.returncode == 0, result.stderr
    return {f"{job['domain']}.{job['name']}": job for job in json.loads(result.stdout)}


def test_rtcc_jobs_shows_each_job_s_last_run_and_outcome_after_rtcc_serve_ran(tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    environment = {**os.environ, "RTCC_DATA_DIR": str(data_dir), "RTCC_PORT": str(port), "RTCC_DATABASE_URL": "",
                   "RTCC_RECORDING_ENABLED": "false", "RTCC_VIDEO_READS_ENABLED": "false",
                   "RTCC_CAD_WATCH_DIR": str(tmp_path / "cad"), "RTCC_CAD_WATCH_POLL_SECONDS": "0.2",
                   "RTCC_AUDIT_CHECKPOINT_MINUTES": "30", "COLUMNS": "200"}

    before = _listed(environment)
    assert set(before) == EXPECTED_JOBS | set(SWITCHED_OFF)
    assert {key: job["switched_on_by"] for key, job in before.items() if not job["enabled"]} == SWITCHED_OFF
    assert all(job["last_run_at"] is None and job["last_outcome"] is None for job in before.values())
    without_cad_folder = _listed({**environment, "RTCC_CAD_WATCH_DIR": ""})["incidents.cad_folder_watch"]
    assert not without_cad_folder["enabled"] and without_cad_folder["switched_on_by"] == "RTCC_CAD_WATCH_DIR"
    assert without_cad_folder["interval_seconds"] == 0.2

    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve"], stdout=output, stderr=subprocess.STDOUT,
                                  env=environment)
    try:
        def looked_at_the_cad_folder_twice() -> bool:
            assert server.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.HTTPError:
                return False
            with sqlite3.connect(f"file:{data_dir / 'rtcc.sqlite3'}?mode=ro", uri=True) as connection:
                row = connection.execute("SELECT run_count FROM job_runs WHERE domain = 'incidents'").fetchone()
            return bool(row) and row[0] >= 2

        wait_until(looked_at_the_cad_folder_twice, timeout=90, what=lambda: f"two CAD folder looks: {log.read_text()[-2000:]}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert not [line for line in log.read_text().splitlines() if "job " in line and " failed" in line]
    after = _listed(environment)
    assert set(after) == EXPECTED_JOBS | set(SWITCHED_OFF)
    for key in SWITCHED_OFF:  # the server did not schedule them
        assert after[key]["next_run_at"] is None and after[key]["run_count"] == 0 and not after[key]["scheduled_by"]
    for key in EXPECTED_JOBS:
        job = after[key]
        assert job["enabled"] and job["switched_on_by"] is None, key
        assert job["next_run_at"] is not None and job["scheduled_by"], key
        if key == "audit.checkpoints":  # its first run comes one interval (30 min) after start
            assert job["last_run_at"] is None and job["last_outcome"] is None and job["run_count"] == 0
        else:
            assert job["last_outcome"] == "ok" and job["last_run_at"] and job["last_duration_ms"] is not None, job
    assert after["incidents.cad_folder_watch"]["run_count"] >= 2
    assert after["incidents.cad_folder_watch"]["last_message"] == "imported 0 files"
    assert after["auth.account_sweep"]["interval_seconds"] == 3600

    table = _rtcc_jobs(environment)
    assert table.returncode == 0, table.stderr
    lines = {line.split("│")[2].strip(): line for line in table.stdout.splitlines() if line.count("│") > 3}
    assert "never run" in lines["checkpoints"] and "30 min" in lines["checkpoints"]
    assert "ok in" in lines["retention"] and "never run" not in lines["cad_folder_watch"]
    assert "off (switched on by RTCC_HOTLIST_IMPORT_PATHS)" in lines["hotlist_imports"]
    assert "off (switched on by `rtcc demo`)" in lines["demo_calls"] and "off" not in lines["retention"]


def test_a_checkpoint_round_that_cannot_write_is_recorded_as_failed_and_the_next_round_still_runs(runtime, tmp_path):
    """The audit job's failure reaches job_runs (and so `rtcc jobs`), not only the log; it is retried on its interval."""
    import asyncio

    from rtcc.audit import jobs as audit_jobs
    from rtcc.audit import service as audit
    from rtcc.core.actor import SYSTEM
    from rtcc.core.jobs import JobContext, Scheduler, job_overview

    unwritable = tmp_path / "checkpoints-here"
    unwritable.mkdir()  # a folder where the log file should be: every append fails
    runtime.settings.audit_checkpoint_log = unwritable
    runtime.settings.audit_checkpoint_minutes = 0.1
    with runtime.database.session() as db:
        audit.record(db, keys=runtime.keys, actor=SYSTEM, action="test.append")
    [job] = audit_jobs.declare_jobs(JobContext(runtime=runtime))

    async def two_rounds():
        scheduler = Scheduler([job], database=runtime.database)
        await scheduler.start()
        await scheduler.run_once(job)
        await scheduler.run_once(job)
        await scheduler.stop()  # the checkpoint at shutdown fails too, logged, and stopping goes on

    asyncio.run(two_rounds())
    [listed] = job_overview(runtime.database, [job])
    assert listed.last_outcome == "failed" and listed.run_count == listed.failure_count == 2
    assert listed.last_message.startswith("IsADirectoryError") and listed.next_run_at is not None
