"""Imports every domain's tables so the metadata Alembic compares against is complete."""

from rtcc.core.database import Base
from rtcc.alpr import models as _alpr_models  # noqa: F401
from rtcc.audit import models as _audit_models  # noqa: F401
from rtcc.auth import models as _auth_models  # noqa: F401
from rtcc.cameras import models as _camera_models  # noqa: F401
from rtcc.core import models as _core_models  # noqa: F401
from rtcc.governance.review import models as _review_models  # noqa: F401
from rtcc.governance.releases import models as _release_models  # noqa: F401
from rtcc.governance.retention import models as _retention_models  # noqa: F401
from rtcc.governance.transparency import models as _transparency_models  # noqa: F401
from rtcc.incidents import models as _incident_models  # noqa: F401
from rtcc.policy import models as _policy_models  # noqa: F401
from rtcc.sharing import models as _sharing_models  # noqa: F401
from rtcc.video import models as _video_models  # noqa: F401

metadata = Base.metadata
