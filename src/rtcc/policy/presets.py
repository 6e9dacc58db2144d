"""Policy files: TOML documents of rules, parsed and checked before anything is stored.

A file names the policy, its jurisdiction (a state's USPS code, or "city") and its legal source, and lists rules.
Each rule has a kind the engine knows (engine.py evaluates them in a fixed order):

- `prohibit_purposes`: the purposes listed are refused (for the data classes listed; every class if none), for
  every recipient or only for recipients of the agency kinds listed, the centre's own use included;
- `recipient_must_be`: data of these classes leaves only for agencies of these states and kinds;
- `declaration_required`: a recipient outside these states needs an agreement with a signed declaration.

The shipped presets live in presets/*.toml, each citing its source.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rtcc.core.errors import InvalidInput, NotFound
from rtcc.policy.models import AGENCY_KINDS, DATA_CLASSES

PRESETS_DIR = Path(__file__).parent / "presets"
RULE_KINDS = ("prohibit_purposes", "recipient_must_be", "declaration_required")
STATE_CODE = r"^[A-Z]{2}$"

DataClass = Literal[DATA_CLASSES]  # type: ignore[valid-type]
AgencyKind = Literal[AGENCY_KINDS]  # type: ignore[valid-type]


class RuleSpec(BaseModel):
    """One rule as a policy file states it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")
    kind: Literal[RULE_KINDS]  # type: ignore[valid-type]
    reason: str = Field(min_length=5, max_length=500)
    data_classes: list[DataClass] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    agency_kinds: list[AgencyKind] = Field(default_factory=list)
    states: list[str] = Field(default_factory=list)
    outside_states: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> RuleSpec:
        for state in [*self.states, *self.outside_states]:
            if len(state) != 2 or not state.isalpha() or not state.isupper():
                raise ValueError(f"rule {self.name}: {state!r} is not a state's two-letter code")
        needs = {"prohibit_purposes": ("purposes",), "recipient_must_be": ("states", "agency_kinds"),
                 "declaration_required": ("outside_states",)}[self.kind]
        if not any(getattr(self, field) for field in needs):
            raise ValueError(f"rule {self.name}: a {self.kind} rule needs {' or '.join(needs)}")
        return self

    def covers(self, data_class: str) -> bool:
        return not self.data_classes or data_class in self.data_classes


class PolicySpec(BaseModel):
    """A whole policy file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")
    title: str = Field(min_length=5, max_length=300)
    jurisdiction: str = Field(pattern=r"^([A-Z]{2}|city)$")
    source: str = Field(min_length=5, max_length=2000)
    rules: list[RuleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_rules(self) -> PolicySpec:
        names = [rule.name for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique within a policy: {', '.join(repeated)} repeated")
        return self


def parse_policy(text: str, *, origin: str = "policy file") -> tuple[PolicySpec, str]:
    """The checked policy of a TOML text and the text's SHA-256; InvalidInput saying what is wrong and where."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"{origin} is not valid TOML: {error}", code="invalid_policy_file")
    try:
        spec = PolicySpec.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc']) or 'file'}: {item['msg']}"
                             for item in error.errors())
        raise InvalidInput(f"{origin} is not a valid policy: {problems}", code="invalid_policy_file")
    return spec, hashlib.sha256(text.encode()).hexdigest()


def shipped_presets() -> dict[str, Path]:
    """The presets shipped with the code, by file stem (ca-sb34, illinois, no-federal-immigration)."""
    return {path.stem: path for path in sorted(PRESETS_DIR.glob("*.toml"))}


def preset_text(name: str) -> str:
    path = shipped_presets().get(name)
    if path is None:
        raise NotFound(f"No preset {name!r}; shipped: {', '.join(shipped_presets())}.", code="preset_not_found")
    return path.read_text(encoding="utf-8")


def contradictions(new: PolicySpec, in_force: list[PolicySpec]) -> list[str]:
    """Why the new policy cannot stand beside those in force (empty when it can): overlap or contradiction."""
    problems = []
    for other in in_force:
        if other.name == new.name:
            problems.append(f"policy {new.name} is already in force")
            continue
        if len(new.jurisdiction) == 2 and len(other.jurisdiction) == 2 and new.jurisdiction != other.jurisdiction:
            problems.append(f"{new.name} is {new.jurisdiction} law and {other.name} is {other.jurisdiction} law: "
                            "a centre answers to one state")
        taken = {rule.name for rule in other.rules}
        for rule in new.rules:
            if rule.name in taken:
                problems.append(f"rule {rule.name} is already in force in policy {other.name}")
    every = [rule for policy in [*in_force, new] for rule in policy.rules]
    limits = [rule for rule in every if rule.kind == "recipient_must_be"]
    for index, first in enumerate(limits):
        for second in limits[index + 1:]:
            shared = set(first.data_classes or DATA_CLASSES) & set(second.data_classes or DATA_CLASSES)
            if not shared:
                continue
            states_clash = first.states and second.states and not set(first.states) & set(second.states)
            kinds_clash = first.agency_kinds and second.agency_kinds and not set(first.agency_kinds) & set(second.agency_kinds)
            if states_clash or kinds_clash:
                problems.append(f"rules {first.name} and {second.name} together let {', '.join(sorted(shared))} go to "
                                "no agency at all")
    return problems
