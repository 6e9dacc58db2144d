"""Sustained read-store ingest: reads/s into SQLite and PostgreSQL in batches (matching against an empty hotlist).

Prints one JSON object. Targets (issue 4): >= 20,000 reads/s into SQLite, >= 50,000 reads/s into PostgreSQL.
PostgreSQL: RTCC_TEST_POSTGRES_URL (default postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres), a fresh database.
"""

import json
import os
import random
import string
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.core import clock
from rtcc.core.config import Settings
from rtcc.core.runtime import build_runtime

READS = 200_000
BATCH = 5_000
ADMIN_URL = os.environ.get("RTCC_TEST_POSTGRES_URL", "postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres")


def batches():
    generator = random.Random(11)
    start = clock.utcnow() - timedelta(days=1)
    alphabet = string.ascii_uppercase + string.digits
    for offset in range(0, READS, BATCH):
        yield [ReadIn(plate="".join(generator.choice(alphabet) for _ in range(7)), read_at=start + timedelta(milliseconds=n),
                      confidence=0.9, camera_id=1 + n % 40, source_read_id=f"r{n}") for n in range(offset, offset + BATCH)]


def reads_per_second(settings: Settings) -> float:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
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
    with tempfile.TemporaryDirectory() as directory:
        sqlite_rate = reads_per_second(Settings(data_dir=Path(directory)))
    name = f"rtcc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            postgres_rate = reads_per_second(Settings(data_dir=Path(directory), database_url=url))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps({
        "benchmark": "read_ingest", "reads": READS, "batch": BATCH,
        "sqlite_reads_per_second": round(sqlite_rate), "postgresql_reads_per_second": round(postgres_rate),
        "target_sqlite": 20_000, "target_postgresql": 50_000,
    }))


if __name__ == "__main__":
    main()
