"""The accounts' periodic job: disable expired temporary accounts and long-idle ones."""

from __future__ import annotations

import logging

from rtcc.auth import service as accounts
from rtcc.core.jobs import Job, JobContext

log = logging.getLogger(__name__)


def declare_jobs(context: JobContext) -> list[Job]:
    """The account lifecycle sweep, at start and every account_sweep_minutes."""
    runtime = context.runtime

    def sweep_accounts() -> str:
        with runtime.database.session() as db:
            disabled = accounts.sweep_account_lifecycle(db, runtime=runtime)
        for username, reason in disabled:
            log.info("disabled account %s: %s", username, reason)
        return f"disabled {len(disabled)} accounts"

    return [Job(domain="auth", name="account_sweep", interval_seconds=runtime.settings.account_sweep_minutes * 60,
                run=sweep_accounts, description="Disable expired temporary accounts and accounts idle too long.")]
