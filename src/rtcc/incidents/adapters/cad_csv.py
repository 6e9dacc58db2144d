"""CAD export CSV, read: which columns mean what, and each row as the values of a call (or why not).

Header names are matched through COLUMN_ALIASES; columns we do not model are kept in `extra`.
Importing the rows (and the folder watch) is in cad_folder.py.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Iterator

from pydantic import ValidationError

from rtcc.incidents import calls
from rtcc.incidents.schemas import CallIn

# Our column names and the names CAD exports commonly use for them (compared lower-case, with
# spaces, dashes and dots as underscores). Any other column is kept in the call's `extra`.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "call_id": ("call_id", "callid", "call_number", "call_no", "call_num", "incident_number", "incident_no",
                "incident_num", "incident_id", "event_number", "event_no", "event_id", "cad_number", "cad_no",
                "cad_id", "cad_incident_number", "master_incident_number"),
    "type": ("type", "call_type", "calltype", "nature", "nature_of_call", "call_nature", "incident_type", "event_type",
             "problem", "problem_type", "final_call_type", "initial_call_type"),
    "priority": ("priority", "pri", "call_priority", "priority_level", "priority_code"),
    "address": ("address", "location", "street_address", "incident_address", "addr", "full_address", "block_address"),
    "latitude": ("latitude", "lat", "geo_lat", "y_lat"),
    "longitude": ("longitude", "lon", "lng", "long", "geo_lon", "geo_lng", "x_lon"),
    "received_at": ("received_at", "received", "time_received", "received_time", "call_received", "call_received_time",
                    "datetime", "date_time", "call_time", "call_datetime", "call_date_time", "reported_at",
                    "create_time", "created_at", "timestamp", "time"),
    "narrative": ("narrative", "comments", "comment", "remarks", "notes", "description", "details"),
    "units": ("units", "unit", "assigned_units", "units_assigned", "responding_units", "unit_ids"),
    "status": ("status", "call_status", "incident_status", "event_status"),
}
REQUIRED_COLUMNS = ("call_id", "type", "priority", "latitude", "longitude", "received_at")
_CANONICAL = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
_TIME_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
                 "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M", "%Y%m%d%H%M%S")
_PRIORITY = re.compile(r"^(?:p(?:ri(?:ority)?)?[\s-]*)?(\d+)(?:\.0+)?$", re.IGNORECASE)
_UNIT_SEPARATORS = re.compile(r"[;|,]")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


class NotCadCsv(Exception):
    """The whole file is not a CAD CSV export (binary, empty, too large, or no call columns)."""


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def parse_time(text: str, zone: tzinfo) -> datetime:
    """ISO 8601, or the US forms CAD exports use; a time without an offset is in `zone`."""
    text = text.strip()
    if not text:
        raise ValueError("missing received_at")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for form in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, form)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"received_at {text!r} is not a time (ISO 8601, or MM/DD/YYYY HH:MM[:SS])") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _priority(text: str) -> int:
    match = _PRIORITY.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= 5:
        raise ValueError(f"priority {text.strip()!r} is not a number from 1 to 5" if text.strip() else "missing priority")
    return int(match.group(1))


def _coordinate(text: str, name: str, limit: float) -> float:
    if not text.strip():
        raise ValueError(f"missing {name}")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{name} {text.strip()} is out of range (-{limit:g} to {limit:g})")
    return value


@dataclass
class ParsedRow:
    line: int
    call_id: str | None
    values: dict[str, Any] | None = None
    reason: str | None = None


def _row_values(fields: dict[str, str], extra: dict[str, str], zone: tzinfo) -> dict[str, Any]:
    """The call receive_call takes, from one row's mapped columns; ValueError names what is wrong."""
    call_id = fields.get("call_id", "").strip()
    if not call_id:
        raise ValueError("missing call_id")
    if not fields.get("type", "").strip():
        raise ValueError("missing type")
    latitude = _coordinate(fields.get("latitude", ""), "latitude", 90)
    longitude = _coordinate(fields.get("longitude", ""), "longitude", 180)
    if latitude == 0 and longitude == 0:
        raise ValueError("no location (0, 0): the call was not geocoded")
    units = [unit.strip() for unit in _UNIT_SEPARATORS.split(fields.get("units", "")) if unit.strip()]
    body = {
        "call_id": call_id, "type": fields["type"], "priority": _priority(fields.get("priority", "")),
        "address": fields.get("address", "").strip() or None, "latitude": latitude, "longitude": longitude,
        "received_at": parse_time(fields.get("received_at", ""), zone),
        "narrative": fields.get("narrative", "").strip() or None, "units": units,
        "status": fields.get("status", "").strip() or "open",
    }
    try:
        call = CallIn.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None
    values = calls.call_values(call)
    values["extra"] = extra
    return values


def parse_rows(data: bytes, *, time_zone: tzinfo) -> Iterator[ParsedRow]:
    """Each data row of a CAD CSV, parsed or with the reason it cannot be; NotCadCsv for the whole file."""
    if not data.strip():
        raise NotCadCsv("empty file")
    if b"\x00" in data[:65536]:
        raise NotCadCsv("binary file (NUL bytes), not a CSV export")
    # Bytes that are not UTF-8 survive decoding as surrogates so only their rows are refused.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(text.splitlines(keepends=True), delimiter=_delimiter(first_line))
    header: list[str] | None = None
    columns: list[str | None] = []  # canonical name per column, or None: kept in extra
    last_line = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if header is None:
                raise NotCadCsv(f"not CSV: {error}") from None
            yield ParsedRow(line=last_line + 1, call_id=None, reason=f"not CSV: {error}")
            last_line = reader.line_num
            continue
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [_NOT_UTF8.sub("\ufffd", cell.strip().lstrip("\ufeff")) for cell in row]
            seen: set[str] = set()
            for name in header:
                canonical = _CANONICAL.get(_header_key(name))
                columns.append(canonical if canonical and canonical not in seen else None)
                seen.add(canonical or "")
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if "call_id" in missing:
                raise NotCadCsv(f"no call id column (such as call_id or incident_number); header: {', '.join(header)[:300]}")
            if missing:
                raise NotCadCsv(f"missing columns: {', '.join(missing)}")
            continue
        fields: dict[str, str] = {}
        extra: dict[str, str] = {}
        for index, cell in enumerate(row):
            name = columns[index] if index < len(columns) else None
            if name:
                fields[name] = cell
            else:
                extra[header[index] if index < len(header) else f"column_{index + 1}"] = cell
        call_id = fields.get("call_id", "").strip() or None
        if len(row) > len(header):
            yield ParsedRow(line=line, call_id=call_id, reason=f"{len(row)} fields, but the header names {len(header)}")
            continue
        if _NOT_UTF8.search("".join(row)):
            yield ParsedRow(line=line, call_id=call_id if call_id and not _NOT_UTF8.search(call_id) else None,
                            reason="not UTF-8 text (encoding error)")
            continue
        try:
            yield ParsedRow(line=line, call_id=call_id, values=_row_values(fields, extra, time_zone))
        except ValueError as error:
            yield ParsedRow(line=line, call_id=call_id, reason=str(error))
    if header is None:
        raise NotCadCsv("no header row")
