"""CAD export CSVs dropped in a folder become calls and incidents, line by line, with a report."""

import asyncio
import json
import re
from datetime import UTC, datetime

from sqlalchemy import select
from support import TEST_AGENCY
from typer.testing import CliRunner

from rtcc.audit import service as audit
from rtcc.cameras.locator import CameraLocator
from rtcc.cli import app as cli
from rtcc.core.jobs import JobContext, Scheduler
from rtcc.incidents import jobs as incident_jobs
from rtcc.incidents.adapters.cad_folder import CadFolderWatch
from rtcc.incidents.models import CallForService, Incident

HEADER = "Incident Number,Nature,Priority,Location,Lat,Lng,Call Received,Comments,Units,Status,Beat\n"
FIRST_EXPORT = (
    HEADER
    + 'C-100,Shots Fired,1,1200 Vine St,34.1000,-118.3000,2026-11-22 09:15:02,"Shots heard, two people running",2A12;2A14,open,2A\n'
    + "C-101,Noise complaint,4,1300 Vine St,34.1010,-118.3010,11/22/2026 09:20,Loud party,,open,2B\n"
    + ",Robbery,1,1400 Vine St,34.1020,-118.3020,2026-11-22 09:21:00,,,open,2B\n"
    + "C-102,Robbery,urgent,1400 Vine St,34.1020,-118.3020,2026-11-22 09:22:00,,,open,2B\n"
    + "C-103,Assault,2,1500 Vine St,134.1,-118.3,2026-11-22 09:23:00,,,open,2B\n"
    + "C-104,Assault,2,1500 Vine St,34.1030,-118.3030,around nine,,,open,2B\n"
).encode() + "C-105,Th\xe9ft,3,1600 Vine St,34.1040,-118.3040,2026-11-22 09:24:00,,,open,2B\n".encode("latin-1") + (
    'C-100,Shots Fired,1,1200 Vine St,34.1000,-118.3000,2026-11-22 09:15:02,"Shots heard, two people running\n'
    'Units on scene",2A12|2A14|2A20,open,2A\n'
    "C-106,Robbery,2,1700 Vine St,34.1050,-118.3050,2026-11-22T17:30:00Z,,3A1,dispatched,3A\n"
).encode()
FIRST_LINES = [
    (2, "C-100", "opened", None),
    (3, "C-101", "no_incident", None),
    (4, None, "rejected", "missing call_id"),
    (5, "C-102", "rejected", "priority 'urgent' is not a number from 1 to 5"),
    (6, "C-103", "rejected", "latitude 134.1 is out of range (-90 to 90)"),
    (7, "C-104", "rejected", "received_at 'around nine' is not a time (ISO 8601, or MM/DD/YYYY HH:MM[:SS])"),
    (8, "C-105", "rejected", "not UTF-8 text (encoding error)"),
    (9, "C-100", "updated", None),  # the same call again (a two-line narrative): the later row wins
    (11, "C-106", "opened", None),
]
SECOND_EXPORT = (
    HEADER
    + 'C-100,Shots Fired,1,1200 Vine St,34.1000,-118.3000,2026-11-22 09:15:02,"Shots heard, two people running\n'
      'Units on scene",2A12|2A14|2A20,Closed,2A\n'
    + "C-101,Noise complaint,2,1300 Vine St,34.1010,-118.3010,11/22/2026 09:20,Loud party; fight started,,open,2B\n"
    + "C-106,Robbery,2,1700 Vine St,34.1050,-118.3050,2026-11-22T17:30:00Z,,3A1,dispatched,3A\n"
).encode()


def _watch(runtime, tmp_path, **settings) -> CadFolderWatch:
    runtime.settings.cad_watch_dir = tmp_path / "cad"
    runtime.settings.cad_time_zone = "America/Los_Angeles"
    for name, value in settings.items():
        setattr(runtime.settings, name, value)
    return CadFolderWatch(runtime, locator=CameraLocator())


def _drop_and_sweep(watch, files: dict[str, bytes]):
    """Drop the files, then look twice: a file is imported once it was the same size at two looks."""
    watch.folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (watch.folder / name).write_bytes(data)
    assert watch.sweep() == []
    return {report.file: report for report in watch.sweep()}


def _audit(runtime, action):
    with runtime.database.session() as db:
        return [{"username": row.username, "agency_ori": row.agency_ori, "details": json.loads(row.details or "{}")}
                for row in audit.search(db, query=audit.AuditQuery(action=action))]


