"""The simulated city: a West Hollywood-sized street grid with a few dozen camera records."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from rtcc.auth import service as accounts
from rtcc.auth.models import Agency
from rtcc.cameras import service as cameras
from rtcc.core.runtime import Runtime

# Corridors (name, latitude at the west end, latitude at the east end) and cross streets
# (name, longitude), approximately where they lie in West Hollywood, California.
CORRIDORS = [
    ("Sunset Blvd", 34.0905, 34.0980),
    ("Santa Monica Blvd", 34.0812, 34.0905),
    ("Melrose Ave", 34.0807, 34.0837),
]
CROSS_STREETS = [
    ("Doheny Dr", -118.3893),
    ("Robertson Blvd", -118.3847),
    ("San Vicente Blvd", -118.3826),
    ("La Cienega Blvd", -118.3765),
    ("Crescent Heights Blvd", -118.3703),
    ("Fairfax Ave", -118.3614),
    ("Gardner St", -118.3538),
    ("Formosa Ave", -118.3467),
    ("La Brea Ave", -118.3440),
]
WEST_END, EAST_END = -118.3893, -118.3440
GROUP_BY_CORRIDOR = {"Sunset Blvd": "sunset-strip", "Santa Monica Blvd": "santa-monica-corridor", "Melrose Ave": "melrose-district"}


@dataclass(frozen=True)
class CameraSite:
    name: str
    kind: str
    latitude: float
    longitude: float
    heading_deg: float
    fov_deg: float
    range_m: float
    groups: tuple[str, ...]


def camera_sites(count: int, *, seed: int = 7) -> list[CameraSite]:
    """`count` deterministic camera sites at the city's intersections and mid-blocks."""
    chooser = random.Random(seed)
    sites: list[CameraSite] = []
    slots = [(corridor, cross) for corridor in CORRIDORS for cross in CROSS_STREETS]
    index = 0
    while len(sites) < count:
        (corridor, west_lat, east_lat), (cross, longitude) = slots[index % len(slots)]
        round_number = index // len(slots)
        fraction = (longitude - WEST_END) / (EAST_END - WEST_END)
        latitude = west_lat + (east_lat - west_lat) * fraction
        # Later rounds sit mid-block, east of the intersection.
        longitude += 0.0012 * round_number
        kind = chooser.choices(
            ["city_fixed", "city_ptz", "private_integrated", "private_registered"], weights=[6, 2, 1, 1]
        )[0]
        groups = [GROUP_BY_CORRIDOR[corridor], "traffic" if kind.startswith("city") else "private"]
        suffix = "" if round_number == 0 else f" (mid-block {round_number})"
        sites.append(
            CameraSite(
                name=f"{corridor} & {cross}{suffix}",
                kind=kind,
                latitude=round(latitude, 6),
                longitude=round(longitude, 6),
                heading_deg=float(chooser.choice([0, 45, 90, 135, 180, 225, 270, 315])),
                fov_deg=float(chooser.choice([55, 70, 90])) if kind != "city_ptz" else 60.0,
                range_m=float(chooser.choice([60, 80, 120])),
                groups=tuple(groups),
            )
        )
        index += 1
    return sites


def seed_city(session: Session, *, runtime: Runtime) -> tuple[Agency, int]:
    """Create the simulated agency and its cameras once; returns the agency and cameras added."""
    settings = runtime.settings
    agency = accounts.ensure_agency(session, runtime=runtime, ori=settings.demo_agency_ori, name="Simulated City Sheriff's Station")
    if cameras.count_cameras(session) > 0:
        return agency, 0
    for site in camera_sites(settings.demo_camera_count):
        session.add(cameras.new_camera(runtime=runtime, agency_id=agency.id, values={
            "name": site.name, "kind": site.kind, "latitude": site.latitude, "longitude": site.longitude,
            "heading_deg": site.heading_deg, "fov_deg": site.fov_deg, "range_m": site.range_m, "groups": list(site.groups),
        }))
    return agency, settings.demo_camera_count


def street_lines() -> dict:
    """The simulated city's streets as GeoJSON lines (the console's basemap on a closed network)."""
    features = []
    for name, west_lat, east_lat in CORRIDORS:
        features.append({"type": "Feature", "properties": {"name": name},
                         "geometry": {"type": "LineString", "coordinates": [[WEST_END - 0.003, west_lat], [EAST_END + 0.003, east_lat]]}})
    for name, longitude in CROSS_STREETS:
        lats = [west + (east - west) * (longitude - WEST_END) / (EAST_END - WEST_END) for _, west, east in CORRIDORS]
        features.append({"type": "Feature", "properties": {"name": name},
                         "geometry": {"type": "LineString", "coordinates": [[longitude, min(lats) - 0.004], [longitude, max(lats) + 0.004]]}})
    return {"type": "FeatureCollection", "features": features}
