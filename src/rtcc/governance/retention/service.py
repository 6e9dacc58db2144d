"""Retention's front door: policies in force (versioned, audited), presets loaded, legal holds, receipts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound
from rtcc.core.runtime import Runtime
from rtcc.governance.retention import holds as hold_rules
from rtcc.governance.retention import presets
from rtcc.governance.retention.data_classes import CLASSES, data_class
from rtcc.governance.retention.events import LegalHoldPlaced, LegalHoldReleased, RetentionPolicyChanged
from rtcc.governance.retention.models import DeletionReceipt, LegalHold, RetentionPolicy
from rtcc.governance.retention.purgers import PolicyInForce

REASON_MIN = 5
DEFAULT_REVIEW = timedelta(days=90)  # a hold with no review date given is due for review in 90 days


def _setting_default(runtime: Runtime | None, name: str) -> tuple[timedelta, str] | None:
    """The flat RTCC_* settings of before governance are the defaults of the classes they governed."""
    if runtime is None:
        return None
    settings = runtime.settings
    if name == "plate_reads":
        return timedelta(days=settings.read_retention_days), f"{settings.read_retention_days}d"
    if name in ("continuous_video", "event_clips"):
        return timedelta(days=settings.retention_days), f"{settings.retention_days}d"
    return None


def policy_in_force(session: Session, name: str, *, runtime: Runtime | None = None) -> PolicyInForce:
    """The newest version of a class's policy; without one, the class default (from settings where one applies)."""
    known = data_class(name)
    row = session.execute(select(RetentionPolicy).where(RetentionPolicy.data_class == name)
                          .order_by(RetentionPolicy.version.desc()).limit(1)).scalar_one_or_none()
    if row is not None:
        return PolicyInForce(name, row.version, timedelta(seconds=row.keep_for_seconds), row.keep_for, row.clock,
                             row.action, row.source, row.citation, dict(row.fields or {}))
    from_settings = _setting_default(runtime, name)
    keep_for, text = from_settings or (known.default_keep_for, f"{known.default_keep_for.days}d")
    return PolicyInForce(name, 0, keep_for, text, known.default_clock, known.actions[0],
                         "settings" if from_settings else "default", known.floor_source)


def policies_in_force(session: Session, *, runtime: Runtime | None = None) -> list[PolicyInForce]:
    """Every class's policy in force, in the order of the classes."""
    return [policy_in_force(session, name, runtime=runtime) for name in CLASSES]


def policy_history(session: Session, name: str) -> list[RetentionPolicy]:
    data_class(name)
    return list(session.execute(select(RetentionPolicy).where(RetentionPolicy.data_class == name)
                                .order_by(RetentionPolicy.version.desc())).scalars())


def _add_version(session: Session, *, runtime: Runtime, actor: Actor, checked: presets.PresetPolicy, source: str,
                 citation: str, fields: dict, note: str) -> RetentionPolicy:
    latest = session.execute(select(func.max(RetentionPolicy.version)).where(
        RetentionPolicy.data_class == checked.data_class)).scalar() or 0
    row = RetentionPolicy(data_class=checked.data_class, version=latest + 1,
                          keep_for_seconds=int(checked.keep_for_delta.total_seconds()), keep_for=checked.keep_for,
                          clock=checked.clock, action=checked.action, source=source, citation=citation, fields=fields,
                          note=note, created_by=actor.username, created_at=clock.utcnow())
    session.add(row)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, object_type="retention_policy", object_id=row.id,
                 event=RetentionPolicyChanged(data_class=row.data_class, version=row.version, keep_for=row.keep_for,
                                              clock=row.clock, action=row.action, source=source),
                 details={"data_class": row.data_class, "version": row.version, "keep_for": row.keep_for,
                          "clock": row.clock, "action": row.action, "source": source, "note": note})
    return row


