"""Camera records in and out of the API; stream credentials go in but never come out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rtcc.cameras.geometry import view_cone_polygon
from rtcc.cameras.models import Camera

CameraKind = Literal["city_fixed", "city_ptz", "private_registered", "private_integrated", "body_worn", "drone"]
RecordMode = Literal["continuous", "events", "off"]
Point = tuple[float, float]


class CameraFields(BaseModel):
    """Every field a caller may set; all optional (PATCH, import lines)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str | None = Field(default=None, max_length=100, description="The owner's id; re-import updates it.")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: CameraKind | None = None
    owner_name: str | None = Field(default=None, max_length=200)
    groups: list[str] | None = Field(default=None, max_length=50)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    mounting_height_m: float | None = Field(default=None, ge=0, le=500)
    heading_deg: float | None = Field(default=None, ge=0, lt=360, description="Clockwise from north.")
    fov_deg: float | None = Field(default=None, gt=0, le=360, description="Horizontal field of view; 360 for a full circle.")
    range_m: float | None = Field(default=None, gt=0, le=5000, description="How far the camera usefully sees.")
    main_stream_url: str | None = Field(default=None, max_length=1000, description="Credentials in it are split off and encrypted.")
    sub_stream_url: str | None = Field(default=None, max_length=1000)
    rtsp_transport: Literal["tcp", "udp"] | None = Field(default=None, description="How RTSP media travels (default tcp).")
    record_mode: RecordMode | None = None
    retention_class: str | None = Field(default=None, max_length=32)
    privacy_masks: list[list[Point]] | None = Field(default=None, description="Polygons in image coordinates 0..1.")
    reads_plates: bool | None = Field(
        default=None, description="Read plates from this camera's video (default false; RTCC_VIDEO_READS_ENABLED can switch all off).")


class CameraCreate(CameraFields):
    name: str = Field(min_length=1, max_length=200)
    kind: CameraKind
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    agency_ori: str | None = Field(default=None, min_length=9, max_length=9, description="Default: your agency.")
    stream_username: str | None = Field(default=None, max_length=200)
    stream_password: str | None = Field(default=None, max_length=200)


class CameraPatch(CameraFields):
    stream_username: str | None = Field(default=None, max_length=200)
    stream_password: str | None = Field(default=None, max_length=200)


class CameraOut(BaseModel):
    id: int
    external_id: str | None
    name: str
    kind: str
    agency_ori: str
    owner_name: str | None
    groups: list[str]
    latitude: float
    longitude: float
    mounting_height_m: float
    heading_deg: float
    fov_deg: float
    range_m: float
    main_stream_url: str | None = Field(description="Without credentials.")
    sub_stream_url: str | None
    has_stream_credentials: bool
    rtsp_transport: str
    record_mode: str
    retention_class: str
    privacy_masks: list
    reads_plates: bool
    status: str
    status_detail: str | None
    view_cone: list[tuple[float, float]] = Field(description="Closed ring of [longitude, latitude]: what the camera sees.")
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, camera: Camera, agency_ori: str) -> "CameraOut":
        return cls(
            id=camera.id, external_id=camera.external_id, name=camera.name, kind=camera.kind, agency_ori=agency_ori,
            owner_name=camera.owner_name, groups=camera.groups or [], latitude=camera.latitude,
            longitude=camera.longitude, mounting_height_m=camera.mounting_height_m, heading_deg=camera.heading_deg,
            fov_deg=camera.fov_deg, range_m=camera.range_m, main_stream_url=camera.main_stream_url,
            sub_stream_url=camera.sub_stream_url, has_stream_credentials=camera.stream_credentials_encrypted is not None,
            rtsp_transport=camera.rtsp_transport or "tcp",
            record_mode=camera.record_mode, retention_class=camera.retention_class,
            privacy_masks=camera.privacy_masks or [], reads_plates=bool(camera.reads_plates), status=camera.status, status_detail=camera.status_detail,
            view_cone=view_cone_polygon(camera.latitude, camera.longitude, camera.heading_deg, camera.fov_deg,
                                        camera.range_m, segments=8),
            created_at=camera.created_at,
            updated_at=camera.updated_at,
        )


class ImportReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[dict]


class CameraHitOut(BaseModel):
    camera: CameraOut
    distance_m: float
    sees_point: bool
    off_axis_deg: float = Field(description="How far from the centre of the view the point lies.")


class OnvifDiscoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    host: str = Field(min_length=1, max_length=255, description="The device's address.")
    port: int = Field(default=80, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=200, description="Used once, never stored or logged.")
    password: str | None = Field(default=None, max_length=200)


class OnvifStreamOut(BaseModel):
    profile_token: str
    name: str
    encoding: str | None
    width: int | None
    height: int | None
    uri: str


class OnvifDiscoveryOut(BaseModel):
    streams: list[OnvifStreamOut]
    main_stream_url: str | None
    sub_stream_url: str | None


class CameraMapOut(BaseModel):
    """Cameras for the map: each row holds the values of `fields`, in that order."""

    fields: list[str]
    cameras: list[list]


class CameraHealthOut(BaseModel):
    camera_id: int
    name: str
    status: str = Field(description="recording, degraded (its recording index trails), connecting, offline, stale, "
                                    "black, frozen, tamper_covered, tamper_moved, ...")
    status_detail: str | None
    status_changed_at: datetime | None
    uptime_percent: dict[str, float] = Field(description="Recorded share of the last 24h, 7d and 30d.")
    recording_lag_seconds: float | None = Field(
        description="Now minus the end of the newest indexed segment; null for a camera that is not recorded "
                    "(or has nothing indexed yet). Over two segment lengths marks a recording camera degraded.")


class CameraHealthReport(BaseModel):
    cameras_streaming: int
    cameras_working: int
    working_percent: float = Field(description="The city-wide 'cameras working' figure.")
    cameras: list[CameraHealthOut]
