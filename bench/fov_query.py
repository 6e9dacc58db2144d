"""Field-of-view index speed on a DC-sized city of 40,000 cameras, and whether its answers are right.

    python bench/fov_query.py [--cameras 40000] [--queries 2000] [--radius 200] [--seed 7] [--before DIR]

Cameras are scattered uniformly over a square of about 177 km² centred on Washington, DC,
with random headings, a fov of 40-120° and a range of 30-150 m. Query points are uniform
over the same square. Prints one JSON object; every figure is single-threaded and in
milliseconds, the query figures per query.

Every answer of "who sees P" and "who is within R" is compared with a brute-force scan of all
cameras (the same kernel as geometry.sees_point). --before DIR names a checkout of an earlier
commit (git worktree add DIR <commit>): its spatial_index.CameraIndex is measured in the same run on
the same cameras and points, and its answers compared with this one's, hit for hit and in order.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rtcc.cameras.geometry import (
    CameraView,
    offset_point,
    radii_of_curvature_m,
    relate_point_to_cameras,
)
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


def load_index_class(checkout: Path):
    """CameraIndex from another checkout's spatial_index.py (it imports this checkout's geometry)."""
    spec = importlib.util.spec_from_file_location("before_spatial_index",
                                                  checkout / "src/rtcc/cameras/spatial_index.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.CameraIndex


def measure(index_classes: dict[str, type], cameras: list[CameraView], points: list[tuple[float, float]],
            radius: float, seed: int) -> dict[str, tuple[dict, list, list]]:
    """Build, query and update figures of each index class, with every answer (as camera ids, in order).

    The classes take turns at every step (each build, each query point, each update), so a burst of load
    on a shared machine falls on all of them alike.
    """
    names = list(index_classes)
    indexes = {name: cls() for name, cls in index_classes.items()}
    build_ms = {}
    for name in names:
        build_ms[name], _ = timed_ms(indexes[name].build, cameras)

    # One untimed pass warms numpy's dispatch and the CPU caches, as a long-running server would be.
    for lat, lon in points[:50]:
        for index in indexes.values():
            index.cameras_seeing(lat, lon)
            index.cameras_within(lat, lon, radius)

    seeing_ms, seeing_ids, within_ms, within_ids = ({name: [] for name in names} for _ in range(4))
    for lat, lon in points:
        for name in names:
            elapsed, hits = timed_ms(indexes[name].cameras_seeing, lat, lon)
            seeing_ms[name].append(elapsed)
            seeing_ids[name].append([h.camera_id for h in hits])
        for name in names:
            elapsed, hits = timed_ms(indexes[name].cameras_within, lat, lon, radius)
            within_ms[name].append(elapsed)
            within_ids[name].append([h.camera_id for h in hits])

    # The STRtree's own part of "who sees P" (candidates from the boxes, before the exact kernel and ranking).
    lookup_ms = {name: [] for name in names}
    for name in names:
        trees = getattr(indexes[name], "_trees", None)
        for lat, lon in points if trees is not None else ():
            elapsed, _ = timed_ms(trees.coverage.query, shapely.points((lon, lat)))
            lookup_ms[name].append(elapsed)

    # Updates: re-aim and nudge existing cameras (the common case: a PTZ turned, a pole re-surveyed).
    rng = np.random.default_rng(seed)
    update_ms = {name: [] for name in names}
    for camera in rng.choice(len(cameras), size=len(points)):
        old = cameras[camera]
        moved = CameraView(old.id, old.latitude + float(rng.normal(0, 1e-4)), old.longitude,
                           float(rng.uniform(0, 360)), old.fov_deg, old.range_m)
        for name in names:
            elapsed, _ = timed_ms(indexes[name].add_or_update, moved)
            update_ms[name].append(elapsed)

    results = {}
    for name, index in indexes.items():
        # The answers after the updates too (the STRtree index answers them from its list of changed cameras).
        after_updates = [[h.camera_id for h in index.cameras_seeing(lat, lon)] for lat, lon in points[:200]]
        figures = {
            "seeing_ms_p50": round(statistics.median(seeing_ms[name]), 4),
            "seeing_ms_p95": round(percentile(seeing_ms[name], 0.95), 4),
            "within_ms_p50": round(statistics.median(within_ms[name]), 4),
            "within_ms_p95": round(percentile(within_ms[name], 0.95), 4),
            "build_ms": round(build_ms[name], 1),
            **({"tree_lookup_ms_p50": round(statistics.median(lookup_ms[name]), 4)} if lookup_ms[name] else {}),
            "update_ms_p50": round(statistics.median(update_ms[name]), 4),
            "seeing_hits_mean": round(statistics.fmean(map(len, seeing_ids[name])), 2),
            "within_hits_mean": round(statistics.fmean(map(len, within_ids[name])), 2),
        }
        results[name] = (figures, [seeing_ids[name], within_ids[name]], after_updates)
    return results


def brute_force_mismatches(cameras: list[CameraView], points, answers, radius: float) -> int:
    """Queries whose seeing/within answer (as a set) differs from testing every camera."""
    fields = np.array([(c.latitude, c.longitude, c.heading_deg, c.fov_deg, c.range_m) for c in cameras]).T
    ids = np.array([c.id for c in cameras])
    seeing_ids, within_ids = answers
    wrong = 0
    for n, (lat, lon) in enumerate(points):
        distance, _, _, sees = relate_point_to_cameras(lat, lon, *fields)
        wrong += set(seeing_ids[n]) != set(ids[sees].tolist())
        wrong += set(within_ids[n]) != set(ids[distance <= radius].tolist())
    return wrong


def library_reference(cameras: list[CameraView], points, seeing_answers, segments: int = 16) -> dict:
    """shapely alone, as issue 11 measured it: an STRtree of cone polygons asked which cones intersect P.

    No distances, bearings or ranking, and the polygon's chords cut inside the arc, so a point near a
    cone's far edge can be missed: its answers are counted against the exact ones.
    """
    fields = np.array([(c.latitude, c.longitude, c.heading_deg, c.fov_deg, c.range_m) for c in cameras])
    lat, lon, heading, fov, range_m = (column[:, None] for column in fields.T)
    began = time.perf_counter_ns()
    bearings = np.radians(heading - fov / 2 + fov * np.arange(segments + 1) / segments)
    meridional, prime_vertical = radii_of_curvature_m(lat)
    arc_lat = lat + np.degrees(range_m * np.cos(bearings) / meridional)
    arc_lon = lon + np.degrees(range_m * np.sin(bearings) / (prime_vertical * np.cos(np.radians(lat))))
    ring = np.stack([np.hstack([lon, arc_lon, lon]), np.hstack([lat, arc_lat, lat])], axis=-1)
    tree = shapely.STRtree(shapely.polygons(ring))
    build_ms = (time.perf_counter_ns() - began) / 1e6
    ids = np.array([c.id for c in cameras])
    spent, differs = [], 0
    for (lat_p, lon_p), exact in zip(points, seeing_answers, strict=True):
        elapsed, found = timed_ms(tree.query, shapely.points((lon_p, lat_p)), "intersects")
        spent.append(elapsed)
        differs += set(ids[found].tolist()) != set(exact)
    return {"seeing_ms_p50": round(statistics.median(spent), 4), "seeing_ms_p95": round(percentile(spent, 0.95), 4),
            "build_ms": round(build_ms, 1), "answers_differing_from_exact": differs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=40_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--radius", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before", type=Path, help="a checkout whose CameraIndex to measure alongside")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    cameras = random_cameras(rng, args.cameras)
    points = random_points(rng, args.queries)
    report = {"cameras": len(cameras), "queries": args.queries, "radius_m": args.radius}
    classes = {"strtree": CameraIndex, **({"before": load_index_class(args.before)} if args.before else {})}
    measured = measure(classes, cameras, points, args.radius, seed=1)
    figures, answers, after_updates = measured["strtree"]
    report["strtree"] = figures
    report["brute_force_mismatches"] = brute_force_mismatches(cameras, points, answers, args.radius)
    report["shapely_cone_polygons_only"] = library_reference(cameras, points, answers[0])
    if args.before:
        before, before_answers, before_after_updates = measured["before"]
        report["before"] = before
        report["answers_identical_to_before"] = (answers == before_answers
                                                 and after_updates == before_after_updates)
        report["ratio_before_over_strtree"] = {
            name: round(before[name] / figures[name], 2) for name in
            ("seeing_ms_p50", "seeing_ms_p95", "within_ms_p50", "within_ms_p95", "build_ms", "update_ms_p50")}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
