"""Field-of-view index speed on a DC-sized city of 40,000 cameras.

    python bench/fov_query.py [--cameras 40000] [--queries 2000] [--radius 200] [--seed 7]

Cameras are scattered uniformly over a square of about 177 km² centred on Washington, DC,
with random headings, a fov of 40-120° and a range of 30-150 m. Query points are uniform
over the same square. Prints one JSON object; every figure is single-threaded and in
milliseconds, the query figures per query.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rtcc.cameras.geometry import CameraView, offset_point
from rtcc.cameras.spatial_index import CameraIndex

DC_CENTRE = (38.9072, -77.0369)
DC_AREA_M2 = 177e6


def random_points(rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """Uniform points over the square, placed by metres east and north of the centre."""
    half_side = math.sqrt(DC_AREA_M2) / 2
    points = []
    for north, east in rng.uniform(-half_side, half_side, size=(count, 2)):
        lat, lon = offset_point(*DC_CENTRE, 0.0, north)
        points.append(offset_point(lat, lon, 90.0, east))
    return points


def random_cameras(rng: np.random.Generator, count: int) -> list[CameraView]:
    return [CameraView(n, lat, lon, float(rng.uniform(0, 360)), float(rng.uniform(40, 120)),
                       float(rng.uniform(30, 150)))
            for n, (lat, lon) in enumerate(random_points(rng, count))]


def timed_ms(function, *args) -> tuple[float, object]:
    start = time.perf_counter_ns()
    result = function(*args)
    return (time.perf_counter_ns() - start) / 1e6, result


def percentile(values: list[float], fraction: float) -> float:
    return float(np.percentile(values, fraction * 100))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=40_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--radius", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    cameras = random_cameras(rng, args.cameras)
    index = CameraIndex()
    build_ms, _ = timed_ms(index.build, cameras)
    points = random_points(rng, args.queries)

    # One untimed pass warms numpy's dispatch and the CPU caches, as a long-running server would be.
    for lat, lon in points[:50]:
        index.cameras_seeing(lat, lon)
        index.cameras_within(lat, lon, args.radius)

    seeing_ms, seeing_hits, within_ms, within_hits = [], [], [], []
    for lat, lon in points:
        elapsed, hits = timed_ms(index.cameras_seeing, lat, lon)
        seeing_ms.append(elapsed)
        seeing_hits.append(len(hits))
        elapsed, hits = timed_ms(index.cameras_within, lat, lon, args.radius)
        within_ms.append(elapsed)
        within_hits.append(len(hits))

    # Updates: re-aim and nudge existing cameras (the common case: a PTZ turned, a pole re-surveyed).
    update_ms = []
    for camera in rng.choice(len(cameras), size=args.queries):
        old = cameras[camera]
        moved = CameraView(old.id, old.latitude + float(rng.normal(0, 1e-4)), old.longitude,
                           float(rng.uniform(0, 360)), old.fov_deg, old.range_m)
        elapsed, _ = timed_ms(index.add_or_update, moved)
        update_ms.append(elapsed)

    print(json.dumps({
        "cameras": len(index),
        "queries": args.queries,
        "radius_m": args.radius,
        "seeing_ms_p50": round(statistics.median(seeing_ms), 4),
        "seeing_ms_p95": round(percentile(seeing_ms, 0.95), 4),
        "within_ms_p50": round(statistics.median(within_ms), 4),
        "within_ms_p95": round(percentile(within_ms, 0.95), 4),
        "build_ms": round(build_ms, 1),
        "update_ms_p50": round(statistics.median(update_ms), 4),
        "seeing_hits_mean": round(statistics.fmean(seeing_hits), 2),
        "within_hits_mean": round(statistics.fmean(within_hits), 2),
    }))


if __name__ == "__main__":
    main()
