"""Search, export and verify the audit trail; each of these is itself audited."""


import csv
import io
import json
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from rtcc.audit import service
from rtcc.audit.checkpoints import CheckpointLog
from rtcc.audit.schemas import AuditPage, AuditRecordOut, CheckpointOut, VerifyOut
from rtcc.audit.signing import signer_for
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.auth.permissions import PUBLIC
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import AuditUnavailable, NotFound
from rtcc.core.http import MAX_RECORD_ID
from rtcc.core.keys import public_key_pem
from rtcc.core.openapi import error_responses

router = APIRouter(tags=["audit"])


def audit_query(
    username: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=64, description="Exact action, or a prefix ending in '.' (e.g. 'auth.')."),
    outcome: Literal["success", "failure", "denied"] | None = None,
    object_type: str | None = Query(None, max_length=64),
    object_id: str | None = Query(None, max_length=200),
    case_number: str | None = Query(None, max_length=64),
    since: datetime | None = Query(None, description="From this time (inclusive, ISO 8601)."),
    until: datetime | None = Query(None, description="Up to this time (exclusive, ISO 8601)."),
) -> service.AuditQuery:
    return service.AuditQuery(username=username, action=action, outcome=outcome, object_type=object_type,
                              object_id=object_id, case_number=case_number, since=since, until=until)


@router.get("/audit/records", response_model=AuditPage, openapi_extra=needs("audit.read"))
def search_records(
    request: Request,
    query: service.AuditQuery = Depends(audit_query),
    limit: int = Query(100, ge=1, le=1000),
    before_seq: int | None = Query(None, ge=1, le=MAX_RECORD_ID, description="Page: records older than this sequence number."),
    purpose: str | None = Query(None, max_length=500, description="Why the log is being read (recorded)."),
    actor: Actor = Depends(authorize),
):
    """Newest first; page with next_before_seq."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        service.record(db, keys=runtime.keys, actor=actor, action="audit.search", purpose=purpose,
                       query_terms={**query.terms(), "limit": limit, "before_seq": before_seq})
        found = service.search(db, query=query, limit=limit, before_seq=before_seq)
        records = [AuditRecordOut(**service.as_row(entry)) for entry in found]
    next_before = found[-1].seq if len(found) == limit else None
    return AuditPage(records=records, next_before_seq=next_before)


@router.get("/audit/export", openapi_extra=needs("audit.export"),
            responses={200: {"content": {"text/csv": {}, "application/json": {}}}})
def export_records(
    request: Request,
    format: Literal["csv", "json"] = "csv",
    query: service.AuditQuery = Depends(audit_query),
    purpose: str | None = Query(None, max_length=500),
    actor: Actor = Depends(authorize),
):
    """Every matching record, oldest first, with hashes so the export itself can be checked."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        service.record(db, keys=runtime.keys, actor=actor, action="audit.export", purpose=purpose,
                       query_terms={**query.terms(), "format": format})

    def rows():
        with runtime.database.read_session() as db:
            yield from (service.as_row(entry) for entry in service.iterate(db, query=query))

    stamp = clock.utcnow().strftime("%Y%m%dT%H%M%SZ")
    if format == "json":
        body, media_type = _json_lines(rows()), "application/json"
    else:
        body, media_type = _csv_lines(rows()), "text/csv; charset=utf-8"
    return StreamingResponse(
        body, media_type=media_type,
        headers={"content-disposition": f'attachment; filename="rtcc-audit-{stamp}.{format}"'},
    )


def _csv_lines(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=service.EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_lines(rows):
    # A JSON array, streamed record by record.
    yield "["
    first = True
    for row in rows:
        yield ("" if first else ",") + "\n" + json.dumps(row, ensure_ascii=False)
        first = False
    yield "\n]\n"


@router.get("/audit/verify", response_model=VerifyOut, openapi_extra=needs("audit.verify"))
def verify(request: Request, actor: Actor = Depends(authorize)):
    """Walk the whole chain and its checkpoints; report the first record altered, removed or inserted."""
    runtime = get_runtime(request)
    checkpoints = [CheckpointLog(runtime.settings.effective_audit_checkpoint_log).read()]
    with runtime.database.read_session() as db:
        result = service.verify_chain(db, keys=runtime.keys, checkpoints=checkpoints)
    try:
        with runtime.database.session() as db:
            service.record_verification(db, keys=runtime.keys, actor=actor, result=result)
    except AuditUnavailable:
        if result.ok:
            raise  # an intact chain that cannot be appended to: fail closed as every action does
        # A broken chain often refuses appends too; the auditor must still learn what broke.
    return VerifyOut(**result.__dict__)


@router.get("/audit/checkpoint", responses=error_responses(404), response_model=CheckpointOut, openapi_extra=needs(PUBLIC))
def latest_checkpoint(request: Request):
    """The newest signed checkpoint of the chain (sequence, head hash, time), for anyone to keep a copy of."""
    runtime = get_runtime(request)
    signer = signer_for(runtime.keys)
    checkpoint = CheckpointLog(runtime.settings.effective_audit_checkpoint_log).latest(signer)
    if checkpoint is None:
        raise NotFound("No audit checkpoint has been written yet.", code="checkpoint_not_found")
    return CheckpointOut(**checkpoint.as_json(), public_key=public_key_pem(signer.public_key()))
