"""Read messages from devices, in our schema, OpenALPR's alpr_group or Frigate's plate events, mapped to ReadIn."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rtcc.alpr.reads import ReadIn

COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


class MalformedRead(ValueError):
    """A message that cannot be a read; its text says why."""


def _time(value: Any, *, unit: str) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000 if unit == "ms" else value, tz=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise MalformedRead(f"time {value!r} is not ISO 8601")
        if parsed.tzinfo is None:
            raise MalformedRead("time has no time zone")
        return parsed
    raise MalformedRead("time is missing")


def _number(value: Any, name: str, default: float | None = None) -> float | None:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MalformedRead(f"{name} is not a number")


def compass(degrees: float | None) -> str | None:
    return None if degrees is None else COMPASS[int(((degrees % 360) + 22.5) // 45) % 8]


def from_ours(item: dict[str, Any]) -> ReadIn:
    """{"plate", "read_at", "confidence", "camera_id" or "device_id", "region", "latitude", "longitude", "direction", "read_id"}."""
    if not isinstance(item, dict) or not isinstance(item.get("plate"), str):
        raise MalformedRead("plate is missing")
    camera_id = item.get("camera_id")
    if camera_id is not None and not isinstance(camera_id, int):
        raise MalformedRead("camera_id must be an integer")
    return ReadIn(
        plate=item["plate"], read_at=_time(item.get("read_at"), unit="s"), confidence=_number(item.get("confidence"), "confidence", 1.0),
        region=item.get("region"), camera_id=camera_id, device_id=item.get("device_id"),
        latitude=_number(item.get("latitude"), "latitude"), longitude=_number(item.get("longitude"), "longitude"),
        direction=item.get("direction"), source_read_id=str(item["read_id"]) if item.get("read_id") else None,
    )


def from_openalpr(group: dict[str, Any]) -> ReadIn:
    """OpenALPR agent's alpr_group (best plate of a vehicle pass); confidence in percent, epoch in ms."""
    if not isinstance(group, dict) or group.get("data_type") != "alpr_group":
        raise MalformedRead("not an alpr_group message")
    plate = group.get("best_plate_number") or (group.get("best_plate") or {}).get("plate")
    if not isinstance(plate, str):
        raise MalformedRead("best_plate_number is missing")
    region = group.get("best_region")
    return ReadIn(
        plate=plate, read_at=_time(group.get("epoch_start"), unit="ms"),
        confidence=min(1.0, (_number(group.get("best_confidence"), "best_confidence", 100.0) or 0) / 100),
        region=f"us-{region}" if isinstance(region, str) and len(region) == 2 else region,
        device_id=f"openalpr:{group.get('agent_uid', '?')}:{group.get('camera_id', '?')}",
        latitude=_number(group.get("gps_latitude"), "gps_latitude"), longitude=_number(group.get("gps_longitude"), "gps_longitude"),
        direction=compass(_number(group.get("travel_direction"), "travel_direction")),
        source_read_id=str(group.get("best_uuid") or (group.get("uuids") or [None])[0] or "") or None,
    )


def from_frigate(event: dict[str, Any]) -> ReadIn:
    """Frigate's event message ({"type", "before", "after"}) once it carries a recognized plate."""
    after = event.get("after") if isinstance(event, dict) else None
    if not isinstance(after, dict):
        raise MalformedRead("not a Frigate event (no 'after')")
    plate = after.get("recognized_license_plate")
    if not isinstance(plate, str) or not plate:
        raise MalformedRead("the event carries no recognized plate yet")
    return ReadIn(
        plate=plate, read_at=_time(after.get("start_time"), unit="s"),
        confidence=_number(after.get("recognized_license_plate_score"), "recognized_license_plate_score", 1.0),
        device_id=f"frigate:{after.get('camera', '?')}", source_read_id=str(after.get("id") or "") or None,
    )


PARSERS = {"rtcc": from_ours, "openalpr": from_openalpr, "frigate": from_frigate}


def parse_batch(document: Any, format: str) -> tuple[list[ReadIn], list[dict[str, Any]]]:
    """Reads and per-item rejections from a message or a batch (a list, or {"reads": [...]})."""
    parse = PARSERS.get(format)
    if parse is None:
        raise MalformedRead(f"unknown format {format!r}; formats are {', '.join(PARSERS)}")
    items = document.get("reads") if isinstance(document, dict) and "reads" in document else document
    items = items if isinstance(items, list) else [items]
    reads, rejected = [], []
    for index, item in enumerate(items):
        try:
            read = parse(item)
            read.position = index
            reads.append(read)
        except MalformedRead as error:
            rejected.append({"index": index, "message": str(error)})
    return reads, rejected
