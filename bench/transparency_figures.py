"""What counting the public transparency figures costs the database, uncached and cached, SQLite and PostgreSQL.

Usage: python bench/transparency_figures.py [--reads N] [--runs R] [--engine sqlite|postgresql|both]
(default 1,000,000 reads over the last ~29 days, 5 runs, both engines). Prints one JSON object.

The reads are loaded as bench/plate_search.py loads them (generated inside the database, indexes made after),
with 1 in 1,000 given a plate alert (a tenth of those confirmed) and the demo city's 36 cameras. Each run counts
the whole document afresh (rtcc.governance.transparency.service.count_document, as a request past the cache
does), with the time of each section; "cached_ms" is a request within RTCC_TRANSPARENCY_CACHE_SECONDS.
"""

import argparse
import json
import statistics
import time
from datetime import timedelta

from bench_databases import postgresql_settings, sqlite_settings  # beside this script
from plate_search import READ_EVERY_MS, build
from sqlalchemy import text

from rtcc.auth import service as accounts
from rtcc.core import clock
from rtcc.core.runtime import build_runtime
from rtcc.governance.transparency import figures, service
from rtcc.sim.city import seed_city

ALERT_EVERY = 1000


def add_alerts(runtime, reads: int) -> int:
    """A plate alert for every ALERT_EVERY-th read (one hotlist entry behind them all), every tenth confirmed."""
    with runtime.database.session() as db:
        agency_id = db.execute(text("SELECT id FROM agencies ORDER BY id LIMIT 1")).scalar_one()
        now = clock.utcnow()
        db.execute(text("INSERT INTO hotlists (id, name, source, priority, agency_id, description, created_at) "
                        "VALUES (9001, 'bench', 'NCIC', 1, :agency, '', :now)"), {"agency": agency_id, "now": now})
        db.execute(text("INSERT INTO hotlist_entries (id, hotlist_id, external_id, plate, reason, entered_at, version) "
                        "VALUES (9001, 9001, 'bench', 'BENCH01', 'STOLEN VEHICLE', :now, 1)"), {"now": now})
        db.execute(text(
            "INSERT INTO plate_alerts (read_id, entry_id, hotlist_id, camera_id, plate, match_method, priority, status, "
            "repeats, disposition, created_at) SELECT id, 9001, 9001, camera_id, plate, 'exact', 1, 'closed', 0, "
            f"CASE WHEN id % {ALERT_EVERY * 10} = 0 THEN 'confirmed' ELSE 'misread' END, read_at "
            f"FROM plate_reads WHERE id % {ALERT_EVERY} = 0"))
    return reads // ALERT_EVERY


def timed_sections(runtime) -> dict[str, float]:
    """Milliseconds of each section's query, counted one after another in one read session."""
    settings = runtime.settings
    small, now = settings.transparency_small_count, clock.utcnow()
    period = figures.Period.last_days(now)
    sections = {
        "cameras": lambda db: figures.cameras(db, runtime=runtime),
        "plates": lambda db: figures.plates(db, period=period, small=small),
        "calls": lambda db: figures.calls(db, period=period),
        "looks": lambda db: figures.looks(db, period=period),
        "searches_by_purpose": lambda db: figures.searches_by_purpose(db, period=period, small=small),
        "sharing": lambda db: figures.sharing(db, period=period, small=small),
        "retention": lambda db: figures.retention(db, runtime=runtime),
        "holds": lambda db: figures.holds(db, now=now, small=small),
        "audit_review": lambda db: figures.audit_review(db, period=period, small=small),
        "policies": lambda db: figures.policies(db),
        "releases": lambda db: figures.releases(db, period=period),
    }
    spent = {}
    with runtime.database.read_session() as db:
        for name, count in sections.items():
            began = time.perf_counter()
            count(db)
            spent[name] = round((time.perf_counter() - began) * 1000, 1)
    return spent


def measure(settings_of, reads: int, runs: int) -> dict:
    with settings_of() as settings:
        runtime = build_runtime(settings)
        try:
            runtime.database.upgrade()
            start = clock.utcnow() - timedelta(milliseconds=reads * READ_EVERY_MS) - timedelta(minutes=1)
            with runtime.database.session() as db:
                seed_city(db, runtime=runtime)
                accounts.ensure_agency(db, runtime=runtime, ori=settings.demo_agency_ori, name="Bench")
            loaded = build(runtime, reads, start)
            alerts = add_alerts(runtime, reads)
            document_ms, sections = [], []
            for _ in range(runs):
                began = time.perf_counter()
                document = service.count_document(runtime)
                document_ms.append((time.perf_counter() - began) * 1000)
                sections.append(timed_sections(runtime))
            assert document.plates.reads == reads, document.plates.reads
            service.public_document(runtime)  # fills the cache
            began = time.perf_counter()
            service.public_document(runtime)
            cached_ms = (time.perf_counter() - began) * 1000
            return {
                "reads": reads, "alerts": alerts, "load": loaded,
                "document_ms_median": round(statistics.median(document_ms), 1),
                "document_ms_max": round(max(document_ms), 1),
                "sections_ms_median": {name: round(statistics.median(run[name] for run in sections), 1)
                                       for name in sections[0]},
                "cached_ms": round(cached_ms, 3),
            }
        finally:
            runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    arguments = parser.parse_args()
    engines = {"sqlite": sqlite_settings, "postgresql": postgresql_settings}
    chosen = engines if arguments.engine == "both" else {arguments.engine: engines[arguments.engine]}
    print(json.dumps({name: measure(settings_of, arguments.reads, arguments.runs) for name, settings_of in chosen.items()}))


if __name__ == "__main__":
    main()
