"""Keeps a recorder running for every camera that should record, and only for those (and watches its picture).

The work is done by the camera pipeline supervisor (rtcc.video.pipeline.supervisor): one reconcile loop, per
camera one recorder and at most one sub-stream decoder. RecordingSupervisor is that supervisor recording and
watching health, as the server's recorder always did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtcc.core.runtime import Runtime
from rtcc.video.pipeline.supervisor import (
    HEALTH_DETAILS,
    NO_SOURCE,
    RECORDED_MODES,
    SOURCE_REFUSED,
    CameraPipelineSupervisor,
    media_store,
)

if TYPE_CHECKING:
    from rtcc.video.live.registry import LiveRelayRegistry

__all__ = ["HEALTH_DETAILS", "NO_SOURCE", "RECORDED_MODES", "SOURCE_REFUSED", "RecordingSupervisor", "media_store"]


class RecordingSupervisor(CameraPipelineSupervisor):
    """Records every recorded camera and watches the health of those with a sub-stream."""

    def __init__(self, runtime: Runtime, live_relays: LiveRelayRegistry | None = None):
        super().__init__(runtime, live_relays=live_relays, record=True, kinds=("health",))
