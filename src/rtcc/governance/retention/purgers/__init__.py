"""One purger per data class, registered by class name: what is past its clock, and how it goes.

A purger only selects and removes; the engine (engine.py) decides with the holds what may go, batches it,
commits each batch and writes the receipt. A capability that brings a new class (drone video, body-worn video,
community uploads) registers its purger (base.register) under the class name; until then the class reports
nothing. Purgers by what they remove: plates.py (reads, hits), video.py (segments, exports), records.py (field
links' copies, incidents, the audit trail's floor, classes with no data yet).
"""

from rtcc.governance.retention.purgers.base import (
    CASE_OPEN,
    PURGERS,
    PolicyInForce,
    Purger,
    case_clock,
    register,
    upload_exists,
)
from rtcc.governance.retention.purgers.plates import (
    PlateHitPurger,
    PlateReadPurger,
    forget_plates,
)
from rtcc.governance.retention.purgers.records import (
    AuditRecordPurger,
    FieldShareMediaPurger,
    IncidentPurger,
    NoDataYet,
    share_item,
    share_media_is_held,
)
from rtcc.governance.retention.purgers.video import (
    ContinuousVideoPurger,
    EventClipPurger,
    ExportedEvidencePurger,
)

__all__ = ["CASE_OPEN", "PURGERS", "PolicyInForce", "Purger", "case_clock", "forget_plates", "register",
           "share_item", "share_media_is_held", "upload_exists"]

for _purger in (PlateReadPurger(), PlateHitPurger(), ContinuousVideoPurger(), EventClipPurger(), ExportedEvidencePurger(),
                FieldShareMediaPurger(), IncidentPurger(), AuditRecordPurger(), NoDataYet("uploaded_footage"),
                NoDataYet("community_footage"), NoDataYet("drone_video"), NoDataYet("body_worn_video")):
    register(_purger)
