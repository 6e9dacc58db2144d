"""Public-records releases in and out."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class ReleaseIn(BaseModel):
    """A public-records request for one clip: a camera and a window of its recording, or an evidence export."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    records_request_number: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,63}$",
                                        description="The public-records request this release answers.")
    requester: str = Field(min_length=2, max_length=200, description="Who asked (a person, a newspaper).")
    purpose: str = Field(min_length=5, max_length=500, description="Why the clip is released (recorded in the audit).")
    camera_id: int | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    export_id: int | None = Field(default=None, description="Release the clip of this evidence export instead.")

    @model_validator(mode="after")
    def one_source(self) -> ReleaseIn:
        from_camera = self.camera_id is not None or self.start is not None or self.end is not None
        if from_camera == (self.export_id is not None):
            raise ValueError("give either camera_id, start and end, or export_id")
        if from_camera and (self.camera_id is None or self.start is None or self.end is None):
            raise ValueError("a clip of a camera needs camera_id, start and end")
        return self


class BoxIn(BaseModel):
    """A rectangle drawn on one frame, in that frame's pixels; blurred there and tracked forward."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    frame: int = Field(ge=0, le=10_000_000, description="The frame (0 is the first) the box was drawn on.")
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(ge=4)
    height: int = Field(ge=4)
    last_frame: int | None = Field(default=None, ge=0, description="Track it up to this frame (default: the end).")
    note: str | None = Field(default=None, max_length=200, description="What the box hides (a bystander, a screen).")

    @model_validator(mode="after")
    def forward(self) -> BoxIn:
        if self.last_frame is not None and self.last_frame < self.frame:
            raise ValueError("last_frame comes before frame: boxes are tracked forward")
        return self


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    approve: bool
    note: str = Field(min_length=5, max_length=1000, description="What the reviewer checked, or why it is refused.")


class ReleaseOut(BaseModel):
    id: int
    records_request_number: str
    requester: str
    purpose: str
    agency_ori: str
    camera_id: int | None
    start: datetime | None
    end: datetime | None
    export_id: int | None
    status: str = Field(description="requested | rendering | rendered | failed | interrupted | approved | rejected "
                                    "(interrupted: cut off by a restart or a crash; render_error says so)")
    width: int
    height: int
    fps: float
    original_sha256: str = Field(description="SHA-256 of the clip the copy is made from, as it was when requested.")
    source_segment_sha256: list[str]
    manual_boxes: list[dict]
    redactions: dict | None = Field(description="What the last render blurred: faces, plates, each drawn box's frames.")
    release_sha256: str | None
    release_bytes: int | None
    render_seconds: float | None
    render_error: str | None = Field(description="Why the last render failed or was interrupted.")
    requested_by: str
    requested_at: datetime
    rendered_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
