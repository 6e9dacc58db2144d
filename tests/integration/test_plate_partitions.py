"""The read store's time partitions (PostgreSQL) and the idempotency key they bring, on both engines."""

import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from rtcc.alpr import partitions
from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.models import PlateAlert, PlateRead, SeenPlate
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.core import clock
from rtcc.governance.retention import engine
from factories import make_hotlist
from support import wait_until

# For what only PostgreSQL has (partitions, concurrent writers): the test does not run on SQLite at all, rather
# than run there and check nothing.
POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                          indirect=True)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def purge_unmatched_reads(runtime) -> list[SimpleNamespace]:
    """The retention engine's plate-read class: its receipt's lines, one per camera."""
    lines = engine.run_class(runtime, "plate_reads").breakdown.values()
    return [SimpleNamespace(camera_id=line["camera_id"], segment_count=line["count"], range_start=line["first"],
                            range_end=line["last"]) for line in sorted(lines, key=lambda line: line["camera_id"] or 0)]


def store(runtime, *reads: ReadIn, cache: HotlistCache | None = None):
    with runtime.database.session() as db:
        return ingest(db, runtime=runtime, hotlists=cache or HotlistCache(), source="test", reads=list(reads))


def read(plate: str, at: datetime, read_id: str | None = None, camera_id: int = 7) -> ReadIn:
    return ReadIn(plate=plate, read_at=at, confidence=0.9, camera_id=camera_id, source_read_id=read_id or f"{plate}@{at.isoformat()}")


def where_stored(runtime) -> dict[str, str]:
    """plate -> the table the row lives in (the partition on PostgreSQL, plate_reads on SQLite)."""
    with runtime.database.session() as db:
        if runtime.database.dialect == "postgresql":
            return dict(db.execute(text("SELECT plate, tableoid::regclass::text FROM plate_reads")).all())
        return {plate: "plate_reads" for plate in db.execute(text("SELECT plate FROM plate_reads")).scalars()}


def make_months(runtime, now: datetime, months_ahead: int = 1) -> list[str]:
    with runtime.database.session() as db:
        return partitions.ensure_partitions(db, now=now, months_ahead=months_ahead)


def test_reads_land_in_their_month_and_stray_times_in_the_default_partition(runtime):
    postgres = runtime.database.dialect == "postgresql"
    assert make_months(runtime, utc(2031, 3, 5)) == (["plate_reads_p2031_03", "plate_reads_p2031_04"] if postgres else [])
    report = store(runtime, read("1MAR111", utc(2031, 3, 1)), read("2MAR222", utc(2031, 3, 31, 23, 59, 59, 999999)),
                   read("3APR333", utc(2031, 4, 1)), read("4FAR444", utc(2099, 1, 1)), read("5OLD555", utc(1999, 12, 31)))
    assert (report.stored, report.duplicates) == (5, 0)
    stored = where_stored(runtime)
    if postgres:
        assert stored == {"1MAR111": "plate_reads_p2031_03", "2MAR222": "plate_reads_p2031_03", "3APR333": "plate_reads_p2031_04",
                          "4FAR444": "plate_reads_default", "5OLD555": "plate_reads_default"}
    else:
        assert sorted(stored) == ["1MAR111", "2MAR222", "3APR333", "4FAR444", "5OLD555"]
    # Making the months again changes nothing.
    assert make_months(runtime, utc(2031, 3, 20)) == []


def test_a_new_month_takes_over_its_reads_from_the_default_partition(runtime):
    store(runtime, read("6EARLY6", utc(2040, 6, 2)), read("7LATER7", utc(2040, 8, 2)))
    made = make_months(runtime, utc(2040, 6, 1), months_ahead=0)
    if runtime.database.dialect == "postgresql":
        assert made == ["plate_reads_p2040_06"]
        assert where_stored(runtime) == {"6EARLY6": "plate_reads_p2040_06", "7LATER7": "plate_reads_default"}
    # Still found, still stored once when resent.
    assert (store(runtime, read("6EARLY6", utc(2040, 6, 2))).duplicates) == 1
    with runtime.database.session() as db:
        assert db.query(PlateRead).filter_by(plate="6EARLY6").count() == 1


