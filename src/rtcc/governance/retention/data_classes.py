"""The data classes retention knows: their legal floors, what may end their clock and what a purge may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# What ends the clock of a record: its capture, the close of its incident or of its case (the case register,
# cases.py: only classes whose items carry a case number), the end of its field link.
CAPTURE = "capture"
INCIDENT_CLOSED = "incident_closed"
CASE_CLOSED = "case_closed"
LINK_ENDED = "link_ended"
CLOCKS = (CAPTURE, INCIDENT_CLOSED, CASE_CLOSED, LINK_ENDED)

DELETE = "delete"
REDUCE = "reduce"  # keep the record (the hit), drop its image
ACTIONS = (DELETE, REDUCE)

DAY = timedelta(days=1)
CJIS_AUDIT_MINIMUM = timedelta(days=365)  # CJIS Security Policy 5.4.7: audit records kept at least one year


@dataclass(frozen=True)
class DataClass:
    name: str
    label: str
    clocks: tuple[str, ...]  # the first is the default
    actions: tuple[str, ...]
    floor: timedelta = timedelta(0)  # a policy may never keep this class for less
    floor_source: str = ""
    default_keep_for: timedelta = timedelta(days=30)  # when no policy was set and no setting names one
    has_data: bool = True  # False: the capability that fills it is yet to come (its purger reports 0)

    @property
    def default_clock(self) -> str:
        return self.clocks[0]


CLASSES: dict[str, DataClass] = {c.name: c for c in (
    DataClass("plate_reads", "Plate reads without a hit", (CAPTURE,), (DELETE,)),
    DataClass("plate_hits", "Hits and their alerts", (CAPTURE,), (DELETE, REDUCE), default_keep_for=365 * DAY),
    DataClass("continuous_video", "Continuous video", (CAPTURE,), (DELETE,)),
    DataClass("event_clips", "Event clips (event-only cameras)", (CAPTURE,), (DELETE,)),
    DataClass("exported_evidence", "Exported evidence", (CAPTURE, CASE_CLOSED), (DELETE,), default_keep_for=3650 * DAY),
    DataClass("field_share_media", "Field-share media", (LINK_ENDED, CASE_CLOSED), (DELETE,),
              default_keep_for=timedelta(0)),
    DataClass("uploaded_footage", "Uploaded footage", (CAPTURE, CASE_CLOSED), (DELETE,), has_data=False),
    DataClass("community_footage", "Community footage", (CAPTURE, CASE_CLOSED), (DELETE,), has_data=False),
    DataClass("drone_video", "Drone video", (CAPTURE, CASE_CLOSED), (DELETE,), has_data=False),
    DataClass("body_worn_video", "Body-worn video", (CAPTURE, CASE_CLOSED), (DELETE,), has_data=False),
    DataClass("incidents", "Incidents", (INCIDENT_CLOSED,), (DELETE,), default_keep_for=2555 * DAY),
    DataClass("audit_records", "Audit records", (CAPTURE,), (DELETE,), floor=CJIS_AUDIT_MINIMUM,
              floor_source="CJIS Security Policy 5.4.7 (audit records retained at least one year)",
              default_keep_for=CJIS_AUDIT_MINIMUM),
)}


class UnknownDataClass(ValueError):
    pass


def data_class(name: str) -> DataClass:
    try:
        return CLASSES[name]
    except KeyError:
        raise UnknownDataClass(f"unknown data class {name!r}; known: {', '.join(CLASSES)}") from None
