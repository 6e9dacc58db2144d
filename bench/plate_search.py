"""Plate search over many synthetic reads: p50/p95 of exact, wildcard and fuzzy searches, SQLite and PostgreSQL.

Usage: python bench/plate_search.py [--reads N] [--queries Q] [--engine sqlite|postgresql|both]
(default 10,000,000 reads, 200 searches of each kind, both engines). Prints one JSON object.
Targets (issue 4, at 10,000,000 reads): p95 < 100 ms exact, < 1 s wildcard (7AB?12*), in both engines.
Kinds: exact; exact in a week at 20 cameras; wildcard ABC?DE*; wildcard AB?D* in a week; the second page
of AB*; fuzzy (one confusable character off); and infix wildcards *CDEF* (all reads, and a week), which
no index on the reads serves: they go through seen_plates (one row per plate) first (Q / 5 of those).

The database is built the way a bulk load is: migrated schema, the secondary indexes set aside, the reads
generated inside the database (a recursive CTE on SQLite, generate_series on PostgreSQL, into monthly
partitions made beforehand), then the indexes made again from their own DDL. Both engines get the same
reads: 1,000,000 vehicles seen 10 times each on average, at 200 cameras, one read every 250 ms over the
last ~29 days (reads 4/s around the clock). Every search goes through rtcc.alpr.search.search_reads, as
the API calls it (purpose, case number, audit record, its own session), newest first, 100 per page.
"""

import argparse
import json
import math
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from rtcc.alpr import partitions
from rtcc.alpr.plates import one_substitution_variants
from rtcc.alpr.search import PlateQuery, search_reads
from rtcc.core.actor import Actor
from rtcc.core.config import Settings
from rtcc.core.runtime import build_runtime

from bench_databases import postgresql_settings, sqlite_settings  # beside this script

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
VEHICLES = 1_000_000
VEHICLE_STEP = 2_654_435_761  # read n is of vehicle (n * VEHICLE_STEP) % VEHICLES: each seen READS / VEHICLES times
PLATE_STEP, PLATE_OFFSET, PLATE_SPACE = 78_364_159, 12_345, 36 ** 7  # vehicle -> a 7-character plate, spread out
CAMERAS = 200
READ_EVERY_MS = 250
CHUNK = 1_000_000
SCAN_SHARE = 5  # searches with a leading wildcard (no index can serve them) are run queries / SCAN_SHARE times
ANALYST = Actor(via="cli", username="bench", agency_ori="CA0199900", permissions=frozenset({"alpr.search"}))