def test_a_resent_read_is_stored_once_alone_or_among_new_ones(runtime):
    at = utc(2031, 3, 9, 12, 0, 0, 250000)
    first = store(runtime, read("7ABC123", at, "dev-1"), read("7ABC124", at, "dev-2"))
    assert (first.stored, first.duplicates) == (2, 0)
    again = store(runtime, read("7ABC123", at, "dev-1"), read("7ABC124", at, "dev-2"))
    assert (again.stored, again.duplicates) == (0, 2)
    mixed = store(runtime, read("7ABC124", at, "dev-2"), read("7ABC125", at, "dev-3"), read("7ABC125", at, "dev-3"))
    assert (mixed.stored, mixed.duplicates) == (1, 2)  # the resend and the batch's own repeat are dropped
    no_id = store(runtime, ReadIn(plate="8XYZ777", read_at=at, camera_id=3), ReadIn(plate="8XYZ777", read_at=at, camera_id=3))
    assert (no_id.stored, no_id.duplicates) == (1, 1)  # no read id: camera, plate and time identify it
    with runtime.database.session() as db:
        plates = sorted(db.execute(text("SELECT plate FROM plate_reads")).scalars())
        ids = db.execute(text("SELECT id FROM plate_reads")).scalars().all()
    assert plates == ["7ABC123", "7ABC124", "7ABC125", "8XYZ777"]
    assert len(set(ids)) == 4
    with runtime.database.session() as db:  # stored as the ORM stores times: its own queries find them
        assert db.query(PlateRead).filter(PlateRead.read_at == at).count() == 4
        assert db.query(PlateRead).filter(PlateRead.read_at > utc(2031, 3, 9, 12, 0, 0, 249999)).count() == 4


def _hotlisted(runtime, plate: str) -> HotlistCache:
    make_hotlist(runtime, name="stolen", plates=[plate])
    return HotlistCache()


def test_retention_drops_a_whole_old_month_only_when_nothing_in_it_is_kept(runtime):
    postgres = runtime.database.dialect == "postgresql"
    make_months(runtime, utc(2024, 3, 10), months_ahead=2)  # March, April, May 2024
    cache = _hotlisted(runtime, "9HOT999")
    store(runtime, read("1MAR111", utc(2024, 3, 3), camera_id=1), read("2MAR222", utc(2024, 3, 30), camera_id=2),
          read("3MAR333", utc(2024, 3, 31), camera_id=2), cache=cache)
    # April holds a read behind an alert: the month stays, only its unmatched read goes.
    report = store(runtime, read("4APR444", utc(2024, 4, 2), camera_id=1), read("9HOT999", utc(2024, 4, 3), camera_id=1),
                   cache=cache)
    assert report.alerts == 1
    receipts = purge_unmatched_reads(runtime)
    by_camera = {receipt.camera_id: (receipt.segment_count, receipt.range_start, receipt.range_end) for receipt in receipts}
    assert by_camera == {1: (2, utc(2024, 3, 3), utc(2024, 4, 2)), 2: (2, utc(2024, 3, 30), utc(2024, 3, 31))}
    with runtime.database.session() as db:
        assert db.execute(text("SELECT plate FROM plate_reads")).scalars().all() == ["9HOT999"]
        alert = db.query(PlateAlert).one()
        assert db.get(PlateRead, alert.read_id).plate == "9HOT999"
        if postgres:
            left = partitions.partitions(db)
            # March (all purgeable) and May (empty) are dropped whole; April is kept for its alert read.
            assert [name for name in left if name.startswith("plate_reads_p2024")] == ["plate_reads_p2024_04"]
            assert partitions.expired_tables(db) == []
            purge = db.execute(text("SELECT details FROM audit_records WHERE action = 'retention.purge'")).scalar_one()
            assert "plate_reads_expired_p2024_03" in str(purge)
    # Late reads for a dropped month are still taken (the default partition holds them) and purged in turn.
    assert store(runtime, read("5MAR555", utc(2024, 3, 4), camera_id=1)).stored == 1
    assert [r.segment_count for r in purge_unmatched_reads(runtime)] == [1]


