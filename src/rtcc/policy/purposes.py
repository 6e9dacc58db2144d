"""The managed list of purposes: the standard categories shipped in purposes.toml, plus the agency's own.

The standard ones are read from the file (never stored, so a newer file is in force at once); the agency's own are
rows of policy_purposes. A purpose is named by its code in searches, exports, shares and decisions; every plate
search (and crop fetched as one), evidence export and field share must name one (require_category), so each look is
counted by purpose and a prohibited purpose can be refused by policy.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.core.errors import InvalidInput
from rtcc.policy.models import Purpose

STANDARD_FILE = Path(__file__).parent / "purposes.toml"
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")
LIST_WHERE = "GET /api/v1/policy/purposes"  # where an error tells a person to find the list


@dataclass(frozen=True)
class PurposeCategory:
    code: str
    title: str
    kind: str  # standard | agency


@cache
def standard_purposes() -> dict[str, PurposeCategory]:
    with STANDARD_FILE.open("rb") as handle:
        entries = tomllib.load(handle)["purpose"]
    return {entry["code"]: PurposeCategory(entry["code"], entry["title"], "standard") for entry in entries}


def all_purposes(session: Session) -> list[PurposeCategory]:
    own = [PurposeCategory(row.code, row.title, "agency")
           for row in session.execute(select(Purpose).order_by(Purpose.code)).scalars()]
    return [*standard_purposes().values(), *own]


def find_purpose(session: Session, code: str) -> PurposeCategory | None:
    standard = standard_purposes().get(code)
    if standard is not None:
        return standard
    row = session.get(Purpose, code)
    return PurposeCategory(row.code, row.title, "agency") if row else None


def require_category(session: Session, code: str | None) -> PurposeCategory:
    """The category a search, export or share is made for: required, and on the managed list."""
    if not (code or "").strip():
        raise InvalidInput(f"Choose a purpose category from the managed list ({LIST_WHERE}).",
                           code="purpose_category_required")
    return require_purpose(session, code)


def require_purpose(session: Session, code: str) -> PurposeCategory:
    """The category of this code; InvalidInput naming the list when it is not on it."""
    found = find_purpose(session, code.strip().upper())
    if found is None:
        raise InvalidInput(f"Purpose category {code!r} is not on the managed list ({LIST_WHERE}).",
                           code="unknown_purpose_category")
    return found