def _lines(report):
    return [(line.line, line.call_id, line.outcome, line.reason) for line in report.lines]


def _rows(runtime, model):
    """call_id -> the row as it is now, detached from its session."""
    with runtime.database.read_session() as db:
        rows = list(db.execute(select(model)).scalars())
        db.expunge_all()
    return {row.call_id: row for row in rows}


def _calls(runtime):
    return _rows(runtime, CallForService)


def _incidents(runtime):
    return _rows(runtime, Incident)


def test_a_cad_export_opens_incidents_keeps_extra_columns_and_reports_each_bad_line(runtime, tmp_path):
    watch = _watch(runtime, tmp_path)
    report = _drop_and_sweep(watch, {"calls.csv": FIRST_EXPORT})["calls.csv"]
    assert _lines(report) == FIRST_LINES
    assert report.summary == {"rows": 9, "opened": 2, "updated": 1, "unchanged": 0, "closed": 0, "no_incident": 1,
                              "rejected": 5}

    # The file left the inbox for processed/, beside its report.
    assert not (watch.folder / "calls.csv").exists()
    assert (watch.folder / "processed" / "calls.csv").read_bytes() == FIRST_EXPORT
    written = json.loads((watch.folder / "processed" / "calls.csv.report.json").read_text())
    assert written["status"] == "processed" and written["moved_to"] == "processed/calls.csv"
    assert [(line["line"], line["call_id"], line["outcome"], line["reason"]) for line in written["lines"]] == FIRST_LINES

    calls = _calls(runtime)
    assert set(calls) == {"C-100", "C-101", "C-106"}
    shots = calls["C-100"]
    assert shots.extra == {"Beat": "2A"} and shots.units == ["2A12", "2A14", "2A20"]
    assert shots.narrative == "Shots heard, two people running\nUnits on scene"
    assert shots.received_at == datetime(2026, 11, 22, 17, 15, 2, tzinfo=UTC)  # Pacific time without an offset
    assert calls["C-101"].received_at == datetime(2026, 11, 22, 17, 20, tzinfo=UTC)
    assert calls["C-106"].status == "dispatched" and calls["C-106"].agency_id is not None
    incidents = _incidents(runtime)
    assert set(incidents) == {"C-100", "C-106"}
    assert incidents["C-100"].title == "Shots fired at 1200 Vine St" and incidents["C-100"].status == "open"

    received = _audit(runtime, "cad.call_receive")
    assert {(row["username"], row["agency_ori"]) for row in received} == {("system:cad-folder", TEST_AGENCY)}
    assert len(received) == 4
    assert [row["details"]["summary"]["rejected"] for row in _audit(runtime, "cad.file_import")] == [5]


def test_dropping_an_updated_export_updates_and_closes_idempotently(runtime, tmp_path):
    watch = _watch(runtime, tmp_path)
    _drop_and_sweep(watch, {"calls.csv": FIRST_EXPORT})

    second = _drop_and_sweep(watch, {"calls.csv": SECOND_EXPORT})["calls.csv"]
    assert [(line.call_id, line.outcome) for line in second.lines] == [
        ("C-100", "closed"), ("C-101", "opened"), ("C-106", "unchanged")]
    assert (watch.folder / "processed" / "calls-2.csv").exists()
    assert (watch.folder / "processed" / "calls-2.csv.report.json").exists()
    incidents = _incidents(runtime)
    assert incidents["C-100"].status == "closed" and incidents["C-101"].status == "open"
    assert incidents["C-101"].priority == 2

    # The same export dropped again changes nothing: no new incident, no second closure.
    again = _drop_and_sweep(watch, {"calls.csv": SECOND_EXPORT})["calls.csv"]
    assert [line.outcome for line in again.lines] == ["unchanged"] * 3
    assert len(_incidents(runtime)) == 3 and len(_calls(runtime)) == 3
    assert len(_audit(runtime, "incident.close")) == 1


