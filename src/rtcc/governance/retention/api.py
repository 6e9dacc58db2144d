"""Retention over HTTP: policies and presets (admin), legal holds and cases (supervisor), receipts."""

from fastapi import APIRouter, Depends, Query, Request

from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core.actor import Actor
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses
from rtcc.governance.retention import cases, presets, service
from rtcc.governance.retention.data_classes import CLASSES, UnknownDataClass
from rtcc.core.errors import NotFound
from rtcc.governance.retention.schemas import (CaseActionIn, CaseOut, HoldIn, HoldOut, PolicyIn, PolicyOut, PresetLoadIn,
                                               PresetOut, ReceiptOut, ReleaseIn)

router = APIRouter(prefix="/retention", tags=["retention"])


def _known(data_class: str) -> str:
    if data_class not in CLASSES:
        raise NotFound(str(UnknownDataClass(f"unknown data class {data_class!r}")), code="data_class_not_found")
    return data_class


@router.get("/policies", response_model=list[PolicyOut], openapi_extra=needs("retention.read"))
def list_policies(request: Request, actor: Actor = Depends(authorize)):
    """The policy in force for every data class (version 0: the settings' default, no policy set yet)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [PolicyOut.of(policy) for policy in service.policies_in_force(db, runtime=runtime)]


@router.get("/policies/{data_class}/versions", response_model=list[PolicyOut], responses=error_responses(404),
            openapi_extra=needs("retention.read"))
def policy_versions(data_class: str, request: Request, actor: Actor = Depends(authorize)):
    """Every version of a class's policy, newest first."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [PolicyOut.of(row) for row in service.policy_history(db, _known(data_class))]


@router.put("/policies/{data_class}", response_model=PolicyOut, responses=error_responses(404, 422),
            openapi_extra=needs("retention.manage"))
def set_policy(data_class: str, body: PolicyIn, request: Request, actor: Actor = Depends(authorize)):
    """A new version of a class's policy (refused below the class's legal floor, e.g. audit records under a year)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return PolicyOut.of(service.set_policy(db, runtime=runtime, actor=actor, data_class_name=_known(data_class),
                                               keep_for=body.keep_for, clock_name=body.clock, action=body.action,
                                               note=body.note))


@router.get("/presets", response_model=list[PresetOut], openapi_extra=needs("retention.read"))
def list_presets(request: Request, actor: Actor = Depends(authorize)):
    """The jurisdiction presets shipped, each with the source it follows (agency-set classes show no keep-for)."""
    shipped = []
    for name in presets.available():
        preset = presets.describe(name)
        shipped.append(PresetOut(name=name, title=preset["title"], source=preset["source"], policies=preset["policies"]))
    return shipped


@router.post("/presets/load", response_model=list[PolicyOut], responses=error_responses(422),
             openapi_extra=needs("retention.manage"))
def load_presets(body: PresetLoadIn, request: Request, actor: Actor = Depends(authorize)):
    """Load presets: one new policy version per class they set; refused whole if invalid or overlapping."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        rows = service.load_presets(db, runtime=runtime, actor=actor, names=body.presets, agency_values=body.values)
        return [PolicyOut.of(row) for row in rows]


@router.get("/holds", response_model=list[HoldOut], openapi_extra=needs("retention.read"))
def list_holds(request: Request, actor: Actor = Depends(authorize),
               include_released: bool = Query(False, description="Released holds too.")):
    """Legal holds, newest first; an open hold past its review date shows overdue."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [HoldOut.of(hold) for hold in service.list_holds(db, runtime=runtime, actor=actor, include_released=include_released)]


@router.post("/holds", response_model=HoldOut, status_code=201, responses=error_responses(404, 422),
             openapi_extra=needs("holds.manage"))
def place_hold(body: HoldIn, request: Request, actor: Actor = Depends(authorize)):
    """Hold what a case, an incident, a camera and window, a plate or a community upload covers, in every class."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return HoldOut.of(service.place_hold(db, runtime=runtime, actor=actor, **body.model_dump()))


@router.post("/holds/{hold_id}/release", response_model=HoldOut, responses=error_responses(404, 409, 422),
             openapi_extra=needs("holds.manage"))
def release_hold(hold_id: RecordId, body: ReleaseIn, request: Request, actor: Actor = Depends(authorize)):
    """Release a hold (with a reason): what it kept follows its class's policy again."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return HoldOut.of(service.release_hold(db, runtime=runtime, actor=actor, hold_id=hold_id, reason=body.reason))


@router.get("/cases", response_model=list[CaseOut], openapi_extra=needs("retention.read"))
def list_cases(request: Request, actor: Actor = Depends(authorize)):
    """Cases with their state: those closed or reopened, and the case numbers of exports and shares (open)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [CaseOut.of(case) for case in cases.list_cases(db, runtime=runtime, actor=actor)]


@router.post("/cases", response_model=CaseOut, responses=error_responses(404, 409, 422),
             openapi_extra=needs("cases.manage"))
def act_on_case(body: CaseActionIn, request: Request, actor: Actor = Depends(authorize)):
    """Close a case (what carries its number under clock case_closed starts its clock) or reopen it (the clock
    stops), with a reason; a case number seen nowhere yet may be closed too."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return CaseOut.of(cases.act_on_case(db, runtime=runtime, actor=actor, case_number=body.case_number,
                                            action=body.action, reason=body.reason))


@router.get("/receipts", response_model=list[ReceiptOut], responses=error_responses(404),
            openapi_extra=needs("retention.read"))
def list_receipts(request: Request, actor: Actor = Depends(authorize),
                  data_class: str | None = Query(None, max_length=32), limit: int = Query(100, ge=1, le=1000)):
    """Deletion receipts, newest first: class, window, count, bytes, policy version, the held items skipped.

    An unknown data_class is 404 data_class_not_found."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [ReceiptOut.of(r) for r in service.list_receipts(db, data_class_name=_known(data_class) if data_class else None,
                                                               limit=limit)]
