"""Transparency portal settings (`RTCC_TRANSPARENCY_*`)."""

from __future__ import annotations

from pydantic import Field

from rtcc.sharing.settings import SharingSettings


class TransparencySettings(SharingSettings):
    """The transparency portal: the public figures at /transparency and their JSON, and the annual report."""

    transparency_cache_seconds: float = Field(
        default=15, ge=0, le=3600,
        description="How long the public figures are served from memory before they are counted again (0: every "
                    "request counts, one at a time). The portal needs no sign-in, so this is what keeps it from "
                    "loading the database.",
    )
    transparency_small_count: int = Field(
        default=5, ge=2, le=100,
        description="Figures that could identify an investigation (hits, searches per purpose, shares per "
                    "recipient, holds) show 'fewer than N' from 1 to N-1.",
    )