def test_files_that_are_not_cad_csv_go_to_rejected_and_the_others_are_still_imported(runtime, tmp_path):
    watch = _watch(runtime, tmp_path)
    good = HEADER.encode() + b"C-200,Robbery,1,1 Main St,34.1,-118.3,2026-11-22 10:00,,,open,1A\n"
    reports = _drop_and_sweep(watch, {
        "a-junk.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "b-no-ids.csv": b"name,colour\napple,red\n",
        "c-calls.xlsx": b"PK\x03\x04 not a csv at all",
        "d-good.csv": good,
        ".e-hidden.csv": good,  # an exporter's temporary file: left alone
        "f-writing.csv.part": good,
    })
    assert {name: (report.status, report.reason) for name, report in reports.items()} == {
        "a-junk.csv": ("rejected", "binary file (NUL bytes), not a CSV export"),
        "b-no-ids.csv": ("rejected", "no call id column (such as call_id or incident_number); header: name, colour"),
        "c-calls.xlsx": ("rejected", "not a .csv file; export the calls as CSV"),
        "d-good.csv": ("processed", None),
    }
    assert sorted(path.name for path in (watch.folder / "rejected").iterdir()) == [
        "a-junk.csv", "a-junk.csv.report.json", "b-no-ids.csv", "b-no-ids.csv.report.json",
        "c-calls.xlsx", "c-calls.xlsx.report.json"]
    assert sorted(path.name for path in watch.folder.iterdir() if path.is_file()) == [".e-hidden.csv", "f-writing.csv.part"]
    assert set(_incidents(runtime)) == {"C-200"}


def test_a_file_still_being_written_waits_until_its_size_stops_changing(runtime, tmp_path):
    watch = _watch(runtime, tmp_path)
    watch.folder.mkdir(parents=True)
    path = watch.folder / "slow.csv"
    path.write_bytes(HEADER.encode() + b"C-300,Robbery,1,1 Main St,34.1,-118.3,2026-11-22 10:00,,,open,1A\n")
    assert watch.sweep() == []
    with path.open("ab") as handle:
        handle.write(b"C-301,Assault,2,2 Main St,34.1,-118.3,2026-11-22 10:01,,,open,1A\n")
    assert watch.sweep() == []  # it grew since the last look
    [report] = watch.sweep()
    assert [line.outcome for line in report.lines] == ["opened", "opened"]


def test_the_folder_watch_runs_in_the_background(runtime, tmp_path):
    watch = _watch(runtime, tmp_path, cad_watch_poll_seconds=0.05)
    [job] = incident_jobs.declare_jobs(JobContext(runtime=runtime, camera_locator=CameraLocator()))

    async def scenario():
        scheduler = Scheduler([job], database=runtime.database)
        await scheduler.start()
        try:
            await asyncio.sleep(0.1)
            (watch.folder / "live.csv").write_bytes(
                HEADER.encode() + b"C-400,Shots fired,1,1 Main St,34.1,-118.3,2026-11-22 10:00,,,open,1A\n")
            for _ in range(200):
                if (watch.folder / "processed" / "live.csv.report.json").exists():
                    return
                await asyncio.sleep(0.05)
        finally:
            await scheduler.stop()

    asyncio.run(scenario())
    report = json.loads((watch.folder / "processed" / "live.csv.report.json").read_text())
    assert report["summary"]["opened"] == 1 and set(_incidents(runtime)) == {"C-400"}


def test_rtcc_cad_import_prints_the_summary_and_the_bad_lines(runtime, tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(FIRST_EXPORT)
    env = {"RTCC_DATABASE_URL": runtime.settings.effective_database_url, "RTCC_CAD_TIME_ZONE": "America/Los_Angeles"}
    result = CliRunner().invoke(cli, ["cad", "import", str(export), "--data-dir", str(runtime.settings.data_dir)], env=env)
    assert result.exit_code == 0, result.output
    assert "export.csv: 9 rows: 2 opened, 1 updated, 1 no incident, 5 rejected" in result.output
    assert re.search(r"line 5 \(C-102\): priority 'urgent' is not a number from 1 to 5", result.output)
    assert export.exists()  # the command leaves the file where it is
    assert set(_incidents(runtime)) == {"C-100", "C-106"}
    received = _audit(runtime, "cad.call_receive")
    assert {row["username"].split(":")[0] for row in received} == {"cli"}
    assert {row["agency_ori"] for row in received} == {TEST_AGENCY}

    not_csv = tmp_path / "export.xlsx"
    not_csv.write_bytes(b"PK\x03\x04")
    refused = CliRunner().invoke(cli, ["cad", "import", str(not_csv), "--data-dir", str(runtime.settings.data_dir)], env=env)
    assert refused.exit_code == 1 and "rejected: not a .csv file" in refused.output
