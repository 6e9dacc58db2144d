"""An in-memory index over many cameras: which cameras see a point, which stand near it.

Two shapely 2 ``STRtree``s (packed R-trees in GEOS) over longitude/latitude degrees:

* the *coverage* tree holds, per camera, the bounding box of its range circle (two boxes for one
  that reaches across ±180°, a full band of longitude for one that reaches within 1° of a pole), so
  "who sees P" asks the tree which boxes hold P;
* the *position* tree holds each camera's own point, so "who is within R of P" asks which points lie
  in P's R-box (two boxes across ±180°).

Both ask the trees' own envelope test (no ``predicate``): every entry is a box or a point, so the
envelope test *is* "intersects", without a GEOS predicate call per candidate, and it also holds for
the zero-width box of a camera with range 0, which GEOS predicates treat as an empty polygon.

Candidates are then tested exactly with ``geometry.relate_point_to_cameras`` — the same kernel as
``geometry.sees_point`` — so the trees only ever prune, never decide.

An STRtree cannot change once built. Updates go to a short list of cameras changed since the last
build (scanned with numpy at every query) and mark their old tree entries stale; when that list
outgrows ``max_pending`` the trees are rebuilt. ``build`` makes whole new trees outside the lock
and swaps them in, so queries keep flowing during a bulk reload.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from rtcc.cameras.geometry import (
    WGS84_ECCENTRICITY_SQ,
    WGS84_SEMI_MAJOR_M,
    CameraView,
    as_camera_view,
    radii_of_curvature_m,
    relate_point_to_cameras,
)

# The smallest meridional radius (at the equator) bounds a distance's latitude span from above.
_MIN_MERIDIONAL_M = WGS84_SEMI_MAJOR_M * (1 - WGS84_ECCENTRICITY_SQ)
# Bounding boxes are widened a little so floating-point rounding can never drop a camera.
_BOX_MARGIN = 1.01
_POLAR_LIMIT_DEG = 89.0
_FIELDS = 5  # per slot: latitude, longitude, heading, fov, range


@dataclass(frozen=True, slots=True)
class Hit:
    """One camera's relation to a queried point."""

    camera_id: Any
    distance_m: float
    bearing_from_camera_deg: float
    sees: bool
    off_axis_deg: float


@dataclass(slots=True)
class _Trees:
    """Everything a query reads; replaced wholesale by ``build``, patched in place by updates."""

    slot_of: dict[Any, int]
    ids: list[Any]
    free_slots: list[int]
    fields: np.ndarray  # (slots, 5)
    # Whether a slot's entries in the trees are current (False once it is updated, removed or freed).
    in_trees: np.ndarray
    coverage: shapely.STRtree
    coverage_owner: np.ndarray  # tree entry -> slot (a camera across ±180° has two entries)
    position: shapely.STRtree  # entry n is slot n
    # Slots changed since the trees were built, with their coverage boxes: (slot, xmin, ymin, xmax, ymax) rows.
    pending: dict[int, np.ndarray]
    pending_boxes: np.ndarray
    stale: bool  # some tree entry no longer stands for its slot's camera (updated or removed since the build)
    split: bool  # some camera has two coverage entries (across ±180°), so a slot can be found twice


