"""Events of the transparency portal: what an admin entered for a year's report."""

from __future__ import annotations

from rtcc.core.events import Event


class TransparencyYearSaved(Event):
    """An admin entered or changed a year's costs and complaints (published in that year's report)."""

    type = "transparency.year_saved"
    permission = "transparency.manage"
    audit_action = "transparency.year_save"
    year: int
    complaints_received: int
    complaints_sustained: int
    total_cost_cents: int
