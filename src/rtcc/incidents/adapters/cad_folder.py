"""CAD export files: CSV calls for service dropped in a folder (or given to `rtcc cad import`).

Every good row goes through calls.receive_call, the same path as `POST /api/v1/cad/calls`, so a
call_id seen again updates its call (and incident), and dropping the same file twice changes
nothing. A bad row is reported with its line number and skipped; the others go on. When the
folder watch has read a file it moves it to processed/ beside a `<file>.report.json`; a file that
is not a CAD CSV at all goes to rejected/ with its report. Reading the CSV itself is cad_csv.py.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import InterfaceError, OperationalError

from rtcc.audit import service as audit
from rtcc.auth.service import get_agency
from rtcc.cameras.locator import CameraLocator
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.incidents.settings import IncidentSettings
from rtcc.core.database import run_write
from rtcc.core.errors import AuditUnavailable, NotFound, RTCCError
from rtcc.core.runtime import Runtime
from rtcc.incidents import calls
from rtcc.incidents.adapters.cad_csv import NotCadCsv, parse_rows

log = logging.getLogger(__name__)

PROCESSED_DIR, REJECTED_DIR = "processed", "rejected"
REPORT_SUFFIX = ".report.json"
# Names an exporter writes while it is still busy: never touched.
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".lock")
OUTCOMES = ("opened", "updated", "unchanged", "closed", "no_incident", "rejected")


def cad_actor(settings: IncidentSettings, *, via: str = "system", username: str = "system:cad-folder",
              source_address: str | None = "cad folder") -> Actor:
    """Who the calls of a CAD file are recorded as: the CAD feed of the configured agency."""
    return Actor(via=via, username=username[:64], agency_ori=settings.effective_cad_agency_ori,
                 source_address=source_address)


@dataclass
class LineResult:
    line: int
    call_id: str | None
    outcome: str
    reason: str | None = None
    incident_id: int | None = None


@dataclass
class FileReport:
    """What became of one file and of each of its lines."""

    file: str
    status: str = "processed"  # processed | rejected
    reason: str | None = None
    lines: list[LineResult] = field(default_factory=list)
    moved_to: str | None = None
    processed_at: str = field(default_factory=lambda: clock.iso(clock.utcnow()))

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(line.outcome for line in self.lines)
        return {"rows": len(self.lines), **{outcome: counts.get(outcome, 0) for outcome in OUTCOMES}}

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "reason": self.reason, "processed_at": self.processed_at,
                "moved_to": self.moved_to, "summary": self.summary, "lines": [asdict(line) for line in self.lines]}

    def summary_text(self) -> str:
        if self.status == "rejected":
            return f"{self.file}: rejected: {self.reason}"
        counts = ", ".join(f"{count} {outcome.replace('_', ' ')}" for outcome, count in self.summary.items()
                           if outcome != "rows" and count)
        return f"{self.file}: {self.summary['rows']} rows: {counts or 'nothing'}"


# --- importing -------------------------------------------------------------------------------

def _outcome(result: calls.CallOutcome) -> str:
    if result.opened:
        return "opened"
    if result.call.status == calls.CLOSED_STATUS and ("status" in result.changed or "created" in result.changed):
        return "closed"
    if "created" in result.changed:
        return "no_incident"
    return "updated" if result.changed else "unchanged"


class RetryLater(Exception):
    """The database or the audit trail is unavailable: leave the file where it is and try again."""


def import_csv(runtime: Runtime, *, locator: CameraLocator, actor: Actor, data: bytes, name: str) -> FileReport:
    """Feed every good row of one CAD CSV through receive_call; NotCadCsv when the file is not one at all."""
    report = FileReport(file=name)
    if len(data) > runtime.settings.max_import_bytes:
        raise NotCadCsv(f"larger than {runtime.settings.max_import_bytes} bytes (max_import_bytes)")
    zone = ZoneInfo(runtime.settings.cad_time_zone)
    for row in parse_rows(data, time_zone=zone):
        if row.values is None:
            report.lines.append(LineResult(line=row.line, call_id=row.call_id, outcome="rejected", reason=row.reason))
            continue
        try:
            # A busy database is waited out here; past the retries the whole file waits (RetryLater) and loses nothing.
            result = run_write(runtime.database, lambda db, values=row.values: calls.receive_call(
                db, runtime=runtime, locator=locator, actor=actor, values=values), what=f"CAD file {name} line {row.line}")
            outcome, incident_id = _outcome(result), result.incident.id if result.incident else None
        except AuditUnavailable as error:
            raise RetryLater(str(error)) from error
        except (OperationalError, InterfaceError) as error:
            raise RetryLater(f"database unavailable: {error.__class__.__name__}") from error
        except RTCCError as error:
            report.lines.append(LineResult(line=row.line, call_id=row.call_id, outcome="rejected", reason=error.message))
            continue
        except Exception as error:  # one line's surprise must not stop the others
            log.exception("CAD file %s line %s failed", name, row.line)
            report.lines.append(LineResult(line=row.line, call_id=row.call_id, outcome="rejected",
                                           reason=f"internal error ({error.__class__.__name__})"))
            continue
        report.lines.append(LineResult(line=row.line, call_id=row.call_id, outcome=outcome, incident_id=incident_id))
    return report


def record_import(runtime: Runtime, *, actor: Actor, report: FileReport) -> None:
    """One audit record per file: which file, what it did."""
    run_write(runtime.database, lambda db: audit.record(
        db, keys=runtime.keys, actor=actor, action="cad.file_import", object_type="cad_file",
        object_id=report.file[:200], outcome="success" if report.status == "processed" else "failure",
        details={"summary": report.summary, "reason": report.reason, "moved_to": report.moved_to}),
        what=f"CAD file {report.file} audit")


def import_file(runtime: Runtime, *, locator: CameraLocator, actor: Actor, path: Path) -> FileReport:
    """Import one file where it lies (the CLI): the report says rejected when it is not a CAD CSV."""
    try:
        if path.suffix.lower() != ".csv":
            raise NotCadCsv("not a .csv file; export the calls as CSV")
        report = import_csv(runtime, locator=locator, actor=actor, data=path.read_bytes(), name=path.name)
    except NotCadCsv as error:
        report = FileReport(file=path.name, status="rejected", reason=str(error))
    record_import(runtime, actor=actor, report=report)
    return report


def agency_exists(runtime: Runtime) -> bool:
    with runtime.database.read_session() as db:
        try:
            get_agency(db, ori=runtime.settings.effective_cad_agency_ori)
        except NotFound:
            return False
    return True


# --- the folder watch ------------------------------------------------------------------------

def _free_name(folder: Path, name: str) -> Path:
    """folder/name, or folder/stem-2.suffix (-3, ...) when a file of that name is already there."""
    target = folder / name
    stem, suffix, number = Path(name).stem, Path(name).suffix, 2
    while target.exists() or (folder / (target.name + REPORT_SUFFIX)).exists():
        target = folder / f"{stem}-{number}{suffix}"
        number += 1
    return target


class CadFolderWatch:
    """Imports each file dropped in the folder once its size stopped changing between two looks."""

    def __init__(self, runtime: Runtime, *, locator: CameraLocator, folder: Path | None = None):
        self.runtime = runtime
        self.locator = locator
        self.folder = Path(folder or runtime.settings.cad_watch_dir)
        self.actor = cad_actor(runtime.settings)
        self.last_seen: dict[str, tuple[int, int]] = {}  # name -> (size, mtime) at the previous look
        self._missing_agency_logged = False

    def _candidates(self) -> dict[str, tuple[int, int]]:
        found = {}
        for entry in self.folder.iterdir():
            name = entry.name
            if name.startswith((".", "~")) or name.lower().endswith(_IN_PROGRESS_SUFFIXES) or not entry.is_file():
                continue
            stat = entry.stat()
            if stat.st_size:  # an empty file is one an exporter has only just created
                found[name] = (stat.st_size, stat.st_mtime_ns)
        return found

    def sweep(self) -> list[FileReport]:
        """Look once: import the files that were already there, unchanged, at the previous look."""
        self.folder.mkdir(parents=True, exist_ok=True)
        current = self._candidates()
        ready = sorted(name for name, signature in current.items() if self.last_seen.get(name) == signature)
        self.last_seen = {name: signature for name, signature in current.items() if name not in ready}
        if ready and not agency_exists(self.runtime):
            if not self._missing_agency_logged:
                log.error("CAD folder %s: agency %s does not exist; files wait until it does (rtcc agency create)",
                          self.folder, self.runtime.settings.effective_cad_agency_ori)
                self._missing_agency_logged = True
            return []
        self._missing_agency_logged = False
        reports = []
        for name in ready:
            try:
                reports.append(self.process(self.folder / name))
            except RetryLater as error:  # left in place; the next looks pick it up again
                log.error("CAD file %s not imported yet: %s", name, error)
                break
        return reports

    def process(self, path: Path) -> FileReport:
        """Import one file, then move it with its report to processed/ (or rejected/)."""
        try:
            if path.suffix.lower() != ".csv":
                raise NotCadCsv("not a .csv file; export the calls as CSV")
            report = import_csv(self.runtime, locator=self.locator, actor=self.actor, data=path.read_bytes(),
                                name=path.name)
        except NotCadCsv as error:
            report = FileReport(file=path.name, status="rejected", reason=str(error))
        destination_dir = self.folder / (PROCESSED_DIR if report.status == "processed" else REJECTED_DIR)
        destination_dir.mkdir(exist_ok=True)
        destination = _free_name(destination_dir, path.name)
        report.moved_to = str(destination.relative_to(self.folder))
        record_import(self.runtime, actor=self.actor, report=report)
        report_path = destination_dir / (destination.name + REPORT_SUFFIX)
        report_path.write_text(json.dumps(report.as_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(path, destination)
        rejected = report.summary["rejected"]
        (log.warning if report.status == "rejected" or rejected else log.info)("CAD %s", report.summary_text())
        return report
