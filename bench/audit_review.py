"""Audit-review flagging over a busy week of audit trail: how long one run of the job takes, and the run after.

Usage: python bench/audit_review.py [--records N] [--engine sqlite|postgresql|both] (default 200,000 records,
SQLite). Prints one JSON object.

The week is what a centre's floor leaves: 100 analysts, stills and live views of 200 city cameras (a video wall's
snapshots are most of it), plate searches under case numbers the CAD sent, stray refusals, looks at 20 private
cameras and exports; sprinkled with what the rules exist for (a plate searched six times, searches and exports
under no case, wildcard searches at night, bursts of refusals, private cameras looked at cold). The records are
inserted in bulk straight into audit_records (the chain's hashes are not what is measured); flagging then runs
as the job does, through rtcc.governance.review.service.raise_flags. "first" is the run that finds the flags,
"again" the next one (nothing new to flag: what every run after costs until the trail grows).
"""

import argparse
import json
import random
import time
from datetime import timedelta

from bench_databases import postgresql_settings, sqlite_settings  # beside this script
from sqlalchemy import insert

from rtcc.audit.models import AuditRecord
from rtcc.auth import service as accounts
from rtcc.cameras import service as cameras
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import build_runtime
from rtcc.governance.review.service import raise_flags
from rtcc.incidents.models import CallForService

AGENCY = "CA0199900"
ANALYSTS = 100
CITY_CAMERAS, PRIVATE_CAMERAS = 200, 20
CALLS = 2000
CHUNK = 10_000


def _camera(db, runtime, number: int, kind: str) -> int:
    values = {"name": f"bench {kind} {number}", "kind": kind, "latitude": 34.09 + number * 1e-4, "longitude": -118.36}
    return cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=AGENCY, values=values).id


def seed(runtime, count: int, rng: random.Random) -> dict:
    now = clock.utcnow()
    with runtime.database.session() as db:
        agency = accounts.ensure_agency(db, runtime=runtime, ori=AGENCY, name="Bench Police")
        city = [_camera(db, runtime, n, "city_fixed") for n in range(CITY_CAMERAS)]
        private = [_camera(db, runtime, n, "private_integrated") for n in range(PRIVATE_CAMERAS)]
        db.execute(insert(CallForService), [
            {"call_id": f"CFS-{n:05d}", "agency_id": agency.id, "type": "Robbery", "priority": 2, "latitude": 34.09,
             "longitude": -118.36, "received_at": now, "units": [], "extra": {}, "status": "open", "created_at": now}
            for n in range(CALLS)])
    start_seq = 10_000_000  # above the few records the seeding itself audited
    mix = (("video.snapshot", 0.55), ("video.live", 0.15), ("alpr.search", 0.2), ("video.playback", 0.05),
           ("access.denied", 0.03), ("video.export", 0.02))
    actions, weights = zip(*mix)
    seeded = {"records": count}
    rows = []

    def row(seq, at, user, action, **fields):
        return {"seq": seq, "occurred_at": at, "username": user, "agency_ori": AGENCY, "action": action,
                "outcome": fields.pop("outcome", "success"), "prev_hash": "0" * 64, "record_hash": "0" * 64, **fields}

    for index in range(count):
        seq = start_seq + index
        at = now - timedelta(days=7) + timedelta(seconds=index * 7 * 86400 / count)
        user = f"analyst{rng.randrange(ANALYSTS)}"
        action = rng.choices(actions, weights)[0]
        if action in ("video.snapshot", "video.live", "video.playback"):
            # One look in 2,000 is at a private camera, mostly with no incident behind it.
            camera = rng.choice(private) if rng.random() < 0.0005 else rng.choice(city)
            rows.append(row(seq, at, user, action, object_type="camera", object_id=str(camera)))
        elif action == "alpr.search":
            plate = f"{rng.randrange(10**6):06d}X"
            case = f"CFS-{rng.randrange(CALLS):05d}" if rng.random() > 0.001 else "NO-SUCH-CASE"
            mode = "wildcard" if rng.random() < 0.01 else "exact"
            terms = {"plate": plate[:3] + "*" if mode == "wildcard" else plate, "mode": mode, "limit": 100}
            rows.append(row(seq, at, user, action, object_type="plate_read", purpose="bench", case_number=case,
                            query_terms=json.dumps(terms, sort_keys=True), details=json.dumps({"results": 3})))
        elif action == "access.denied":
            rows.append(row(seq, at, user, action, outcome="denied", object_type="route",
                            object_id="GET /api/v1/audit/records", details=json.dumps({"needs": "audit.read"})))
        else:
            case = f"CFS-{rng.randrange(CALLS):05d}" if rng.random() > 0.01 else "NO-SUCH-CASE"
            rows.append(row(seq, at, user, action, object_type="camera", object_id=str(rng.choice(city)),
                            purpose="bench", case_number=case))
    # What the repeated rules exist for: one plate six times in an hour, six refusals in ten minutes.
    for burst in range(20):
        at = now - timedelta(days=rng.uniform(0, 6))
        for repeat in range(6):
            seq = start_seq + count + burst * 12 + repeat
            rows.append(row(seq, at + timedelta(minutes=repeat * 10), f"analyst{burst}", "alpr.search",
                            object_type="plate_read", purpose="bench", case_number="CFS-00001",
                            query_terms=json.dumps({"plate": "FIXATE1", "mode": "exact"}), details=json.dumps({"results": 1})))
            rows.append(row(seq + 6, at + timedelta(minutes=repeat), f"analyst{burst}", "access.denied", outcome="denied",
                            object_type="route", object_id="GET /api/v1/audit/export"))
    with runtime.database.session() as db:
        for offset in range(0, len(rows), CHUNK):
            db.execute(insert(AuditRecord), rows[offset:offset + CHUNK])
    seeded["records"] = len(rows)
    return seeded


def run(settings, count: int) -> dict:
    runtime = build_runtime(settings)
    try:
        runtime.database.upgrade()
        seeded = seed(runtime, count, random.Random(7))
        results = {"records": seeded["records"]}
        for name in ("first", "again"):
            began = time.perf_counter()
            with runtime.database.session() as db:
                raised = raise_flags(db, settings=runtime.settings)
            results[name] = {"seconds": round(time.perf_counter() - began, 3), "flags": sum(raised.values()),
                             "by_rule": raised}
        return results
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="sqlite")
    arguments = parser.parse_args()
    engines = ("sqlite", "postgresql") if arguments.engine == "both" else (arguments.engine,)
    report = {"benchmark": "audit_review", "records_requested": arguments.records}
    for engine in engines:
        with (sqlite_settings() if engine == "sqlite" else postgresql_settings()) as settings:
            report[engine] = run(settings, arguments.records)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