class CameraIndex:
    """Answers cameras_seeing / cameras_within over tens of thousands of cameras in a fraction of a millisecond."""

    def __init__(self, cameras: Iterable[Any] = (), *, max_pending: int = 256):
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._max_pending = int(max_pending)
        self._lock = threading.Lock()
        self._trees = _build_trees([])
        self.build(cameras)

    def __len__(self) -> int:
        return len(self._trees.slot_of)

    def __contains__(self, camera_id: Any) -> bool:
        return camera_id in self._trees.slot_of

    # ---- maintenance -------------------------------------------------------------------

    def build(self, cameras: Iterable[Any]) -> None:
        """Replace the whole index with these cameras (a later duplicate id wins)."""
        by_id = {view.id: view for view in map(as_camera_view, cameras)}
        trees = _build_trees(list(by_id.values()))
        with self._lock:
            self._trees = trees

    def add_or_update(self, camera: Any) -> None:
        """Insert a camera, or move/re-aim/re-range the one with the same id."""
        view = as_camera_view(camera)
        with self._lock:
            trees = self._trees
            slot = trees.slot_of.get(view.id)
            if slot is None:
                slot = _allocate_slot(trees)
                trees.slot_of[view.id] = slot
                trees.ids[slot] = view.id
            trees.fields[slot] = (view.latitude, view.longitude, view.heading_deg, view.fov_deg, view.range_m)
            trees.in_trees[slot] = False
            trees.stale = True
            lat, lon, _, _, range_m = trees.fields[slot:slot + 1].T
            boxes = _range_boxes(lat, lon, range_m)
            trees.pending[slot] = np.column_stack([np.full(len(boxes[0]), slot, dtype=float), *boxes])
            self._after_pending_change(trees)

    def remove(self, camera_id: Any) -> bool:
        """Drop a camera; returns whether it was there."""
        with self._lock:
            trees = self._trees
            slot = trees.slot_of.pop(camera_id, None)
            if slot is None:
                return False
            trees.in_trees[slot] = False
            trees.stale = True
            trees.ids[slot] = None
            trees.free_slots.append(slot)
            trees.pending.pop(slot, None)
            self._after_pending_change(trees)
            return True

    def _after_pending_change(self, trees: _Trees) -> None:
        if len(trees.pending) > self._max_pending:
            live = sorted(trees.slot_of.items(), key=lambda item: item[1])
            self._trees = _build_trees([CameraView(camera_id, *trees.fields[slot]) for camera_id, slot in live])
            return
        trees.pending_boxes = (np.concatenate(list(trees.pending.values())) if trees.pending
                               else np.zeros((0, 5)))

    # ---- queries -----------------------------------------------------------------------

    def cameras_seeing(self, latitude: float, longitude: float, limit: int | None = None) -> list[Hit]:
        """Cameras whose view cone holds the point: closest first, then the most centred."""
        with self._lock:
            trees = self._trees
            found = trees.coverage_owner[trees.coverage.query(shapely.points((longitude, latitude)))]
            pending = trees.pending_boxes
            if pending.size:
                holds = ((pending[:, 1] <= longitude) & (longitude <= pending[:, 3])
                         & (pending[:, 2] <= latitude) & (latitude <= pending[:, 4]))
                found = np.concatenate([found, pending[holds, 0].astype(np.int64)])
            candidates = _current(trees, found)
            return _ranked_hits(trees, candidates, latitude, longitude, radius_m=None, limit=limit)

    def cameras_within(self, latitude: float, longitude: float, radius_m: float,
                       limit: int | None = None) -> list[Hit]:
        """Cameras standing within ``radius_m`` of the point, nearest first, each saying if it sees it."""
        if radius_m < 0:
            raise ValueError("radius_m must be non-negative")
        with self._lock:
            trees = self._trees
            xmin, ymin, xmax, ymax = _range_boxes(np.array([latitude]), np.array([longitude]),
                                                  np.array([float(radius_m)]))
            found = trees.position.query(shapely.box(xmin, ymin, xmax, ymax))[1]
            if trees.pending:
                # Changed cameras: their current position against the same boxes.
                slots = np.fromiter(trees.pending, dtype=np.int64, count=len(trees.pending))
                lat, lon = trees.fields[slots, 0], trees.fields[slots, 1]
                inside = np.zeros(len(slots), dtype=bool)
                for box in zip(xmin, ymin, xmax, ymax, strict=True):
                    inside |= (box[0] <= lon) & (lon <= box[2]) & (box[1] <= lat) & (lat <= box[3])
                found = np.concatenate([found, slots[inside]])
            candidates = _current(trees, found)
            return _ranked_hits(trees, candidates, latitude, longitude, radius_m=radius_m, limit=limit)


def _current(trees: _Trees, found: np.ndarray) -> np.ndarray:
    """The slots found, without stale tree entries, once each (ranking breaks ties by slot, not by this order)."""
    if not (trees.pending or trees.stale or trees.split):
        return found  # the usual case: the trees as built, one entry per camera
    found = found.astype(np.int64, copy=False)
    from_trees = trees.in_trees[found]
    if trees.pending:
        from_trees |= np.fromiter((slot in trees.pending for slot in found.tolist()), dtype=bool, count=found.size)
    found = np.sort(found[from_trees])
    # A slot comes twice only from two of its entries (a box either side of ±180°, or tree and pending list).
    return found if found.size < 2 else found[np.r_[True, found[1:] != found[:-1]]]


