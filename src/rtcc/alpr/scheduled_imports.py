"""Hotlists refreshed from files (the nightly NCIC or state extract dropped in a folder)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import select

from rtcc.alpr import hotlists
from rtcc.alpr.models import Hotlist
from rtcc.core.actor import SYSTEM
from rtcc.core.errors import RTCCError
from rtcc.core.runtime import Runtime

log = logging.getLogger(__name__)


def parse_sources(entries: list[str]) -> list[tuple[str, Path]]:
    """'NAME=PATH' settings as (hotlist name, file)."""
    sources = []
    for entry in entries:
        name, separator, path = entry.partition("=")
        if not separator or not name.strip() or not path.strip():
            raise ValueError(f"hotlist import source {entry!r} is not NAME=PATH")
        sources.append((name.strip(), Path(path.strip())))
    return sources


class ScheduledHotlistImports:
    """Re-imports each file as a full extract whenever its content changed (entries missing from it are removed)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.sources = parse_sources(runtime.settings.hotlist_import_paths)
        self.imported: dict[str, str] = {}  # hotlist name -> SHA-256 of the file last imported

    def sweep(self) -> list[tuple[str, hotlists.HotlistImportReport]]:
        """Import every changed file now; a missing or broken file is logged and skipped, the others go on."""
        done = []
        for name, path in self.sources:
            try:
                data = path.read_bytes()
            except OSError as error:
                log.error("hotlist %s: cannot read %s: %s", name, path, error)
                continue
            digest = hashlib.sha256(data).hexdigest()
            if self.imported.get(name) == digest:
                continue
            format = "json" if path.suffix.lower() == ".json" else "csv"
            try:
                with self.runtime.database.session() as db:
                    hotlist = db.execute(select(Hotlist).where(Hotlist.name == name)).scalar_one_or_none()
                    if hotlist is None:
                        hotlist = hotlists.create_hotlist(db, runtime=self.runtime, actor=SYSTEM, name=name, source=str(path),
                                                          priority=5, agency_ori=self.runtime.settings.demo_agency_ori)
                    report = hotlists.import_entries(db, runtime=self.runtime, actor=SYSTEM, hotlist_id=hotlist.id,
                                                     text=data.decode("utf-8-sig"), format=format, replace=True)
            except (RTCCError, UnicodeDecodeError) as error:
                log.error("hotlist %s: %s not imported: %s", name, path, error)
                continue
            self.imported[name] = digest
            for problem in report.errors[:50]:
                log.warning("hotlist %s: %s rejected %s", name, path, problem)
            done.append((name, report))
        return done