def set_policy(session: Session, *, runtime: Runtime, actor: Actor, data_class_name: str, keep_for: str,
               clock_name: str | None = None, action: str | None = None, note: str = "") -> RetentionPolicy:
    """An admin's edit: a new version of the class's policy (refused below the class's legal floor)."""
    checked = presets.check_policy(data_class_name, keep_for, clock_name, action, where="policy")
    current = policy_in_force(session, data_class_name, runtime=runtime)
    return _add_version(session, runtime=runtime, actor=actor, checked=checked, source="admin",
                        citation=current.citation if current.version else "", fields=current.fields, note=note)


def load_presets(session: Session, *, runtime: Runtime, actor: Actor, names: list[str],
                 agency_values: dict[str, str] | None = None, files: list[Path] | None = None) -> list[RetentionPolicy]:
    """Load presets, shipped ones by name and (from the command line only) a jurisdiction's own files, checked
    whole and against each other first: one new version per class they set."""
    if not names and not files:
        raise InvalidInput("Name at least one preset.", code="preset_required")
    agency_values = agency_values or {}
    paths = [presets.preset_path(name) for name in dict.fromkeys(names)] + list(files or [])
    loaded = [presets.parse_preset(path, agency_values=agency_values) for path in paths]
    leftover = set(agency_values) - {p.data_class for preset in loaded for p in preset.policies}
    if leftover:
        raise presets.PresetError(f"values given for classes no named preset sets: {', '.join(sorted(leftover))}.")
    return [_add_version(session, runtime=runtime, actor=actor, checked=policy, source=f"preset:{preset.name}",
                         citation=policy.citation, fields=preset.fields, note=preset.title)
            for preset, policy in presets.combine(loaded)]


# Legal holds


def _need_reason(reason: str | None, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise InvalidInput(f"Say why the hold is {what} (at least a few words).", code="reason_required")
    return reason


def place_hold(session: Session, *, runtime: Runtime, actor: Actor, kind: str, reason: str,
               review_at: datetime | None = None, case_number: str | None = None, incident_id: int | None = None,
               camera_id: int | None = None, starts_at: datetime | None = None, ends_at: datetime | None = None,
               plate: str | None = None, upload_id: str | None = None) -> LegalHold:
    """A supervisor's hold on a case, an incident, a camera and window, a plate or a community upload."""
    reason = _need_reason(reason, "placed")
    now = clock.utcnow()
    if kind not in hold_rules.KINDS:
        raise InvalidInput(f"A hold is on one of: {', '.join(hold_rules.KINDS)}.", code="bad_hold_kind")
    needed = {hold_rules.CASE: case_number, hold_rules.INCIDENT: incident_id, hold_rules.PLATE: plate,
              hold_rules.COMMUNITY_UPLOAD: upload_id, hold_rules.CAMERA: starts_at and ends_at}
    if not needed[kind]:
        field = {"case": "case_number", "incident": "incident_id", "plate": "plate", "community_upload": "upload_id",
                 "camera": "starts_at and ends_at"}[kind]
        raise InvalidInput(f"A {kind} hold needs {field}.", code="hold_target_required")
    if kind == hold_rules.CAMERA and ends_at <= starts_at:
        raise InvalidInput("The window must end after it starts.", code="bad_window")
    if review_at is not None and review_at <= now:
        raise InvalidInput("The review date must be in the future.", code="bad_review_date")
    if plate is not None:
        plate = "".join(ch for ch in plate.upper() if ch.isalnum())
    hold = LegalHold(kind=kind, reason=reason, review_at=review_at or now + DEFAULT_REVIEW,
                     created_by=actor.username, agency_ori=actor.agency_ori, created_at=now, case_number=case_number if kind == hold_rules.CASE else None,
                     incident_id=incident_id if kind == hold_rules.INCIDENT else None,
                     camera_id=camera_id if kind == hold_rules.CAMERA else None,
                     starts_at=starts_at if kind == hold_rules.CAMERA else None,
                     ends_at=ends_at if kind == hold_rules.CAMERA else None,
                     plate=plate if kind == hold_rules.PLATE else None,
                     upload_id=upload_id if kind == hold_rules.COMMUNITY_UPLOAD else None)
    hold_rules.check_target_exists(session, hold)
    session.add(hold)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, object_type="legal_hold", object_id=hold.id,
                 case_number=hold.case_number, event=LegalHoldPlaced(hold_id=hold.id, kind=kind, review_at=clock.iso(hold.review_at)),
                 details={"kind": kind, "reason": reason, "target": describe_target(hold),
                          "review_at": clock.iso(hold.review_at)})
    return hold


