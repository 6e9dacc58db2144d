"""Public-records releases: a request for a clip, its redacted release copy and the supervisor's decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument

# requested -> rendering -> rendered -> approved | rejected; a failed render, or a box added, goes back to be rendered,
# as does one found interrupted (cut off by a restart or a crash: rendering.recover_interrupted_renders).
RELEASE_STATUSES = ("requested", "rendering", "rendered", "failed", "interrupted", "approved", "rejected")


class ReleaseRequest(Base):
    """One public-records request for one clip: where the clip comes from, what was blurred, who approved."""

    __tablename__ = "release_requests"
    __table_args__ = (Index("ix_release_requests_agency_status", "agency_ori", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_ori: Mapped[str] = mapped_column(String(9))  # the requesting clerk's agency: its people see the request
    records_request_number: Mapped[str] = mapped_column(String(64), index=True)
    requester: Mapped[str] = mapped_column(String(200))  # who asked under the public-records law (a person, a paper)
    purpose: Mapped[str] = mapped_column(String(500))
    # The source: a camera and a window of its recording, or an evidence export's clip. No foreign keys: a release
    # keeps its record when the camera or the export is later removed.
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    export_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The clip the copy is made from (relative to DATA_DIR: a cut under releases/, or an export's payload) and its
    # SHA-256 when the request was made; each render checks it again, so the copy provably comes from that clip.
    source_path: Mapped[str] = mapped_column(String(500))
    original_sha256: Mapped[str] = mapped_column(String(64))
    source_segment_sha256: Mapped[list] = mapped_column(JSONDocument, default=list)
    # The source clip's picture, probed when the request is made: drawn boxes are in these frame coordinates.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    # Boxes people drew: {"frame", "box": [x, y, w, h], "last_frame", "note", "drawn_by"}, tracked forward when rendered.
    manual_boxes: Mapped[list] = mapped_column(JSONDocument, default=list)
    # What the last render blurred: automatic faces and plates summarised, each drawn box with the frames it covered.
    redactions: Mapped[dict | None] = mapped_column(JSONDocument, nullable=True)
    release_path: Mapped[str | None] = mapped_column(String(500), nullable=True)  # relative to DATA_DIR/releases
    release_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    release_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    render_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    render_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it failed or was interrupted
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
