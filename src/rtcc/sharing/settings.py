"""Field sharing settings (`RTCC_SHARE_*`)."""

from __future__ import annotations

from pydantic import Field

from rtcc.video.settings import VideoSettings


class SharingSettings(VideoSettings):
    """Links sent to field officers."""

    share_default_minutes: int = Field(
        default=60, ge=1, le=10080, description="How long a link sent to a field officer works when the sender gives no time."
    )
    share_max_minutes: int = Field(
        default=720, ge=1, le=10080, description="Longest a link sent to a field officer may be made to work (minutes)."
    )