def release_hold(session: Session, *, runtime: Runtime, actor: Actor, hold_id: int, reason: str) -> LegalHold:
    reason = _need_reason(reason, "released")
    hold = session.get(LegalHold, hold_id)
    if hold is None or not scope.sees_agency(actor, hold.agency_ori, kind=scope.RECORDS):
        raise NotFound(f"No legal hold {hold_id}.", code="hold_not_found")
    if hold.released_at is not None:
        raise Conflict(f"Hold {hold_id} was already released.", code="hold_released")
    hold.released_at, hold.released_by, hold.release_reason = clock.utcnow(), actor.username, reason
    audit.record(session, keys=runtime.keys, actor=actor, object_type="legal_hold", object_id=hold.id,
                 case_number=hold.case_number, event=LegalHoldReleased(hold_id=hold.id, kind=hold.kind),
                 details={"reason": reason, "target": describe_target(hold)})
    return hold


def describe_target(hold: LegalHold) -> str:
    if hold.kind == hold_rules.CASE:
        return f"case {hold.case_number}"
    if hold.kind == hold_rules.INCIDENT:
        return f"incident {hold.incident_id}"
    if hold.kind == hold_rules.PLATE:
        return f"plate {hold.plate}"
    if hold.kind == hold_rules.COMMUNITY_UPLOAD:
        return f"community upload {hold.upload_id}"
    camera = f"camera {hold.camera_id}" if hold.camera_id is not None else "every camera"
    return f"{camera} {clock.iso(hold.starts_at)} to {clock.iso(hold.ends_at)}"


def is_overdue(hold: LegalHold, now: datetime | None = None) -> bool:
    """An open hold past its review date shows as overdue until reviewed (released, or placed again)."""
    now = now or clock.utcnow()
    return hold.released_at is None and hold.review_at is not None and hold.review_at <= now


def open_holds(session: Session) -> list[LegalHold]:
    return hold_rules.open_holds(session)


def list_holds(session: Session, *, runtime: Runtime, actor: Actor, include_released: bool = False) -> list[LegalHold]:
    """The holds of the agencies the actor sees, audited: a hold names plates and cases, an investigation's own."""
    statement = select(LegalHold).order_by(LegalHold.id.desc())
    visible = scope.agencies_visible_to(actor, kind=scope.RECORDS)
    if visible is not None:
        statement = statement.where(or_(LegalHold.agency_ori.in_(visible), LegalHold.agency_ori.is_(None)))
    if not include_released:
        statement = statement.where(LegalHold.released_at.is_(None))
    holds = list(session.execute(statement).scalars())
    audit.record(session, keys=runtime.keys, actor=actor, action="retention.hold_list", object_type="legal_hold",
                 details={"count": len(holds), "include_released": include_released})
    return holds


# Receipts


def list_receipts(session: Session, *, data_class_name: str | None = None, limit: int = 100) -> list[DeletionReceipt]:
    statement = select(DeletionReceipt).order_by(DeletionReceipt.created_at.desc(), DeletionReceipt.id.desc()).limit(limit)
    if data_class_name:
        statement = statement.where(DeletionReceipt.data_class == data_class(data_class_name).name)
    return list(session.execute(statement).scalars())


def last_receipt_per_class(session: Session) -> dict[str, DeletionReceipt]:
    """Each class's newest finished receipt (classes never purged are absent)."""
    newest = select(DeletionReceipt.data_class, func.max(DeletionReceipt.id).label("id")).where(
        DeletionReceipt.data_class.is_not(None), DeletionReceipt.status == "done").group_by(DeletionReceipt.data_class).subquery()
    rows = session.execute(select(DeletionReceipt).join(newest, DeletionReceipt.id == newest.c.id)).scalars()
    return {row.data_class: row for row in rows}
