"""The policy engine over HTTP: agencies' kind and state, agreements (with their signed document), policies,
purposes and decisions. Admins change them; supervisors and auditors read them; everyone signed in reads purposes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from rtcc.audit import service as audit
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput
from rtcc.core.http import RecordId, RouteBodyLimit
from rtcc.core.openapi import error_responses
from rtcc.policy import service
from rtcc.policy.purposes import all_purposes
from rtcc.policy.schemas import (
    AgencyProfileIn,
    AgencyProfileOut,
    AgreementChange,
    AgreementIn,
    AgreementOut,
    DecisionOut,
    PolicyLoad,
    PolicyOut,
    PurposeIn,
    PurposeOut,
)
from rtcc.policy.settings import PolicySettings

router = APIRouter(prefix="/policy", tags=["policy"])
DOCUMENT_PATH = "/agreements/{agreement_id}/document"


def document_body_limit(settings: PolicySettings, *, prefix: str) -> RouteBodyLimit:
    """The document upload's own body limit, for app.py's BodySizeLimit (`prefix`: where this router is mounted):
    a signed agreement PDF is often 2-10 MB, past the general request limit meant for JSON."""
    return RouteBodyLimit(method="PUT", path=f"{prefix}{router.prefix}{DOCUMENT_PATH}",
                          max_bytes=settings.policy_document_max_bytes, what="A signed agreement document",
                          setting="RTCC_POLICY_DOCUMENT_MAX_BYTES")


def _agreement_out(db, agreement) -> AgreementOut:
    return AgreementOut.of(agreement, service.agreement_agency(db, agreement).ori)


@router.get("/agencies", response_model=list[AgencyProfileOut], openapi_extra=needs("policy.read"))
def list_agencies(request: Request, actor: Actor = Depends(authorize)):
    """Every agency with its kind and state (None: not yet recorded, so nothing is shared to it)."""
    with get_runtime(request).database.session() as db:
        return [AgencyProfileOut(ori=agency.ori, name=agency.name, kind=profile.kind if profile else None,
                                 state=profile.state if profile else None)
                for agency, profile in service.list_agency_profiles(db)]


@router.put("/agencies/{ori}", responses=error_responses(404), response_model=AgencyProfileOut,
            openapi_extra=needs("policy.manage"))
def set_agency_profile(ori: str, body: AgencyProfileIn, request: Request, actor: Actor = Depends(authorize)):
    """Record an agency's kind (local, state, federal, private, out_of_state) and state."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        agency, profile = service.set_agency_profile(db, runtime=runtime, actor=actor, ori=ori, kind=body.kind,
                                                     state=body.state)
        return AgencyProfileOut(ori=agency.ori, name=agency.name, kind=profile.kind, state=profile.state)


@router.get("/agreements", response_model=list[AgreementOut], openapi_extra=needs("policy.read"))
def list_agreements(request: Request, actor: Actor = Depends(authorize)):
    with get_runtime(request).database.session() as db:
        return [_agreement_out(db, agreement) for agreement in service.list_agreements(db)]


@router.post("/agreements", responses=error_responses(404), response_model=AgreementOut, status_code=201,
             openapi_extra=needs("policy.manage"))
def create_agreement(body: AgreementIn, request: Request, actor: Actor = Depends(authorize)):
    """A sharing agreement with one agency: data classes, purposes, start and expiry, contact."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        terms = service.AgreementTerms(**body.model_dump(exclude={"agency_ori"}))
        return _agreement_out(db, service.create_agreement(db, runtime=runtime, actor=actor, agency_ori=body.agency_ori,
                                                           terms=terms))


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, openapi_extra=needs("policy.read"))
def get_agreement(agreement_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    with get_runtime(request).database.session() as db:
        return _agreement_out(db, service.get_agreement(db, agreement_id))


@router.patch("/agreements/{agreement_id}", response_model=AgreementOut, openapi_extra=needs("policy.manage"))
def change_agreement(agreement_id: RecordId, body: AgreementChange, request: Request, actor: Actor = Depends(authorize)):
    """Change some terms; the result must still be valid (dates in order, known purposes), or nothing changes."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        terms = service.AgreementTerms(**body.model_dump())
        return _agreement_out(db, service.change_agreement(db, runtime=runtime, actor=actor, agreement_id=agreement_id,
                                                           terms=terms))


