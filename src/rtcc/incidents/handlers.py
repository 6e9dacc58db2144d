"""What incidents do when other domains' events happen, inside the same transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rtcc.alpr.events import PlateAlertRaised
from rtcc.auth.service import get_agency
from rtcc.core.events import handles
from rtcc.incidents import service as incidents


@handles(PlateAlertRaised)
def put_plate_alert_on_timelines(session: Session, event: PlateAlertRaised) -> None:
    """A plate hit on a camera docked to the hotlist agency's open incidents goes on their timelines."""
    if event.camera_id is None:
        return
    incidents.record_plate_alert(session, camera_id=event.camera_id, alert_id=event.alert_id, plate=event.plate,
                                 hotlist=event.hotlist, reason=event.reason,
                                 agency_id=get_agency(session, ori=event.agency_ori).id)
