"""What one retention run costs: unmatched plate reads past their policy purged by the engine, with and without a
legal hold in force, SQLite and PostgreSQL.

Usage: python bench/retention_purge.py [--reads N] [--engine sqlite|postgresql|both]
(default 200,000 reads, one every 250 ms from 40 days ago, so all of them are past a 30-day policy, both engines).
Prints one JSON object.

"held" runs with a hold on one plate (so every read is checked against the holds and, on PostgreSQL, no month is
dropped whole: the rows go in batches); "unheld" runs with no hold (PostgreSQL drops whole expired months).
Each case loads its own database; "dry_run_s" counts what would go without removing anything.
"""

import argparse
import json
import time
from datetime import timedelta

from bench_databases import postgresql_settings, sqlite_settings  # beside this script
from plate_search import build
from sqlalchemy import func, select

from rtcc.alpr.models import PlateRead
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import build_runtime
from rtcc.governance.retention import engine, service


def one_case(settings, reads: int, *, held: bool) -> dict:
    runtime = build_runtime(settings)
    try:
        runtime.database.upgrade()
        build(runtime, reads, clock.utcnow() - timedelta(days=40))
        result = {}
        with runtime.database.session() as db:
            if held:
                plate = db.execute(select(PlateRead.plate).limit(1)).scalar_one()
                service.place_hold(db, runtime=runtime, actor=SYSTEM, kind="plate", plate=plate, reason="bench hold")
                result["held_reads"] = db.execute(select(func.count()).where(PlateRead.plate == plate)).scalar_one()
        began = time.perf_counter()
        would = engine.run_class(runtime, "plate_reads", dry_run=True)
        result["dry_run_s"] = round(time.perf_counter() - began, 2)
        runs, purged, began = 0, 0, time.perf_counter()
        while True:  # one run takes at most engine.MAX_PER_RUN; the job's sweeps go on the same way
            done = engine.run_class(runtime, "plate_reads")
            runs, purged = runs + 1, purged + done.count
            if done.count < engine.MAX_PER_RUN:
                break
        seconds = time.perf_counter() - began
        with runtime.database.session() as db:
            left = db.execute(select(func.count()).select_from(PlateRead)).scalar_one()
        result.update(would_purge=would.count, purged=purged, runs=runs, left=left, skipped_held=done.skipped_held,
                      purge_s=round(seconds, 2), reads_per_s=round(purged / seconds) if seconds else None)
        return result
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    arguments = parser.parse_args()
    engines = ("sqlite", "postgresql") if arguments.engine == "both" else (arguments.engine,)
    report = {"reads": arguments.reads, "policy": "plate_reads 30d (RTCC_READ_RETENTION_DAYS default)"}
    for name in engines:
        for held in (False, True):
            settings_of = sqlite_settings if name == "sqlite" else postgresql_settings
            with settings_of() as settings:
                report[f"{name}_{'held' if held else 'unheld'}"] = one_case(settings, arguments.reads, held=held)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
