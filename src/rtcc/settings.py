"""The one `Settings` the server reads: every domain's settings group composed, `RTCC_*` names unchanged.

Each domain keeps its settings in rtcc/<domain>/settings.py (a subclass of the group below it, so a domain's code
can take its own group as its type); this module sits above every domain because it imports them all. The console
and the demo sit above this module (pyproject.toml's layers), so their groups are declared here.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings

from rtcc.alpr.settings import AlprSettings
from rtcc.audit.settings import AuditSettings
from rtcc.auth.settings import AuthSettings
from rtcc.cameras.settings import CameraSettings
from rtcc.core.config import CoreSettings
from rtcc.governance.review.settings import ReviewSettings
from rtcc.governance.transparency.settings import TransparencySettings
from rtcc.incidents.settings import IncidentSettings
from rtcc.policy.settings import PolicySettings
from rtcc.sharing.settings import SharingSettings
from rtcc.video.settings import VideoSettings


class ConsoleSettings(CoreSettings):
    """The console (web/)."""

    map_tile_url: str = Field(
        default="", max_length=500,
        description="Map tile URL template for the console (e.g. an internal tile server's "
                    "https://tiles.city.gov/{z}/{x}/{y}.png). Empty: vector streets only, nothing fetched.",
    )


class DemoSettings(CoreSettings):
    """The demo's simulated city (sim/)."""

    demo_agency_ori: str = Field(
        default="CA0199900", pattern=r"^[A-Z0-9]{9}$",
        description="ORI of the simulated agency the demo seeds.",
    )
    demo_live_cameras: int = Field(
        default=4, ge=0, le=50,
        description="Simulated RTSP cameras the demo starts and records (0: none). Each costs CPU to encode.",
    )
    demo_camera_count: int = Field(
        default=36, ge=0, le=1000, description="Camera records the demo seeds in the simulated city."
    )
    demo_call_interval_seconds: float = Field(
        default=30, ge=0, le=3600,
        description="`rtcc demo` only: seconds between simulated calls for service in the city (0: none).",
    )


class Settings(AlprSettings, IncidentSettings, TransparencySettings, SharingSettings, ConsoleSettings, DemoSettings, AuthSettings,
               AuditSettings, ReviewSettings, PolicySettings):
    """Every limit, retention and threshold of OpenRTCC, each with a description and bounds."""

    @property
    def effective_cad_agency_ori(self) -> str:
        """The agency CAD files are imported for: CAD_AGENCY_ORI, else the demo's agency."""
        return self.cad_agency_ori or self.demo_agency_ori


# In the order the settings reference lists them (the layering, bottom up).
SETTINGS_GROUPS: tuple[type[BaseSettings], ...] = (
    CoreSettings, AuthSettings, AuditSettings, CameraSettings, PolicySettings, VideoSettings, AlprSettings, IncidentSettings,
    SharingSettings, ReviewSettings, TransparencySettings, ConsoleSettings, DemoSettings,
)

# The groups declared here belong to the surfaces above this module.
GROUP_DOMAINS: dict[type[BaseSettings], str] = {ConsoleSettings: "web", DemoSettings: "sim"}

# Settings a camera may override for itself (camera API fields, also import columns).
PER_CAMERA_FIELDS = (
    ("reads_plates", "false", "Read plates from this camera's video (with `RTCC_VIDEO_READS_ENABLED` on). Migration 0015 "
                              "set it for the cameras then in the `alpr` camera group; the group now only scopes them."),
    ("retention_days", "`RTCC_RETENTION_DAYS`", "Maximum age of this camera's recorded video."),
    ("record_mode", "continuous", "continuous, events (kept around marks: `RTCC_EVENT_*`) or off."),
)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, the --config file and explicit overrides."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _own_fields(group: type[BaseSettings]) -> list[str]:
    """The fields a group declares itself (not those it inherits)."""
    return [name for name in group.__dict__.get("__annotations__", {}) if name in group.model_fields]


def settings_reference() -> str:
    """Markdown tables of every setting, one per domain: variable, default, bounds, description."""
    lines = [
        "# Configuration",
        "",
        "Every setting is read from an `RTCC_*` environment variable, else from the TOML file given",
        "with `rtcc --config FILE` (keys are the lower-case names without the prefix), else its default.",
        "`rtcc config show` prints the effective values with secrets masked. This page is generated",
        "by `rtcc config docs`; a test fails when a setting is missing from it. Each domain declares its",
        "settings in `src/rtcc/<domain>/settings.py` (the base ones in `src/rtcc/core/config.py`).",
    ]
    for group in SETTINGS_GROUPS:
        domain = GROUP_DOMAINS.get(group, group.__module__.split(".")[1])
        summary = group.__doc__.strip().splitlines()[0].rstrip(".")
        lines += ["", f"## {domain}: {summary}", "", f"`{group.__module__}.{group.__name__}`", "",
                  "| variable | default | bounds | description |", "|---|---|---|---|"]
        for name in _own_fields(group):
            field = Settings.model_fields[name]
            bounds = []
            for constraint in field.metadata:
                for attribute, symbol in (("ge", ">="), ("le", "<="), ("min_length", "length >="),
                                          ("max_length", "length <="), ("pattern", "matches")):
                    value = getattr(constraint, attribute, None)
                    if value is not None:
                        bounds.append(f"{symbol} `{value}`" if attribute == "pattern" else f"{symbol} {value}")
            default = field.default_factory() if field.default_factory is not None else field.default
            shown = "(long text)" if isinstance(default, str) and len(default) > 40 else f"`{default}`"
            lines.append(f"| `RTCC_{name.upper()}` | {shown} | {', '.join(bounds) or '—'} | {field.description} |")
    lines += ["", "## Per camera", "", "Fields of a camera (camera API, CSV and GeoJSON import) that decide for that camera alone.",
              "", "| field | default | description |", "|---|---|---|"]
    lines += [f"| `{name}` | {default} | {description} |" for name, default, description in PER_CAMERA_FIELDS]
    return "\n".join(lines) + "\n"