@POSTGRESQL_ONLY  # SQLite has no partitions; its row-by-row purge is covered above
def test_a_read_matched_after_its_month_was_detached_is_put_back_not_dropped(runtime):
    assert runtime.database.dialect == "postgresql"
    make_months(runtime, utc(2024, 6, 10), months_ahead=0)
    store(runtime, read("1JUN111", utc(2024, 6, 3)), read("2JUN222", utc(2024, 6, 4)))
    with runtime.database.session() as db:
        # As detach_purgeable_partitions leaves it, with a read matched in between (the race it guards).
        db.execute(text("ALTER TABLE plate_reads DETACH PARTITION plate_reads_p2024_06"))
        db.execute(text("ALTER TABLE plate_reads_p2024_06 RENAME TO plate_reads_expired_p2024_06"))
        db.execute(text("UPDATE plate_reads_expired_p2024_06 SET matched = true WHERE plate = '2JUN222'"))
    receipts = purge_unmatched_reads(runtime)
    assert [(r.camera_id, r.segment_count) for r in receipts] == [(7, 1)]
    assert where_stored(runtime) == {"2JUN222": "plate_reads_default"}


def test_migration_0010_keeps_every_read_and_alert_both_ways(runtime):
    from alembic import command

    from rtcc.core.migrate import alembic_config, current_revision, upgrade_database

    cache = _hotlisted(runtime, "9HOT999")
    store(runtime, read("1AAA111", utc(2031, 3, 3)), read("9HOT999", utc(2031, 3, 4)), read("2FAR222", utc(2099, 1, 1)),
          cache=cache)
    before = where_stored(runtime)
    engine = runtime.database.engine
    head = current_revision(engine)
    command.downgrade(alembic_config(engine), "0009")
    assert sorted(where_stored(runtime)) == sorted(before)
    upgrade_database(engine)
    assert current_revision(engine) == head
    assert sorted(where_stored(runtime)) == sorted(before)
    with runtime.database.session() as db:
        alert = db.query(PlateAlert).one()
        assert db.get(PlateRead, alert.read_id).plate == "9HOT999"
    # Ids go on from where they were, and a resend is still caught.
    assert store(runtime, read("1AAA111", utc(2031, 3, 3))).duplicates == 1
    assert store(runtime, read("3NEW333", utc(2031, 3, 5))).stored == 1
    with runtime.database.session() as db:
        ids = db.execute(text("SELECT id FROM plate_reads ORDER BY id")).scalars().all()
    assert len(ids) == len(set(ids)) == 4


def sweep_waits_for_seen_plates(runtime) -> bool:
    """Whether a session is queued for the lock the retention sweep takes on seen_plates before pruning it."""
    with runtime.database.engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_locks WHERE relation = 'seen_plates'::regclass"
            " AND mode = 'ShareRowExclusiveLock' AND NOT granted")).scalar_one())


@POSTGRESQL_ONLY  # SQLite has one writer at a time, so the purge and the read cannot overlap
def test_a_plate_read_while_its_old_reads_are_purged_stays_listed_for_wildcard_search(runtime):
    assert runtime.database.dialect == "postgresql"
    now = clock.utcnow()
    store(runtime, read("8RACE88", now - timedelta(days=runtime.settings.read_retention_days + 5)))
    purged: list = []
    with runtime.database.session() as ingesting:
        # A fresh read of the same plate is stored, and not yet committed, when the retention sweep runs.
        assert ingest(ingesting, runtime=runtime, hotlists=HotlistCache(), source="test",
                      reads=[read("8RACE88", now)]).stored == 1

        def sweep():
            purged.extend(purge_unmatched_reads(runtime))

        sweeper = threading.Thread(target=sweep)
        sweeper.start()

        def sweep_is_waiting() -> bool:
            assert sweeper.is_alive(), "the sweep pruned seen_plates while a read of the plate was being stored"
            return sweep_waits_for_seen_plates(runtime)

        # The sweep deletes the old read, then waits for this transaction before pruning the list.
        wait_until(sweep_is_waiting, timeout=30, what="the retention sweep to wait for the ingest in flight")
    sweeper.join(timeout=30)
    assert not sweeper.is_alive()
    assert [r.segment_count for r in purged] == [1]
    with runtime.database.session() as db:
        assert db.query(SeenPlate).filter_by(plate="8RACE88").count() == 1
        assert [r.read_at for r in db.query(PlateRead).filter_by(plate="8RACE88")] == [now]
