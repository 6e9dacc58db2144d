"""Policy engine settings (`RTCC_POLICY_*`)."""

from __future__ import annotations

from pydantic import Field

from rtcc.core.config import CoreSettings


class PolicySettings(CoreSettings):
    """Sharing agreements and the policy engine."""

    policy_document_max_bytes: int = Field(
        default=10_485_760, ge=1024, le=1_073_741_824,
        description="Largest signed agreement document (PDF) `PUT /api/v1/policy/agreements/{id}/document` accepts, "
                    "in place of `RTCC_MAX_REQUEST_BYTES` (a scanned, signed agreement is often 2-10 MB); larger gets "
                    "HTTP 413 and the agreement keeps the document it had.",
    )
