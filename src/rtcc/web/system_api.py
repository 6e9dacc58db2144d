"""Health and system status."""


from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from rtcc import __version__
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core.actor import Actor
from rtcc.core.migrate import current_revision

health_router = APIRouter()
router = APIRouter(tags=["system"])


HEALTH_DEGRADED = {503: {"description": "The database or the bus is down: the same body, status 'degraded'.",
                         "content": {"application/json": {"schema": {"type": "object"}}}}}


@health_router.get("/healthz", tags=["system"], responses=HEALTH_DEGRADED)
async def healthz(request: Request):
    """No sign-in needed: version and the state of the database and bus (503 when either is down)."""
    runtime = get_runtime(request)
    database_ok, database_detail = await run_in_threadpool(runtime.database.check)
    bus_ok, bus_detail = runtime.bus.health()
    body = {
        "status": "ok" if database_ok and bus_ok else "degraded",
        "version": __version__,
        "database": {"ok": database_ok, "engine": runtime.database.dialect, "detail": database_detail},
        "bus": {"ok": bus_ok, "adapter": runtime.bus.name, "detail": bus_detail},
        # Background writes the database refused (retried, kept, waiting) and what the start-up salvage found.
        "writes": runtime.database.write_health.counts(),
    }
    return JSONResponse(body, status_code=200 if database_ok and bus_ok else 503)


@router.get("/system/status", openapi_extra=needs("system.status"))
def system_status(request: Request, actor: Actor = Depends(authorize)):
    """Detail for administrators: schema revision and bus counters."""
    runtime = get_runtime(request)
    return {
        "version": __version__,
        "database": {"engine": runtime.database.dialect, "revision": current_revision(runtime.database.engine)},
        "bus": {"adapter": runtime.bus.name, **runtime.bus.stats()},
        "writes": runtime.database.write_health.as_dict(),
        "data_dir": str(runtime.settings.data_dir),
    }
