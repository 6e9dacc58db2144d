"""Sustained read-store ingest: reads/s into SQLite and PostgreSQL in batches (matching against an empty hotlist).

Usage: python bench/read_ingest.py [--runs N] [--existing M] (default 3 runs, each a fresh database, and no
history). Prints one JSON object: the median of the runs, and each run. --existing loads M reads of history
first (the bulk way bench/plate_search.py does, over the last ~M/4 seconds) and times ingest on top of them:
what a store weeks into service sustains. Targets (issue 4): >= 20,000 reads/s into SQLite, >= 50,000 reads/s into
PostgreSQL (its plate_reads partitioned by month; the reads fall in the current month's partition).
PostgreSQL: RTCC_TEST_POSTGRES_URL (default postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres), a fresh database.
"""

import argparse
import json
import random
import statistics
import string
import time
from datetime import datetime, timedelta, timezone

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.core import clock
from rtcc.core.config import Settings
from rtcc.core.runtime import build_runtime

from bench_databases import postgresql_settings, sqlite_settings  # beside this script
from plate_search import READ_EVERY_MS, build  # beside this script

READS = 200_000
BATCH = 5_000


def batches():
    generator = random.Random(11)
    start = clock.utcnow() - timedelta(hours=1)
    alphabet = string.ascii_uppercase + string.digits
    for offset in range(0, READS, BATCH):
        yield [ReadIn(plate="".join(generator.choice(alphabet) for _ in range(7)), read_at=start + timedelta(milliseconds=n),
                      confidence=0.9, camera_id=1 + n % 40, source_read_id=f"r{n}") for n in range(offset, offset + BATCH)]


def reads_per_second(settings: Settings, existing: int = 0) -> float:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    if existing:
        history_start = (datetime.now(timezone.utc) - timedelta(milliseconds=existing * READ_EVERY_MS + 7_200_000))
        build(runtime, existing, history_start.replace(microsecond=0))
    cache = HotlistCache()
    prepared = list(batches())
    started = time.perf_counter()
    for batch in prepared:
        with runtime.database.session() as db:
            ingest(db, runtime=runtime, hotlists=cache, source="bench", reads=batch)
    elapsed = time.perf_counter() - started
    runtime.close()
    return READS / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--existing", type=int, default=0)
    options = parser.parse_args()
    runs, existing = options.runs, options.existing
    sqlite_rates, postgres_rates = [], []
    for _ in range(runs):
        with sqlite_settings() as settings:
            sqlite_rates.append(round(reads_per_second(settings, existing)))
        with postgresql_settings() as settings:
            postgres_rates.append(round(reads_per_second(settings, existing)))
    print(json.dumps({
        "benchmark": "read_ingest", "reads": READS, "batch": BATCH, "runs": runs, "existing_reads": existing,
        "sqlite_reads_per_second": round(statistics.median(sqlite_rates)),
        "postgresql_reads_per_second": round(statistics.median(postgres_rates)),
        "sqlite_runs": sqlite_rates, "postgresql_runs": postgres_rates,
        "target_sqlite": 20_000, "target_postgresql": 50_000,
    }))


if __name__ == "__main__":
    main()
