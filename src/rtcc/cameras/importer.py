"""Bulk camera import from CSV or GeoJSON: every good line lands, every bad line is reported."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth.service import get_agency
from rtcc.cameras import service
from rtcc.cameras.events import CamerasImported
from rtcc.cameras.models import Camera
from rtcc.cameras.schemas import CameraFields
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, RTCCError
from rtcc.core.http import load_json
from rtcc.core.runtime import Runtime

CSV_COLUMNS = tuple(CameraFields.model_fields)
LIST_SEPARATOR = ";"


@dataclass
class ImportReport:
    """What an import did, line by line where something went wrong."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _csv_rows(text: str, max_json_depth: int):
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InvalidInput("The CSV file is empty.", code="invalid_import")
    unknown = [name for name in reader.fieldnames if name and name.strip() not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(f"Unknown CSV columns: {', '.join(unknown)}. Known: {', '.join(CSV_COLUMNS)}.", code="invalid_import")
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than header columns
            yield line, None, "more cells than the header has columns"
            continue
        values = {key.strip(): (value.strip() if isinstance(value, str) else value) for key, value in row.items() if key}
        values = {key: value for key, value in values.items() if value not in ("", None)}
        for list_field in ("groups",):
            if list_field in values:
                values[list_field] = [part.strip() for part in values[list_field].split(LIST_SEPARATOR) if part.strip()]
        if "privacy_masks" in values:
            try:
                values["privacy_masks"] = load_json(values["privacy_masks"], max_depth=max_json_depth)
            except json.JSONDecodeError:
                yield line, None, "privacy_masks is not JSON"
                continue
            except InvalidInput as error:  # nested too deep, or a number no column holds
                yield line, None, f"privacy_masks: {error.message}"
                continue
        yield line, values, None


def _geojson_rows(text: str, max_depth: int):
    try:
        document = load_json(text, max_depth=max_depth)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"Not JSON: {error.msg} at line {error.lineno}.", code="invalid_import")
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise InvalidInput("Expected a GeoJSON FeatureCollection with a 'features' list.", code="invalid_import")
    for index, feature in enumerate(features, start=1):
        geometry = (feature or {}).get("geometry") or {}
        coordinates = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coordinates, list) or len(coordinates) < 2:
            yield index, None, "geometry must be a Point [longitude, latitude]"
            continue
        properties = dict(feature.get("properties") or {})
        properties["longitude"], properties["latitude"] = coordinates[0], coordinates[1]
        yield index, properties, None


def import_cameras(session: Session, *, runtime: Runtime, actor: Actor, agency_ori: str | None, text: str,
                   format: str, max_rows: int) -> ImportReport:
    """Upsert cameras by external_id; a bad line is reported and never blocks the good ones."""
    agency = get_agency(session, ori=agency_ori or actor.agency_ori or "")
    service.require_manageable(actor, agency)
    label = "line" if format == "csv" else "feature"
    report = ImportReport()
    accepted = _checked_rows(_csv_rows(text, runtime.settings.max_json_depth) if format == "csv" else _geojson_rows(text, runtime.settings.max_json_depth), label, max_rows, report)
    existing = service.cameras_by_external_id(
        session, agency_id=agency.id, external_ids=[values["external_id"] for _, values in accepted if values.get("external_id")])
    pending: list[tuple[int, Camera]] = []
    for position, values in accepted:
        try:
            camera = existing.get(values.get("external_id"))
            if camera is None:
                camera = service.new_camera(runtime=runtime, agency_id=agency.id, values=values)
                pending.append((position, camera))
                if camera.external_id:
                    existing[camera.external_id] = camera
                report.created += 1
            elif service.apply_changes(camera, runtime=runtime, values=values):
                report.updated += 1
            else:
                report.unchanged += 1
        except RTCCError as error:
            named = {"field": error.field} if getattr(error, "field", None) else {}  # a refused stream URL names its field
            report.errors.append({label: position, **named, "message": error.message})
    _insert(session, pending, report, label)
    report.errors.sort(key=lambda error: error[label])
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=CamerasImported(agency_ori=agency.ori, created=report.created, updated=report.updated),
                 object_type="agency", object_id=agency.ori,
                 details={"format": format, "created": report.created, "updated": report.updated,
                          "unchanged": report.unchanged, "rejected": len(report.errors)})
    return report


def _checked_rows(rows, label: str, max_rows: int, report: ImportReport) -> list[tuple[int, dict[str, Any]]]:
    """Lines that pass validation; the others go into the report with their line and field."""
    accepted: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for count, (position, values, problem) in enumerate(rows, start=1):
        if count > max_rows:
            report.errors.append({label: position, "message": f"more than {max_rows} rows: the rest was not read"})
            break
        if problem:
            report.errors.append({label: position, "message": problem})
            continue
        try:
            checked = CameraFields.model_validate(values).model_dump(exclude_unset=True)
        except ValidationError as error:
            first = error.errors()[0]
            report.errors.append({label: position, "field": ".".join(str(p) for p in first["loc"]), "message": first["msg"]})
            continue
        external_id = checked.get("external_id")
        if external_id in seen:
            report.errors.append({label: position, "message": f"external_id {external_id} repeats {label} {seen[external_id]}"})
            continue
        if external_id:
            seen[external_id] = position
        accepted.append((position, checked))
    return accepted


def _insert(session: Session, pending: list[tuple[int, Camera]], report: ImportReport, label: str, chunk: int = 1000) -> None:
    """Insert new cameras in chunks; should a chunk fail, retry it line by line to name the culprit."""
    for start in range(0, len(pending), chunk):
        batch = pending[start:start + chunk]
        try:
            with session.begin_nested():
                session.add_all(camera for _, camera in batch)
                session.flush()
        except SQLAlchemyError:
            for position, camera in batch:
                try:
                    with session.begin_nested():
                        session.add(camera)
                        session.flush()
                except SQLAlchemyError as error:
                    report.created -= 1
                    report.errors.append({label: position, "message": f"not stored: {type(error.orig).__name__}"})