@router.delete("/agreements/{agreement_id}", response_model=AgreementOut, openapi_extra=needs("policy.manage"))
def end_agreement(agreement_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """End the agreement now: it stays on record, and nothing more goes under it."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return _agreement_out(db, service.end_agreement(db, runtime=runtime, actor=actor, agreement_id=agreement_id))


@router.put(DOCUMENT_PATH, responses=error_responses(413, 415), response_model=AgreementOut,
            openapi_extra=needs("policy.manage"))
async def upload_document(agreement_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """The signed agreement as the request body (application/pdf), stored and hashed (SHA-256) as it arrives; at
    most `RTCC_POLICY_DOCUMENT_MAX_BYTES` (10 MiB unless set), larger is refused (413) and the stored one stays."""
    runtime = get_runtime(request)
    data = await request.body()
    with runtime.database.session() as db:
        agreement = service.attach_document(db, runtime=runtime, actor=actor, agreement_id=agreement_id,
                                            content_type=request.headers.get("content-type", ""), data=data)
        return _agreement_out(db, agreement)


@router.get(DOCUMENT_PATH, response_class=FileResponse, openapi_extra=needs("policy.read"))
def get_document(agreement_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """The signed document as stored (its SHA-256 is in the agreement)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        agreement = service.get_agreement(db, agreement_id)
        path = service.document_path(runtime, agreement)
        audit.record(db, keys=runtime.keys, actor=actor, action="policy.agreement_document_view",
                     object_type="agreement", object_id=agreement.id, details={"sha256": agreement.document_sha256})
    return FileResponse(path, media_type=agreement.document_type or "application/pdf")


@router.get("/policies", response_model=list[PolicyOut], openapi_extra=needs("policy.read"))
def list_policies(request: Request, actor: Actor = Depends(authorize)):
    """The policies in force, with their rules and sources."""
    with get_runtime(request).database.session() as db:
        return [PolicyOut(name=p.name, title=p.title, jurisdiction=p.jurisdiction, source=p.source, rules=p.rules,
                          document_sha256=p.document_sha256, loaded_at=p.loaded_at, loaded_by=p.loaded_by)
                for p in service.list_policies(db)]


@router.post("/policies", responses=error_responses(404, 409), response_model=PolicyOut, status_code=201,
             openapi_extra=needs("policy.manage"))
def load_policy(body: PolicyLoad, request: Request, actor: Actor = Depends(authorize)):
    """Put a shipped preset or a policy file in force; refused whole when malformed, overlapping or contradictory."""
    if (body.preset is None) == (body.toml is None):
        raise InvalidInput("Name a preset or send a policy file's text (one of the two).", code="invalid_policy_file")
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        if body.preset is not None:
            policy = service.load_preset(db, runtime=runtime, actor=actor, name=body.preset)
        else:
            policy = service.load_policy(db, runtime=runtime, actor=actor, text=body.toml)
        return PolicyOut(name=policy.name, title=policy.title, jurisdiction=policy.jurisdiction, source=policy.source,
                         rules=policy.rules, document_sha256=policy.document_sha256, loaded_at=policy.loaded_at,
                         loaded_by=policy.loaded_by)


@router.get("/purposes", response_model=list[PurposeOut], openapi_extra=needs("account.self"))
def list_purposes(request: Request, actor: Actor = Depends(authorize)):
    """The purpose categories a search, export or share may name (standard, then the agency's own)."""
    with get_runtime(request).database.session() as db:
        return [PurposeOut(code=p.code, title=p.title, kind=p.kind) for p in all_purposes(db)]


@router.post("/purposes", responses=error_responses(409), response_model=PurposeOut, status_code=201,
             openapi_extra=needs("policy.manage"))
def add_purpose(body: PurposeIn, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        purpose = service.add_purpose(db, runtime=runtime, actor=actor, code=body.code, title=body.title)
        return PurposeOut(code=purpose.code, title=purpose.title, kind=purpose.kind)


@router.get("/decisions", response_model=list[DecisionOut], openapi_extra=needs("policy.read"))
def list_decisions(request: Request, actor: Actor = Depends(authorize),
                   recipient: str | None = Query(default=None, max_length=9),
                   allowed: bool | None = Query(default=None),
                   limit: int = Query(default=100, ge=1, le=service.DECISION_LIST_LIMIT)):
    """The engine's decisions, newest first, each with the rule that decided it."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        rows = service.list_decisions(db, actor=actor, recipient=recipient, allowed=allowed, limit=limit)
        audit.record(db, keys=runtime.keys, actor=actor, action="policy.decision_list", object_type="policy_decision",
                     details={"count": len(rows), "recipient": recipient})
        return [DecisionOut.of(row) for row in rows]
