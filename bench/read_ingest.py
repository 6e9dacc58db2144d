"""Sustained read-store ingest: reads/s into SQLite and PostgreSQL in batches (matching against an empty hotlist).

Usage: python bench/read_ingest.py [--runs N] [--existing M] (default 3 runs, each a fresh database, and no
history). Prints one JSON object: the median of the runs, and each run. --existing loads M reads of history
first (the bulk way bench/plate_search.py does, over the last ~M/4 seconds) and times ingest on top of them:
what a store weeks into service sustains. Targets (issue 4): >= 20,000 reads/s into SQLite, >= 50,000 reads/s into
PostgreSQL (its plate_reads partitioned by month; the reads fall in the current month's partition).
PostgreSQL: RTCC_TEST_POSTGRES_URL (default postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres), a fresh database.

--compare-copy (PostgreSQL only): where ingest's time goes. Each run, in fresh databases and with the same reads and
batches: a raw binary COPY of the rows ingest would store (psycopg, FORMAT BINARY, one COPY and one commit per
batch) into the same partitioned table and indexes; the same COPY plus the seen_plates statement ingest runs;
the ingest path; the ingest path without migration 0014's trigram index; and, with --before DIR (a checkout of an
earlier commit, `git worktree add DIR <commit>`), that checkout's ingest path, run in a child process. Rates are
reads/s; ratios are each path's rate over the raw COPY's.
"""

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_databases import postgresql_settings, sqlite_settings  # beside this script
from plate_search import READ_EVERY_MS, build  # beside this script
from sqlalchemy import text

from rtcc.alpr import reads
from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.plates import normalise_plate
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.core import clock
from rtcc.settings import Settings
from rtcc.core.runtime import build_runtime

READS = 200_000
BATCH = 5_000


FLEET = int(os.environ.get("RTCC_BENCH_FLEET", "0"))  # --fleet, passed on to a child process this way


def batches():
    """Every plate new (the worst case for seen_plates), or with --fleet N drawn from N vehicles (plates repeat)."""
    generator = random.Random(11)
    start = clock.utcnow() - timedelta(hours=1)
    alphabet = string.ascii_uppercase + string.digits
    fleet = ["".join(generator.choice(alphabet) for _ in range(7)) for _ in range(FLEET)]

    def plate() -> str:
        return generator.choice(fleet) if fleet else "".join(generator.choice(alphabet) for _ in range(7))

    for offset in range(0, READS, BATCH):
        yield [ReadIn(plate=plate(), read_at=start + timedelta(milliseconds=n),
                      confidence=0.9, camera_id=1 + n % 40, source_read_id=f"r{n}") for n in range(offset, offset + BATCH)]


class CostMeter:
    """Wall time, and CPU time of this process plus the PostgreSQL backends serving the database.

    On a box shared with other work the wall clock swings 2-4x between runs; the CPU spent (client and
    server backend, read from /proc as the server runs here) is the steadier measure of a path's cost.
    WAL writer, checkpointer and disk waits are not in it: they show in the wall clock only.
    """

    def __init__(self, runtime):
        self.runtime = runtime

    def _backends(self) -> dict[int, float]:
        if self.runtime.database.dialect != "postgresql":
            return {}
        with self.runtime.database.session() as db:
            pids = db.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
            return {pid: _process_cpu_s(pid) for pid in pids}

    def __enter__(self):
        self.server_before = self._backends()
        self.client_before, self.wall_before = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *_):
        self.wall_s = time.perf_counter() - self.wall_before
        self.client_cpu_s = time.process_time() - self.client_before
        after = self._backends()
        self.server_cpu_s = sum(cpu - self.server_before.get(pid, 0.0) for pid, cpu in after.items())

    def figures(self, count: int) -> dict:
        return {"reads_per_second": count / self.wall_s,
                "reads_per_cpu_second": count / (self.client_cpu_s + self.server_cpu_s),
                "client_cpu_us_per_read": 1e6 * self.client_cpu_s / count,
                "server_cpu_us_per_read": 1e6 * self.server_cpu_s / count}


def _process_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def reads_per_second(settings: Settings, existing: int = 0) -> float:
    return ingest_figures(settings, existing)["reads_per_second"]


def ingest_figures(settings: Settings, existing: int = 0) -> dict:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    if existing:
        history_start = (datetime.now(UTC) - timedelta(milliseconds=existing * READ_EVERY_MS + 7_200_000))
        build(runtime, existing, history_start.replace(microsecond=0))
    cache = HotlistCache()
    prepared = list(batches())
    with CostMeter(runtime) as meter:
        for batch in prepared:
            with runtime.database.session() as db:
                ingest(db, runtime=runtime, hotlists=cache, source="bench", reads=batch)
    runtime.close()
    return meter.figures(READS)


