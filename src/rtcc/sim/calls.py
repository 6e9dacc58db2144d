"""The simulated city's calls for service: what a CAD would send, at the city's streets.

A seeded generator makes a realistic mix (shots fired and robberies that open incidents, noise
complaints and suspicious vehicles that mostly do not), places a share of them in front of the
cameras that stream live so their incidents dock live video, and now and then updates or clears
a call it sent earlier. `rtcc demo` runs SimulatedCalls as a job (sim/jobs.py), sending one call
about every demo_call_interval_seconds through the same receive_call path as a real CAD.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import func, select

from rtcc.cameras.geometry import offset_point
from rtcc.cameras.locator import CameraLocator
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.database import run_write
from rtcc.core.runtime import Runtime
from rtcc.incidents import calls
from rtcc.sim.city import CORRIDORS, CROSS_STREETS, EAST_END, WEST_END, CameraSite, camera_sites

log = logging.getLogger(__name__)

CALL_ID_PREFIX = "SIM-"
FIRST_CALL_DELAY_SECONDS = 5.0  # the demo's first call, after start (then one per interval)
CITY_KINDS = ("city_fixed", "city_ptz")

# (type, priority, weight, what the caller says); priorities 1-2 and the listed types open incidents by default.
CALL_TYPES: list[tuple[str, int, int, tuple[str, ...]]] = [
    ("Shots fired", 1, 2, ("Caller heard 3-4 shots, saw a dark sedan speed off eastbound.",
                           "Multiple callers report gunshots near the corner; no victims seen yet.")),
    ("Robbery", 1, 3, ("Clerk robbed at knifepoint, suspect fled on foot, red hoodie.",
                       "Pedestrian robbed of phone and wallet; two suspects left in a grey SUV.")),
    ("Carjacking", 1, 1, ("Driver pulled from a white hatchback at the light; suspect armed with a handgun.",)),
    ("Assault", 2, 4, ("Two males fighting outside the bar, one on the ground.",
                       "Victim punched by a stranger, suspect walking westbound.")),
    ("Burglary in progress", 2, 2, ("Alarm company reports rear door glass break, movement inside.",)),
    ("Traffic collision", 2, 5, ("Two-car collision blocking lanes, one driver complaining of neck pain.",
                                 "Motorcycle down in the intersection, rider conscious.")),
    ("Hit and run", 2, 2, ("Pedestrian clipped by a pickup that did not stop, last seen northbound.",)),
    ("Suspicious vehicle", 3, 5, ("Van idling with lights off for an hour, occupants watching the bank.",
                                  "Car circling the block slowly, plate partially covered.")),
    ("Suspicious person", 3, 4, ("Male trying car door handles along the block.",
                                 "Person looking into parked cars with a flashlight.")),
    ("Theft", 3, 4, ("Bicycle stolen from the rack in the last 20 minutes.",
                     "Shoplifter left the pharmacy with a basket of items.")),
    ("Welfare check", 3, 3, ("Elderly man sitting on the bus bench for hours, seems confused.",)),
    ("Vandalism", 4, 3, ("Graffiti being painted on the storefront right now.",)),
    ("Noise complaint", 4, 4, ("Loud music from the rooftop party, ongoing since 10 pm.",
                               "Construction noise outside permitted hours.")),
]
# How a suspicious call turns into something serious (an update that opens an incident).
ESCALATIONS = {
    "Suspicious vehicle": "Occupants now seen with a handgun; vehicle moving.",
    "Suspicious person": "Subject has now broken a car window and is inside the vehicle.",
    "Assault": "Victim bleeding from the head; suspect has a bottle.",
}
UPDATES = ("Units on scene.", "Caller called back: suspect still in the area.", "Witness describes a second suspect.",
           "Additional unit requested for traffic control.", "Supervisor notified.")
CLEARANCES = ("Cleared: report taken.", "Cleared: gone on arrival.", "Cleared: no further action.",
              "Cleared: one in custody.", "Cleared: referred to detectives.")


@dataclass(frozen=True)
class Hotspot:
    """A camera that streams live: a call placed in its view docks it first."""

    name: str
    latitude: float
    longitude: float
    heading_deg: float
    fov_deg: float
    range_m: float


@dataclass
class SimulatedCall:
    kind: str  # new | update | close
    values: dict[str, Any]


def live_camera_sites(camera_count: int, live_count: int) -> list[CameraSite]:
    """The sites of the demo's streaming cameras: the first city cameras seeded (attach_live_cameras)."""
    return [site for site in camera_sites(camera_count) if site.kind in CITY_KINDS][:live_count]


