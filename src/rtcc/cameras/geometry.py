"""Camera field-of-view geometry: distances, bearings and view cones on the WGS84 ellipsoid.

A camera sees a circular sector: every point within ``range_m`` of it whose bearing from
the camera lies within ``heading_deg ± fov_deg / 2`` (a ``fov_deg`` of 360 or more is a full
circle, as for a PTZ camera that can turn to anything). Edges count as inside.

Distances and bearings use a local tangent-plane (equirectangular) model evaluated at the
mid-latitude of the two points, with the ellipsoid's meridional and prime-vertical radii of
curvature there. At city scale this agrees with the true geodesic to millimetres, and it
stays within 0.01 % of it at 50 km (see docs/camera-geometry.md), while being a handful of
numpy operations: the spatial index runs the very same kernel over arrays of cameras, so
the index and ``sees_point`` can never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

WGS84_SEMI_MAJOR_M = 6_378_137.0
WGS84_FLATTENING = 1 / 298.257_223_563
WGS84_ECCENTRICITY_SQ = WGS84_FLATTENING * (2 - WGS84_FLATTENING)

FULL_CIRCLE_DEG = 360.0


@dataclass(frozen=True, slots=True)
class CameraView:
    """What the geometry needs to know about one camera."""

    id: Any
    latitude: float
    longitude: float
    heading_deg: float
    fov_deg: float
    range_m: float


def as_camera_view(record: Any) -> CameraView:
    """Accept a CameraView, a 6-tuple (id, lat, lon, heading, fov, range) or any object with those attributes."""
    if isinstance(record, CameraView):
        return record
    if isinstance(record, tuple):
        camera_id, latitude, longitude, heading_deg, fov_deg, range_m = record
    else:  # a registry row (rtcc.cameras.models.Camera) or anything shaped like one
        camera_id, latitude, longitude = record.id, record.latitude, record.longitude
        heading_deg, fov_deg, range_m = record.heading_deg, record.fov_deg, record.range_m
    view = CameraView(camera_id, float(latitude), float(longitude), float(heading_deg) % FULL_CIRCLE_DEG,
                      float(fov_deg), float(range_m))
    if not (-90.0 <= view.latitude <= 90.0 and -180.0 <= view.longitude <= 180.0):
        raise ValueError(f"camera {camera_id!r} is off the map: ({view.latitude}, {view.longitude})")
    if view.fov_deg < 0 or view.range_m < 0 or not (math.isfinite(view.fov_deg) and math.isfinite(view.range_m)):
        raise ValueError(f"camera {camera_id!r} needs a finite, non-negative fov_deg and range_m")
    return view


def radii_of_curvature_m(latitude_deg):
    """Meridional (north-south) and prime-vertical (east-west) radii of the ellipsoid at a latitude."""
    sin_lat = np.sin(np.radians(latitude_deg))
    w = 1.0 - WGS84_ECCENTRICITY_SQ * sin_lat * sin_lat
    prime_vertical = WGS84_SEMI_MAJOR_M / np.sqrt(w)
    meridional = prime_vertical * (1.0 - WGS84_ECCENTRICITY_SQ) / w
    return meridional, prime_vertical


def _plane_offsets(from_lat, from_lon, to_lat, to_lon):
    """East and north metres between points in the mid-latitude plane, and the meridian convergence (deg)."""
    mid_lat = (np.asarray(from_lat, dtype=float) + to_lat) * 0.5
    meridional, prime_vertical = radii_of_curvature_m(mid_lat)
    # Wrap the longitude difference so two points either side of the antimeridian are neighbours.
    delta_lon = (np.asarray(to_lon, dtype=float) - from_lon + 540.0) % 360.0 - 180.0
    east = np.radians(delta_lon) * prime_vertical * np.cos(np.radians(mid_lat))
    north = np.radians(np.asarray(to_lat, dtype=float) - from_lat) * meridional
    # Meridians converge, so the bearing in the plane is the one at the midpoint; the start
    # point's bearing differs by half the convergence, delta_lon * sin(mid_lat) / 2.
    half_convergence = delta_lon * np.sin(np.radians(mid_lat)) * 0.5
    return east, north, half_convergence


def _start_bearing_deg(east, north, half_convergence):
    return (np.degrees(np.arctan2(east, north)) - half_convergence) % FULL_CIRCLE_DEG


def angle_between_deg(a_deg, b_deg):
    """Smallest absolute difference between two bearings, in [0, 180]."""
    return np.abs((np.asarray(b_deg, dtype=float) - a_deg + 180.0) % 360.0 - 180.0)


def relate_point_to_cameras(latitude: float, longitude: float, camera_lat, camera_lon,
                            heading_deg, fov_deg, range_m):
    """Distance, bearing from each camera, off-axis angle and whether each camera sees the point (arrays)."""
    east, north, half_convergence = _plane_offsets(camera_lat, camera_lon, latitude, longitude)
    distance = np.hypot(east, north)
    at_camera = distance == 0.0
    # A point on the camera itself has no bearing; call it dead ahead so it is seen and centred.
    bearing = np.where(at_camera, heading_deg, _start_bearing_deg(east, north, half_convergence))
    off_axis = angle_between_deg(heading_deg, bearing)
    in_angle = (np.asarray(fov_deg) >= FULL_CIRCLE_DEG) | (off_axis <= np.asarray(fov_deg) * 0.5)
    sees = (distance <= range_m) & in_angle
    return distance, bearing, off_axis, sees


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Ground distance in metres between two WGS84 points (city-scale model, < 0.01 % off at 50 km)."""
    east, north, _ = _plane_offsets(lat1, lon1, lat2, lon2)
    return float(np.hypot(east, north))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Bearing in degrees clockwise from north, from point 1 towards point 2, in [0, 360)."""
    return float(_start_bearing_deg(*_plane_offsets(lat1, lon1, lat2, lon2)))


def offset_point(latitude: float, longitude: float, bearing: float, distance: float) -> tuple[float, float]:
    """The (latitude, longitude) reached by going ``distance`` metres on ``bearing`` from a point."""
    # The plane and the convergence are taken at the mid-latitude, which depends on the answer:
    # a few fixed-point rounds make distance_m/bearing_deg of the result reproduce the inputs.
    to_lat, delta_lon = latitude, 0.0
    for _ in range(6):
        mid_lat = (latitude + to_lat) * 0.5
        mid_bearing = math.radians(bearing + delta_lon * math.sin(math.radians(mid_lat)) * 0.5)
        meridional, prime_vertical = (float(r) for r in radii_of_curvature_m(mid_lat))
        to_lat = latitude + math.degrees(distance * math.cos(mid_bearing) / meridional)
        delta_lon = math.degrees(distance * math.sin(mid_bearing)
                                 / (prime_vertical * math.cos(math.radians(mid_lat))))
    to_lon = longitude + delta_lon
    return to_lat, (to_lon + 180.0) % 360.0 - 180.0


def view_cone_polygon(latitude: float, longitude: float, heading_deg: float, fov_deg: float,
                      range_m: float, segments: int = 16) -> list[tuple[float, float]]:
    """The view cone as a closed GeoJSON ring of (lon, lat), counter-clockwise per RFC 7946."""
    if segments < 1:
        raise ValueError("segments must be at least 1")
    if range_m < 0 or fov_deg < 0:
        raise ValueError("range_m and fov_deg must be non-negative")
    if fov_deg >= FULL_CIRCLE_DEG:
        # Counter-clockwise on a map means decreasing bearing.
        bearings = [heading_deg - FULL_CIRCLE_DEG * k / segments for k in range(segments)]
        ring = [offset_point(latitude, longitude, b, range_m) for b in bearings]
        points = [(lon, lat) for lat, lon in ring]
        return points + [points[0]]
    half = fov_deg / 2
    bearings = [heading_deg + half - fov_deg * k / segments for k in range(segments + 1)]
    arc = [offset_point(latitude, longitude, b, range_m) for b in bearings]
    apex = (longitude, latitude)
    return [apex] + [(lon, lat) for lat, lon in arc] + [apex]


def sees_point(camera: Any, latitude: float, longitude: float) -> bool:
    """Whether the point lies in the camera's view cone (edges and the camera's own spot included)."""
    view = as_camera_view(camera)
    *_, sees = relate_point_to_cameras(latitude, longitude, np.array([view.latitude]), np.array([view.longitude]),
                                       np.array([view.heading_deg]), np.array([view.fov_deg]),
                                       np.array([view.range_m]))
    return bool(sees[0])