def _ranked_hits(trees: _Trees, candidates: np.ndarray, latitude: float, longitude: float, *,
                 radius_m: float | None, limit: int | None) -> list[Hit]:
    if limit is not None and limit < 0:
        raise ValueError("limit must be non-negative")
    if candidates.size == 0 or limit == 0:
        return []
    lat, lon, heading, fov, range_m = trees.fields[candidates].T
    distance, bearing, off_axis, sees = relate_point_to_cameras(latitude, longitude, lat, lon, heading, fov, range_m)
    keep = sees if radius_m is None else distance <= radius_m
    rows = np.flatnonzero(keep)
    # Closest first; at equal distance (cameras sharing a pole) a seeing, better-centred one
    # first; then slot order, which keeps the answer stable between identical queries.
    order = rows if rows.size < 2 else rows[np.lexsort((candidates[rows], off_axis[rows], ~sees[rows], distance[rows]))]
    if limit is not None:
        order = order[:limit]
    return [Hit(trees.ids[candidates[r]], float(distance[r]), float(bearing[r]), bool(sees[r]), float(off_axis[r]))
            for r in order]


def _build_trees(views: list[CameraView]) -> _Trees:
    count = len(views)
    capacity = max(16, count)
    fields = np.zeros((capacity, _FIELDS))
    if views:
        fields[:count] = [(v.latitude, v.longitude, v.heading_deg, v.fov_deg, v.range_m) for v in views]
    lat, lon, _, _, range_m = fields[:count].T
    xmin, ymin, xmax, ymax, owner = _range_boxes(lat, lon, range_m, with_owner=True)
    in_trees = np.zeros(capacity, dtype=bool)
    in_trees[:count] = True
    return _Trees(
        slot_of={v.id: slot for slot, v in enumerate(views)},
        ids=[v.id for v in views] + [None] * (capacity - count),
        free_slots=list(range(capacity - 1, count - 1, -1)),
        fields=fields, in_trees=in_trees,
        coverage=shapely.STRtree(shapely.box(xmin, ymin, xmax, ymax)), coverage_owner=owner,
        position=shapely.STRtree(shapely.points(lon, lat)),
        pending={}, pending_boxes=np.zeros((0, 5)), stale=False, split=owner.size > count,
    )


def _allocate_slot(trees: _Trees) -> int:
    if not trees.free_slots:
        old = len(trees.ids)
        trees.fields = np.concatenate([trees.fields, np.zeros((old, _FIELDS))])
        trees.in_trees = np.concatenate([trees.in_trees, np.zeros(old, dtype=bool)])
        trees.ids.extend([None] * old)
        trees.free_slots.extend(range(2 * old - 1, old - 1, -1))
    return trees.free_slots.pop()


def _range_boxes(lat: np.ndarray, lon: np.ndarray, radius_m: np.ndarray, *, with_owner: bool = False):
    """Longitude/latitude boxes holding every point within radius_m of each point: (xmin, ymin, xmax, ymax[, owner]).

    A box reaching across ±180° becomes two, one either side; one reaching within 1° of a pole spans every
    longitude. ``owner`` says which input point each box belongs to.
    """
    span_lat = np.degrees(radius_m / _MIN_MERIDIONAL_M) * _BOX_MARGIN
    far_lat = np.abs(lat) + span_lat
    # East-west metres per degree shrink towards the poles: size the box at its most polar edge.
    polar_edge = np.minimum(far_lat, _POLAR_LIMIT_DEG)
    _, prime_vertical = radii_of_curvature_m(polar_edge)
    span_lon = np.degrees(radius_m / (prime_vertical * np.cos(np.radians(polar_edge)))) * _BOX_MARGIN
    all_round = (far_lat >= _POLAR_LIMIT_DEG) | (span_lon >= 180.0)
    xmin = np.where(all_round, -180.0, lon - span_lon)
    xmax = np.where(all_round, 180.0, lon + span_lon)
    ymin, ymax = np.maximum(lat - span_lat, -90.0), np.minimum(lat + span_lat, 90.0)
    owner = np.arange(lat.size)
    west, east = xmin < -180.0, xmax > 180.0
    # The part past ±180° comes round on the other side as a second box.
    extra = np.flatnonzero(west | east)
    extra_xmin = np.where(west[extra], xmin[extra] + 360.0, -180.0)
    extra_xmax = np.where(west[extra], 180.0, xmax[extra] - 360.0)
    boxes = (np.concatenate([np.maximum(xmin, -180.0), extra_xmin]), np.concatenate([ymin, ymin[extra]]),
             np.concatenate([np.minimum(xmax, 180.0), extra_xmax]), np.concatenate([ymax, ymax[extra]]))
    return (*boxes, np.concatenate([owner, extra])) if with_owner else boxes
