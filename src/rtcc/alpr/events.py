"""Events of plate alerts."""

from __future__ import annotations

from rtcc.core.events import Event


class PlateAlertRaised(Event):
    """A read matched a hotlist entry (the system acts; the read and the alert are on record, not audited).

    `agency_ori` is the hotlist's agency: the incidents of that agency put the hit on their timelines."""

    type = "plate.alert"
    permission = "alerts.view"
    alert_id: int
    read_id: int
    plate: str
    matched_plate: str
    method: str
    camera_id: int | None
    read_at: str
    crop: str | None
    hotlist: str
    priority: int
    reason: str | None
    vehicle: dict[str, str | None]


class PlateAlertUpdated(Event):
    """A person acknowledged, verified or disposed of an alert; each act names its own audit action."""

    type = "plate.alert_updated"
    permission = "alerts.view"
    alert_id: int
    status: str
    priority: int
    by: str | None = None
    disposition: str | None = None
