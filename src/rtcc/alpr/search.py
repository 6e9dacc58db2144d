"""Plate search: exact, wildcard (7AB?12*) or fuzzy, within time, cameras and an area — always for a case."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.alpr import scope
from rtcc.alpr.models import PlateRead, SeenPlate
from rtcc.alpr.plates import MAX_PLATE, normalise_plate, one_substitution_variants
from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput
from rtcc.core.runtime import Runtime
from rtcc.policy import engine as policy

WILDCARD_QUERY = re.compile(r"^[A-Z0-9?*]{1,16}$")
TRIGRAM_RUN = re.compile(r"[A-Z0-9]{3}")  # what a pg_trgm index on seen_plates (migration 0014) can look up
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,63}$")
MODES = ("exact", "wildcard", "fuzzy")
# A wildcard pattern is matched against seen_plates (one row per plate, ~10x fewer than reads; a leading * can
# use no index on the reads at all: on PostgreSQL a trigram index on seen_plates serves it) and the reads of up
# to this many plates are fetched through the plate index.
# A pattern matching more plates than that is common enough that scanning reads newest first fills a page fast.
SEEN_PLATES_MOST = 500


@dataclass
class PlateQuery:
    plate: str
    mode: str = "exact"
    start: datetime | None = None
    end: datetime | None = None
    camera_ids: list[int] | None = None
    area: list[tuple[float, float]] | None = None  # polygon of (longitude, latitude)

    def terms(self) -> dict:
        return {"plate": self.plate, "mode": self.mode, "start": clock.iso(self.start), "end": clock.iso(self.end),
                "camera_ids": self.camera_ids, "area": self.area}


def point_in_polygon(longitude: float, latitude: float, polygon: list[tuple[float, float]]) -> bool:
    """Ray casting: whether the point lies inside the polygon (a list of (lon, lat), closed or not)."""
    inside = False
    count = len(polygon)
    for index in range(count):
        x1, y1 = polygon[index]
        x2, y2 = polygon[(index + 1) % count]
        if (y1 > latitude) != (y2 > latitude):
            crossing = x1 + (latitude - y1) * (x2 - x1) / (y2 - y1)
            if longitude < crossing:
                inside = not inside
    return inside


def _plate_condition(session: Session, query: PlateQuery):
    if query.mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}.", code="invalid_search")
    if query.mode == "wildcard":
        pattern = query.plate.strip().upper()
        if not WILDCARD_QUERY.match(pattern) or pattern.strip("*?") == "":
            raise InvalidInput("A wildcard search uses letters, digits, ? (one character) and * (any run), "
                               "and at least one letter or digit.", code="invalid_search")
        # The pattern holds only [A-Z0-9?*], so no SQL LIKE metacharacter of the user's survives.
        like = pattern.replace("*", "%").replace("?", "_")
        # Naming the plates also tells PostgreSQL's planner how few reads match: given the LIKE itself it can
        # misjudge a rare pattern as common and scan every partition newest first for a page (0.5-2 s).
        listed = SeenPlate.plate.like(like)
        prefix = re.match(r"[A-Z0-9]*", pattern).group()
        if not prefix and not TRIGRAM_RUN.search(pattern):
            # No run of three letters or digits gives pg_trgm nothing to look up: its index would return every
            # plate to be checked again, slower than the scan it would replace. An expression keeps it off.
            listed = (SeenPlate.plate + "").like(like)
        if prefix:  # as a key range too: a cached (generic) plan on PostgreSQL cannot take it from LIKE's parameter
            listed &= SeenPlate.plate.between(prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1))
        plates = session.execute(select(SeenPlate.plate).where(listed).limit(SEEN_PLATES_MOST + 1)).scalars().all()
        if len(plates) <= SEEN_PLATES_MOST:
            return PlateRead.plate.in_(plates)
        return PlateRead.plate.like(like)
    plate = normalise_plate(query.plate)
    if not 2 <= len(plate) <= MAX_PLATE:
        raise InvalidInput("Give a plate of 2 to 10 letters or digits.", code="invalid_search")
    if query.mode == "exact":
        return PlateRead.plate == plate
    return PlateRead.plate.in_([plate, *{variant for variant, _ in one_substitution_variants(plate)}])


def check_purpose(purpose: str | None, case_number: str | None) -> None:
    """Refuse a search (or a crop fetched as one) without a purpose of a few words and a case number."""
    if len((purpose or "").strip()) < 5:
        raise InvalidInput("Say why you search (purpose, at least a few words).", code="purpose_required")
    if not CASE_NUMBER.match(case_number or ""):
        raise InvalidInput("A case number is required.", code="case_number_required")


def search_reads(session: Session, *, runtime: Runtime, actor: Actor, query: PlateQuery, purpose: str, case_number: str,
                 limit: int = 100, before_id: int | None = None, purpose_category: str | None = None) -> list[PlateRead]:
    """Newest first, paged by id, only reads of cameras in the actor's scope; refused without a purpose, a case
    number and a purpose category; audited with its terms."""
    check_purpose(purpose, case_number)
    # A category of the managed list, required: counted by purpose, and refused where a policy prohibits it.
    category = policy.check_use(session, keys=runtime.keys, actor=actor, data_class="plate_reads",
                                purpose=purpose_category, action="search")
    statement = select(PlateRead).where(_plate_condition(session, query))
    in_scope = scope.camera_condition(session, actor=actor, column=PlateRead.camera_id, same_agency=True)
    if in_scope is not None:
        statement = statement.where(in_scope)
    if query.start:
        statement = statement.where(PlateRead.read_at >= query.start)
    if query.end:
        statement = statement.where(PlateRead.read_at < query.end)
    if query.camera_ids:
        statement = statement.where(PlateRead.camera_id.in_(query.camera_ids))
    if query.area:
        if len(query.area) < 3:
            raise InvalidInput("An area needs at least three corners.", code="invalid_search")
        longitudes, latitudes = [p[0] for p in query.area], [p[1] for p in query.area]
        statement = statement.where(PlateRead.longitude.between(min(longitudes), max(longitudes)),
                                    PlateRead.latitude.between(min(latitudes), max(latitudes)))
    if before_id:
        statement = statement.where(PlateRead.id < before_id)
    statement = statement.order_by(PlateRead.id.desc())
    if not query.area:
        # Without a polygon every row fetched is a result: the database stops at the page (a top-N sort).
        statement = statement.limit(limit)
    else:
        # The polygon test runs in Python on the bounding box's rows, fetched in pages. Only here: paging uses a
        # server-side cursor on PostgreSQL, which is planned for its first rows (cursor_tuple_fraction), and
        # that favours a newest-first scan of every partition over the plate index.
        statement = statement.execution_options(yield_per=500)
    found: list[PlateRead] = []
    for read in session.execute(statement).scalars():
        if query.area and not point_in_polygon(read.longitude, read.latitude, query.area):
            continue
        found.append(read)
        if len(found) >= limit:
            break
    audit.record(session, keys=runtime.keys, actor=actor, action="alpr.search", object_type="plate_read",
                 purpose=purpose.strip(), case_number=case_number, query_terms={**query.terms(), "limit": limit},
                 details={"results": len(found), "purpose_category": category})
    return found
