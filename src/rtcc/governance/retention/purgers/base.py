"""What every purger shares: the policy as the engine applies it, the Purger protocol and its registry, files
removed quietly, and the case-closed clock."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from rtcc.core.runtime import Runtime
from rtcc.governance.retention.holds import HoldSet, Item

log = logging.getLogger(__name__)
CASE_OPEN = "case open"  # why an item under clock case_closed is kept: its case is open, or was never closed


@dataclass(frozen=True)
class PolicyInForce:
    """A class's policy as the engine applies it (version 0: no policy set, the settings' default)."""

    data_class: str
    version: int
    keep_for: timedelta
    keep_for_text: str
    clock: str
    action: str
    source: str
    citation: str = ""
    fields: dict = field(default_factory=dict)


class Purger(Protocol):
    data_class: str

    def items(self, session: Session, *, runtime: Runtime, policy: PolicyInForce, now: datetime,
              holds: HoldSet) -> Iterable[Item]:
        """What is past its clock, held or not (the engine skips the held)."""

    def remove(self, session: Session, *, runtime: Runtime, policy: PolicyInForce, items: list[Item]) -> None:
        """Delete (or reduce) these items, in the caller's transaction."""


PURGERS: dict[str, Purger] = {}


def register(purger: Purger) -> Purger:
    PURGERS[purger.data_class] = purger
    return purger


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:  # the row goes; the orphan file is logged for the operator
        log.error("could not delete %s: %s", path, error)


def case_clock(item: Item, closed: dict[str, datetime], *, policy: PolicyInForce, now: datetime,
               not_before: datetime | None = None) -> Item | None:
    """Clock case_closed: an item of an open (or unregistered) case is kept, and said so; one of a closed case
    goes keep-for after the close (or after not_before, as a link's end, when that is later); None: not yet."""
    closed_at = closed.get(item.case_number)
    if closed_at is None:
        return replace(item, kept_because=CASE_OPEN)
    started = max(closed_at, not_before) if not_before is not None else closed_at
    return item if started + policy.keep_for <= now else None


def upload_exists(session: Session, upload_id: str | None) -> bool:
    """Whether a community upload exists: none can until the community capability registers its purger."""
    purger = PURGERS.get("community_footage")
    check = getattr(purger, "exists", None)
    return bool(check and upload_id and check(session, upload_id))
