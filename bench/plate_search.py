"""Plate search over many synthetic reads: p50/p95 of exact, wildcard and fuzzy searches, SQLite and PostgreSQL.

Usage: python bench/plate_search.py [--reads N] [--queries Q] [--engine sqlite|postgresql|both] [--kinds a,b]
[--trigram-comparison] (default 10,000,000 reads, 200 searches of each kind, both engines). Prints one JSON object.

--trigram-comparison (PostgreSQL): the same reads and searches three ways in one run: "before" without
migration 0014's pg_trgm index on seen_plates (infix scans the list of plates), "after" with it, and
"reference_trigram_on_reads", a pg_trgm GIN index on plate_reads itself with the infix matched on the reads
directly (what issue 11 compared against), each through search_reads; with the ratios after / reference.
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
from datetime import UTC, datetime, timedelta

from bench_databases import postgresql_settings, sqlite_settings  # beside this script
from sqlalchemy import select, text

from rtcc.alpr import partitions
from rtcc.alpr import search as plate_search
from rtcc.alpr.models import PlateRead
from rtcc.alpr.plates import one_substitution_variants
from rtcc.alpr.search import PlateQuery, search_reads
from rtcc.core.actor import Actor
from rtcc.settings import Settings
from rtcc.core.runtime import build_runtime

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


def seen_plates_indexes(connection, dialect: str) -> list[tuple[str, str]]:
    """(name, DDL) of seen_plates' indexes beside its key: migration 0014's trigram index, on PostgreSQL."""
    if dialect != "postgresql":
        return []
    return connection.execute(text(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = 'seen_plates'::regclass AND NOT x.indisunique")).all()


def build(runtime, reads: int, start: datetime, *, keep_seen_plates_indexes: bool = True) -> dict:
    """Fill plate_reads with `reads` synthetic reads from `start`; seconds spent on each step.

    With keep_seen_plates_indexes False, seen_plates' trigram index is left out (spent["seen_plates_indexes"]
    holds its DDL, to be made later).
    """
    dialect = runtime.database.dialect
    spent = {}
    began = time.perf_counter()
    with runtime.database.session() as db:
        if dialect == "postgresql":
            months = (reads * READ_EVERY_MS // 1000) // (28 * 86400) + 2
            partitions.ensure_partitions(db, now=start, months_ahead=months)
        indexes = secondary_indexes(db, dialect) + seen_plates_indexes(db, dialect)
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
        for name, ddl in indexes:
            if keep_seen_plates_indexes or "seen_plates" not in ddl:
                db.execute(text(ddl))
    if not keep_seen_plates_indexes:
        spent["seen_plates_indexes"] = [ddl for _, ddl in indexes if "seen_plates" in ddl]
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
            connection.execute(text("VACUUM ANALYZE seen_plates"))
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
                            case_number="BENCH-1", purpose_category="2400", limit=100, before_id=before_id)


def percentiles(spent: list[float]) -> dict:
    spent = sorted(spent)
    nearest_rank = max(0, math.ceil(len(spent) * 0.95) - 1)
    return {"p50_ms": round(statistics.median(spent), 2), "p95_ms": round(spent[nearest_rank], 2),
            "max_ms": round(spent[-1], 1)}


def time_kinds(runtime, kinds: dict[str, list[tuple[PlateQuery, int | None]]]) -> tuple[dict, dict]:
    """Percentiles of each kind of search, and the mean number of results."""
    result, found = {}, {}
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
    return result, found


def time_queries_alone(runtime, items: list[tuple[PlateQuery, int | None]], *, on_reads: bool = False) -> dict:
    """The database's part of a first-page search: the statement search_reads runs, in one open session, no audit.

    on_reads matches the wildcard on plate_reads itself (for the pg_trgm-on-reads reference).
    """
    spent = []
    with runtime.database.session() as db:
        for query, _ in items:
            began = time.perf_counter()
            condition = (PlateRead.plate.like(query.plate.replace("*", "%").replace("?", "_")) if on_reads
                         else plate_search._plate_condition(db, query))
            db.execute(select(PlateRead.id).where(condition).order_by(PlateRead.id.desc()).limit(100)).all()
            spent.append((time.perf_counter() - began) * 1000)
        db.rollback()
    return percentiles(spent)


def measure(settings: Settings, reads: int, queries: int, kind_names: list[str] | None = None,
            trigram_comparison: bool = False) -> dict:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    start = (datetime.now(UTC) - timedelta(milliseconds=reads * READ_EVERY_MS)).replace(microsecond=0)
    comparing = trigram_comparison and runtime.database.dialect == "postgresql"
    result = build(runtime, reads, start, keep_seen_plates_indexes=not comparing)
    with runtime.database.session() as db:
        assert db.execute(text("SELECT count(*) FROM plate_reads")).scalar() == reads
    kinds = query_sets(reads, queries, start)
    if kind_names:
        kinds = {name: kinds[name] for name in kind_names}
    if not comparing:
        timings, found = time_kinds(runtime, kinds)
        result.update(timings)
        result["mean_results"] = found
        runtime.close()
        return result
    seen_plates_ddl = result.pop("seen_plates_indexes")
    infix = {name: items for name, items in kinds.items() if name == "wildcard_leading"}
    result["before"], before_found = time_kinds(runtime, kinds)
    result["before_query_alone"] = {name: time_queries_alone(runtime, items) for name, items in infix.items()}
    with runtime.database.session() as db:
        for ddl in seen_plates_ddl:
            began = time.perf_counter()
            db.execute(text(ddl))
            result["seen_plates_trigram_index_s"] = round(time.perf_counter() - began, 1)
        db.execute(text("ANALYZE seen_plates"))
    result["after"], after_found = time_kinds(runtime, kinds)
    result["after_query_alone"] = {name: time_queries_alone(runtime, items) for name, items in infix.items()}
    infix = {name: items for name, items in kinds.items() if name.startswith("wildcard_leading")}
    with runtime.database.session() as db:
        began = time.perf_counter()
        db.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        db.execute(text("CREATE INDEX ix_plate_reads_plate_trigram ON plate_reads USING gin (plate gin_trgm_ops)"))
        result["reads_trigram_index_s"] = round(time.perf_counter() - began, 1)
        db.execute(text("ANALYZE plate_reads"))
    # search_reads with the wildcard matched on the reads themselves: a limit below zero lists no plate first.
    plate_search.SEEN_PLATES_MOST, kept = -1, plate_search.SEEN_PLATES_MOST
    try:
        result["reference_trigram_on_reads"], reference_found = time_kinds(runtime, infix)
    finally:
        plate_search.SEEN_PLATES_MOST = kept
    result["reference_query_alone"] = {name: time_queries_alone(runtime, items, on_reads=True)
                                       for name, items in infix.items() if name == "wildcard_leading"}
    result["mean_results"] = {"before": before_found, "after": after_found, "reference": reference_found}
    result["ratio_before_over_after_p50"] = {
        name: round(result["before"][name]["p50_ms"] / result["after"][name]["p50_ms"], 2) for name in kinds}
    result["ratio_after_over_reference_p50"] = {
        name: round(result["after"][name]["p50_ms"] / result["reference_trigram_on_reads"][name]["p50_ms"], 2)
        for name in infix}
    result["ratio_after_over_reference_query_alone_p50"] = {
        name: round(result["after_query_alone"][name]["p50_ms"] / figures["p50_ms"], 2)
        for name, figures in result["reference_query_alone"].items()}
    runtime.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--kinds", help="comma-separated kinds of search to run (default: all)")
    parser.add_argument("--trigram-comparison", action="store_true",
                        help="PostgreSQL: before/after migration 0014's trigram index, and pg_trgm on the reads")
    options = parser.parse_args()
    kind_names = options.kinds.split(",") if options.kinds else None
    report = {"benchmark": "plate_search", "reads": options.reads, "queries_per_kind": options.queries,
              "target_exact_ms_p95": 100, "target_wildcard_ms_p95": 1000}
    if options.engine in ("sqlite", "both"):
        with sqlite_settings() as settings:
            report["sqlite"] = measure(settings, options.reads, options.queries, kind_names)
    if options.engine in ("postgresql", "both"):
        with postgresql_settings() as settings:
            report["postgresql"] = measure(settings, options.reads, options.queries, kind_names,
                                           options.trigram_comparison)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