def stored_rows(prepared: list[list[ReadIn]]) -> list[list[tuple]]:
    """The rows ingest stores for these batches (without id, source, matched, created_at), made before timing."""
    return [[(normalise_plate(read.plate), read.plate[:32], float(read.confidence), read.region, read.camera_id,
              read.device_id, read.read_at, read.latitude, read.longitude, read.direction, read.crop_path,
              read.source_read_id) for read in batch] for batch in prepared]


def raw_copy_figures(settings: Settings, *, with_seen_plates: bool) -> dict:
    """Reads/s of a bare binary COPY of the same rows into plate_reads (and seen_plates' statement, if asked)."""
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    rows_of_batches = stored_rows(list(batches()))
    now, next_id = clock.utcnow(), 1
    copy_sql = f"COPY plate_reads ({', '.join(reads.COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with CostMeter(runtime) as meter:
        for rows in rows_of_batches:
            with runtime.database.session() as db:
                cursor = db.connection().connection.driver_connection.cursor()
                with cursor.copy(copy_sql) as copy:
                    copy.set_types(reads.COPY_TYPES)
                    for read_id, row in enumerate(rows, start=next_id):
                        copy.write_row((read_id, *row, "bench", False, now))
                next_id += len(rows)
                if with_seen_plates:
                    reads.remember_plates(db, {row[0] for row in rows})
    runtime.close()
    return meter.figures(READS)


def ingest_figures_postgresql(*, trigram_index: bool = True) -> dict:
    with postgresql_settings() as settings:
        if not trigram_index:
            runtime = build_runtime(settings)
            runtime.database.upgrade()
            with runtime.database.session() as db:
                db.execute(text("DROP INDEX IF EXISTS ix_seen_plates_plate_trigram"))
            runtime.close()
        return ingest_figures(settings)


def ingest_figures_of_checkout(checkout: Path) -> dict:
    """The ingest path of another checkout, in a child process that imports its rtcc."""
    here = Path(__file__).resolve().parent
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout / "src"), str(here)])}
    answer = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--ingest-postgresql-once"],
                            env=environment, cwd=here, check=True, capture_output=True, text=True)
    return json.loads(answer.stdout.strip().splitlines()[-1])


def compare_with_copy(runs: int, before: Path | None) -> dict:
    paths = {"raw_binary_copy": lambda: _with_postgresql(raw_copy_figures, with_seen_plates=False),
             "raw_copy_plus_seen_plates": lambda: _with_postgresql(raw_copy_figures, with_seen_plates=True),
             "ingest": ingest_figures_postgresql,
             "ingest_without_trigram_index": lambda: ingest_figures_postgresql(trigram_index=False)}
    if before:
        paths["ingest_before"] = lambda: ingest_figures_of_checkout(before)
    samples: dict[str, list[dict]] = {name: [] for name in paths}
    for _ in range(runs):  # the paths take turns, so load on the machine falls on each alike
        for name, measure in paths.items():
            samples[name].append(measure())
    medians = {name: {figure: round(statistics.median(run[figure] for run in runs_of), 1) for figure in runs_of[0]}
               for name, runs_of in samples.items()}
    raw = medians["raw_binary_copy"]
    return {"benchmark": "read_ingest_vs_copy", "reads": READS, "batch": BATCH, "runs": runs,
            "fleet": FLEET or "every plate new", "medians": medians,
            "ratio_to_raw_copy": {name: {"wall": round(m["reads_per_second"] / raw["reads_per_second"], 2),
                                         "cpu": round(m["reads_per_cpu_second"] / raw["reads_per_cpu_second"], 2)}
                                  for name, m in medians.items()},
            "runs_reads_per_second": {name: [round(run["reads_per_second"]) for run in runs_of]
                                      for name, runs_of in samples.items()}}


def _with_postgresql(function, **options) -> float:
    with postgresql_settings() as settings:
        return function(settings, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--existing", type=int, default=0)
    parser.add_argument("--compare-copy", action="store_true", help="PostgreSQL: ingest against a raw binary COPY")
    parser.add_argument("--before", type=Path, help="with --compare-copy: a checkout whose ingest to measure too")
    parser.add_argument("--fleet", type=int, default=0,
                        help="draw plates from this many vehicles (default 0: every plate new)")
    parser.add_argument("--ingest-postgresql-once", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.fleet:
        global FLEET
        FLEET = options.fleet
        os.environ["RTCC_BENCH_FLEET"] = str(options.fleet)
    if options.ingest_postgresql_once:
        print(json.dumps(ingest_figures_postgresql()))
        return
    if options.compare_copy:
        print(json.dumps(compare_with_copy(options.runs, options.before)))
        return
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
