"""Camera registry settings: imports, ONVIF, the stream-source policy."""

from __future__ import annotations

from pydantic import Field, field_validator

from rtcc.core.config import CoreSettings


class CameraSettings(CoreSettings):
    """The camera registry: imports, ONVIF discovery and which stream sources the server opens."""

    onvif_timeout_seconds: float = Field(
        default=10, ge=1, le=60, description="How long ONVIF discovery waits for a device before giving up."
    )
    max_import_bytes: int = Field(
        default=67_108_864, ge=1024, le=4_294_967_296,
        description="Largest bulk-import upload (camera CSV/GeoJSON); larger uploads get HTTP 413.",
    )
    camera_import_max_rows: int = Field(
        default=100_000, ge=1, le=10_000_000, description="Most camera lines one import reads; the rest is reported."
    )
    camera_network_allowlist: list[str] = Field(
        default_factory=list, max_length=1000,
        description="Networks (CIDR) that camera stream and ONVIF discovery addresses may reach although they are "
                    "loopback, link-local, cloud-metadata or the server's own addresses (127.0.0.0/8 for simulated "
                    "cameras); the server's own HTTP port stays refused. Private ranges (10/8, 172.16/12, 192.168/16) "
                    'need no entry. Environment: a JSON list, e.g. ["127.0.0.0/8"].',
    )
    allow_file_streams: bool = Field(
        default=False,
        description="Let cameras take file:// sources (tests and demos only): a file URL reads the server's own disk.",
    )

    @field_validator("camera_network_allowlist")
    @classmethod
    def _networks_in_cidr(cls, value: list[str]) -> list[str]:
        import ipaddress

        try:
            return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in value]
        except ValueError as error:
            raise ValueError(f"not a network in CIDR notation: {error}") from None