def plate_of_vehicle(vehicle: int) -> str:
    number = (vehicle * PLATE_STEP + PLATE_OFFSET) % PLATE_SPACE
    return "".join(ALPHABET[(number // 36 ** place) % 36] for place in range(7))


def _plate_sql(number: str, cast: str = "{}") -> str:
    return " || ".join(f"substr('{ALPHABET}', {cast.format(f'(({number}) / {36 ** place}) % 36')} + 1, 1)"
                       for place in range(7))


def generate_sql(dialect: str) -> str:
    """One statement inserting reads :lo <= n < :hi, computed in the database."""
    vehicle = f"((n * {VEHICLE_STEP}) % {VEHICLES})"
    number = f"(({vehicle} * {PLATE_STEP} + {PLATE_OFFSET}) % {PLATE_SPACE})"
    columns = "id, plate, plate_raw, confidence, camera_id, read_at, source, source_read_id, matched, created_at"
    if dialect == "postgresql":
        return (f"INSERT INTO plate_reads ({columns}) SELECT n + 1, plate, plate, 0.9, 1 + (n * 40503) % {CAMERAS}, at, "
                f"'bench', lpad(n::text, 9, '0'), false, at FROM ("
                f"SELECT n, {_plate_sql(number, '({})::int')} AS plate, "
                f"CAST(:start AS timestamptz) + n * interval '{READ_EVERY_MS} milliseconds' AS at "
                f"FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint) - 1) AS n) AS reads")
    # SQLite: times as SQLAlchemy stores them ('YYYY-MM-DD HH:MM:SS.ffffff', UTC); every time is a whole millisecond.
    return (f"WITH RECURSIVE series(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM series WHERE n + 1 < :hi) "
            f"INSERT INTO plate_reads ({columns}) SELECT n + 1, plate, plate, 0.9, 1 + (n * 40503) % {CAMERAS}, at, "
            f"'bench', printf('%09d', n), 0, at FROM ("
            f"SELECT n, {_plate_sql(number)} AS plate, "
            f"strftime('%Y-%m-%d %H:%M:%f', :start_epoch + n * {READ_EVERY_MS / 1000}, 'unixepoch') || '000' AS at "
            f"FROM series)")


def secondary_indexes(connection, dialect: str) -> list[tuple[str, str]]:
    """(name, DDL) of plate_reads' indexes other than the primary and idempotency keys."""
    if dialect == "postgresql":
        rows = connection.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'plate_reads'::regclass AND NOT x.indisunique")).all()
    else:
        rows = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'plate_reads' AND sql IS NOT NULL")).all()
    # pg_get_indexdef says "ON ONLY" for a partitioned table's index, which would not build the partitions' own.
    return [(name, ddl.replace(" ON ONLY ", " ON ")) for name, ddl in rows]


def build(runtime, reads: int, start: datetime) -> dict:
    """Fill plate_reads with `reads` synthetic reads from `start`; seconds spent on each step."""
    dialect = runtime.database.dialect
    spent = {}
    began = time.perf_counter()
    with runtime.database.session() as db:
        if dialect == "postgresql":
            months = (reads * READ_EVERY_MS // 1000) // (28 * 86400) + 2
            partitions.ensure_partitions(db, now=start, months_ahead=months)
        indexes = secondary_indexes(db, dialect)
        for name, _ in indexes:
            db.execute(text(f"DROP INDEX {name}"))
    statement = text(generate_sql(dialect))
    for lo in range(0, reads, CHUNK):
        with runtime.database.session() as db:
            db.execute(statement, {"lo": lo, "hi": min(reads, lo + CHUNK), "start": start,
                                   "start_epoch": start.timestamp()})
    with runtime.database.session() as db:  # as migration 0011 fills it from the reads already stored
        db.execute(text("INSERT INTO seen_plates (plate) SELECT DISTINCT plate FROM plate_reads"))
    spent["load_s"] = round(time.perf_counter() - began, 1)
    began = time.perf_counter()
    with runtime.database.session() as db:
        if dialect == "postgresql":
            db.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            db.execute(text(f"SELECT setval(pg_get_serial_sequence('plate_reads', 'id'), {reads})"))
        for _, ddl in indexes:
            db.execute(text(ddl))
    spent["index_s"] = round(time.perf_counter() - began, 1)
    if dialect == "sqlite":  # fold the load's write-ahead log into the database file, as its checkpoints would
        began = time.perf_counter()
        raw = runtime.database.engine.raw_connection()  # outside a transaction, which would block the checkpoint
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        spent["checkpoint_s"] = round(time.perf_counter() - began, 1)
    if dialect == "postgresql":  # autovacuum would analyze a table this size soon after such a load
        began = time.perf_counter()
        with runtime.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE plate_reads"))
        spent["vacuum_analyze_s"] = round(time.perf_counter() - began, 1)
    return spent


def query_sets(reads: int, count: int, start: datetime) -> dict[str, list[tuple[PlateQuery, int | None]]]:
    """Each kind of search, `count` times: (query, before_id for a second page or None)."""
    generator = random.Random(9)
    end = start + timedelta(milliseconds=reads * READ_EVERY_MS)

    def stored_read() -> tuple[str, datetime, int]:  # plate, time and camera of a read that is stored
        number = generator.randrange(reads)
        return (plate_of_vehicle((number * VEHICLE_STEP) % VEHICLES), start + timedelta(milliseconds=number * READ_EVERY_MS),
                1 + (number * 40503) % CAMERAS)

    def week(around: datetime) -> tuple[datetime, datetime]:  # seven days holding that time
        first = max(start, around - timedelta(days=7) * generator.random())
        return first, min(end, first + timedelta(days=7))

    def misread(value: str) -> str:
        variants = one_substitution_variants(value)
        return generator.choice(variants)[0] if variants else value

    kinds: dict[str, list[tuple[PlateQuery, int | None]]] = {name: [] for name in (
        "exact", "exact_week_cameras", "wildcard", "wildcard_week", "wildcard_short_page2", "fuzzy",
        "wildcard_leading", "wildcard_leading_week")}
    for number in range(count):
        value, seen_at, camera = stored_read()
        first, last = week(seen_at)
        cameras = sorted({camera, *generator.sample(range(1, CAMERAS + 1), 19)})
        kinds["exact"].append((PlateQuery(plate=value), None))
        kinds["exact_week_cameras"].append((PlateQuery(plate=value, start=first, end=last, camera_ids=cameras), None))
        kinds["wildcard"].append((PlateQuery(plate=value[:3] + "?" + value[4:6] + "*", mode="wildcard"), None))
        kinds["wildcard_week"].append((PlateQuery(plate=value[:2] + "?" + value[3] + "*", mode="wildcard",
                                                  start=first, end=last), None))
        kinds["wildcard_short_page2"].append((PlateQuery(plate=value[:2] + "*", mode="wildcard"), -1))
        kinds["fuzzy"].append((PlateQuery(plate=misread(value), mode="fuzzy"), None))
        if number < max(1, count // SCAN_SHARE):  # these read every row (of the week): fewer of them
            kinds["wildcard_leading"].append((PlateQuery(plate="*" + value[2:6] + "*", mode="wildcard"), None))
            kinds["wildcard_leading_week"].append((PlateQuery(plate="*" + value[2:6] + "*", mode="wildcard",
                                                              start=first, end=last), None))
    return kinds


def search(runtime, query: PlateQuery, before_id: int | None = None) -> list:
    with runtime.database.session() as db:
        return search_reads(db, runtime=runtime, actor=ANALYST, query=query, purpose="benchmark of plate search",
                            case_number="BENCH-1", limit=100, before_id=before_id)


def percentiles(spent: list[float]) -> dict:
    spent = sorted(spent)
    nearest_rank = max(0, math.ceil(len(spent) * 0.95) - 1)
    return {"p50_ms": round(statistics.median(spent), 1), "p95_ms": round(spent[nearest_rank], 1),
            "max_ms": round(spent[-1], 1)}


def measure(settings: Settings, reads: int, queries: int) -> dict:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    start = (datetime.now(timezone.utc) - timedelta(milliseconds=reads * READ_EVERY_MS)).replace(microsecond=0)
    result = build(runtime, reads, start)
    with runtime.database.session() as db:
        assert db.execute(text("SELECT count(*) FROM plate_reads")).scalar() == reads
    kinds = query_sets(reads, queries, start)
    found = {}
    for kind, items in kinds.items():
        spent, rows = [], []
        for query, before in items:
            if before == -1:  # a second page: the first page's last id, then time only the second
                first_page = search(runtime, query)
                before = first_page[-1].id if len(first_page) == 100 else None
            began = time.perf_counter()
            rows.append(len(search(runtime, query, before)))
            spent.append((time.perf_counter() - began) * 1000)
        result[kind] = percentiles(spent)
        found[kind] = round(statistics.mean(rows), 1)
    result["mean_results"] = found
    runtime.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    options = parser.parse_args()
    report = {"benchmark": "plate_search", "reads": options.reads, "queries_per_kind": options.queries,
              "target_exact_ms_p95": 100, "target_wildcard_ms_p95": 1000}
    if options.engine in ("sqlite", "both"):
        with sqlite_settings() as settings:
            report["sqlite"] = measure(settings, options.reads, options.queries)
    if options.engine in ("postgresql", "both"):
        with postgresql_settings() as settings:
            report["postgresql"] = measure(settings, options.reads, options.queries)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