def hotspots_of(sites: Sequence[Any]) -> list[Hotspot]:
    return [Hotspot(name=site.name, latitude=site.latitude, longitude=site.longitude, heading_deg=site.heading_deg,
                    fov_deg=site.fov_deg, range_m=site.range_m) for site in sites]


def _corridor_latitude(corridor: tuple[str, float, float], longitude: float) -> float:
    _, west_lat, east_lat = corridor
    return west_lat + (east_lat - west_lat) * (longitude - WEST_END) / (EAST_END - WEST_END)


def _house_number(longitude: float, chooser: random.Random) -> int:
    # Addresses run from about 9200 at Doheny Dr down to 7100 at La Brea Ave.
    fraction = min(max((longitude - WEST_END) / (EAST_END - WEST_END), 0.0), 1.05)
    block = int(round((9200 - fraction * 2100) / 100)) * 100
    return block + chooser.randrange(0, 98)


@dataclass
class CallGenerator:
    """Deterministic for a seed: each next_call() is a new call, or an update or clearance of an open one."""

    seed: int | None = None
    hotspots: Sequence[Hotspot] = ()
    first_number: int = 1
    near_live_share: float = 0.5  # of new calls, placed in front of a live camera
    follow_up_share: float = 0.3  # of all calls, an update or clearance of an earlier one
    max_open: int = 8  # past this many open calls, the oldest is cleared
    open_calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        self.random = random.Random(self.seed)
        self.number = self.first_number
        self.sent = 0

    def adopt(self, values: dict[str, Any]) -> None:
        """An open call sent before (a restarted demo), to be updated or cleared later."""
        self.open_calls.append(dict(values))

    def next_call(self, now: datetime | None = None) -> SimulatedCall:
        now = calls.normalise_received_at(now or clock.utcnow())
        first = self.sent == 0
        self.sent += 1
        if len(self.open_calls) >= self.max_open:
            return self._clear(self.open_calls[0])
        if not first and self.open_calls and self.random.random() < self.follow_up_share:
            earlier = self.random.choice(self.open_calls[: max(1, len(self.open_calls) // 2 + 1)])  # older ones first
            return self._clear(earlier) if self.random.random() < 0.55 else self._update(earlier)
        return self._new(now, opening=first)

    # --- new calls ---

    def _new(self, now: datetime, *, opening: bool) -> SimulatedCall:
        chooser = self.random
        if opening:  # the first call of a run opens an incident on a live camera: the story starts at once
            call_type, priority, narratives = "Robbery", 1, CALL_TYPES[1][3]
        else:
            call_type, priority, _, narratives = chooser.choices(CALL_TYPES, weights=[row[2] for row in CALL_TYPES])[0]
        if self.hotspots and (opening or chooser.random() < self.near_live_share):
            latitude, longitude, address = self._in_view_of(chooser.choice(list(self.hotspots)) if not opening
                                                            else self.hotspots[0])
        else:
            latitude, longitude, address = self._on_a_street()
        values = {
            "call_id": f"{CALL_ID_PREFIX}{self.number:06d}", "type": call_type, "priority": priority, "address": address,
            "latitude": round(latitude, 6), "longitude": round(longitude, 6), "received_at": now,
            "narrative": chooser.choice(narratives), "units": [self._unit()] if chooser.random() < 0.6 else [],
            "extra": {"source": "simulated city", "beat": f"WH{chooser.randrange(1, 6)}"}, "status": "open",
        }
        self.number += 1
        self.open_calls.append(values)
        return SimulatedCall("new", dict(values))

    def _in_view_of(self, spot: Hotspot) -> tuple[float, float, str]:
        chooser = self.random
        bearing = spot.heading_deg + chooser.uniform(-spot.fov_deg / 4, spot.fov_deg / 4)
        latitude, longitude = offset_point(spot.latitude, spot.longitude, bearing % 360,
                                           spot.range_m * chooser.uniform(0.25, 0.6))
        corridor = spot.name.split(" & ")[0]
        return latitude, longitude, f"{_house_number(longitude, chooser)} {corridor}"

    def _on_a_street(self) -> tuple[float, float, str]:
        chooser = self.random
        corridor = chooser.choice(CORRIDORS)
        if chooser.random() < 0.35:
            cross, longitude = chooser.choice(CROSS_STREETS)
            return _corridor_latitude(corridor, longitude), longitude, f"{corridor[0]} & {cross}"
        longitude = chooser.uniform(WEST_END, EAST_END)
        latitude = _corridor_latitude(corridor, longitude) + chooser.uniform(-0.00015, 0.00015)
        return latitude, longitude, f"{_house_number(longitude, chooser)} {corridor[0]}"

    def _unit(self) -> str:
        return f"{self.random.randrange(1, 9)}{self.random.choice('ABLX')}{self.random.randrange(10, 99)}"

    # --- follow-ups ---

    def _update(self, values: dict[str, Any]) -> SimulatedCall:
        chooser = self.random
        escalation = ESCALATIONS.get(values["type"])
        if escalation and values["priority"] > 2 and chooser.random() < 0.5:
            values["priority"] = 2
            addition = escalation
        else:
            addition = chooser.choice(UPDATES)
        values["narrative"] = f"{values['narrative']}\n{addition}"
        if len(values["units"]) < 4:
            values["units"] = [*values["units"], self._unit()]
        return SimulatedCall("update", dict(values))

    def _clear(self, values: dict[str, Any]) -> SimulatedCall:
        self.open_calls.remove(values)
        values["narrative"] = f"{values['narrative']}\n{self.random.choice(CLEARANCES)}"
        values["status"] = calls.CLOSED_STATUS
        return SimulatedCall("close", dict(values))


def simulated_cad_actor(runtime: Runtime) -> Actor:
    return Actor(via="system", username="system:simulated-cad", agency_ori=runtime.settings.demo_agency_ori,
                 source_address="simulated city")


class SimulatedCalls:
    """Sends the generator's calls through receive_call, one per send_one() (the demo_calls job's runs)."""

    def __init__(self, runtime: Runtime, *, locator: CameraLocator, seed: int | None = None):
        self.runtime = runtime
        self.locator = locator
        self.seed = seed
        self.actor = simulated_cad_actor(runtime)
        self.generator: CallGenerator | None = None

    def _build_generator(self) -> CallGenerator:
        from rtcc.cameras.models import Camera
        from rtcc.incidents.models import CallForService

        settings = self.runtime.settings
        with self.runtime.database.read_session() as db:
            city = select(Camera).where(Camera.kind.in_(CITY_KINDS)).order_by(Camera.id)
            streaming = db.execute(city.where(Camera.main_stream_url.is_not(None))).scalars().all()
            spots = hotspots_of(streaming or db.execute(city.limit(max(settings.demo_live_cameras, 4))).scalars().all())
            sent = db.execute(select(func.count()).select_from(CallForService)
                              .where(CallForService.call_id.like(f"{CALL_ID_PREFIX}%"))).scalar_one()
            still_open = db.execute(select(CallForService).where(CallForService.call_id.like(f"{CALL_ID_PREFIX}%"),
                                                                 CallForService.status != calls.CLOSED_STATUS)
                                    .order_by(CallForService.id)).scalars().all()
            generator = CallGenerator(seed=self.seed, hotspots=spots, first_number=sent + 1)
            for call in still_open:
                generator.adopt({name: getattr(call, name) for name in (
                    "call_id", "type", "priority", "address", "latitude", "longitude", "received_at", "narrative",
                    "units", "extra", "status")})
        return generator

    def send_one(self) -> tuple[SimulatedCall, calls.CallOutcome]:
        """Make the next call and receive it as a CAD call (in this thread)."""
        if self.generator is None:
            self.generator = self._build_generator()
        simulated = self.generator.next_call()
        # A busy database is waited out: the city does not call twice (run_write's retries).
        outcome = run_write(self.runtime.database, lambda db: calls.receive_call(
            db, runtime=self.runtime, locator=self.locator, actor=self.actor, values=dict(simulated.values)),
            what=f"simulated call {simulated.values['call_id']}")
        log.info("simulated call %s (%s): %s P%s at %s%s", simulated.values["call_id"], simulated.kind,
                 simulated.values["type"], simulated.values["priority"], simulated.values["address"],
                 ", opened an incident" if outcome.opened else "")
        return simulated, outcome
