"""Assembles the ASGI app: the domains' routers and the middleware; bootstrap.py runs the services beside it."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Depends, FastAPI

from rtcc import __version__
from rtcc.alpr.api import hotlist_cache
from rtcc.alpr.api import router as alpr_router
from rtcc.audit.api import router as audit_router
from rtcc.auth.api import router as auth_router
from rtcc.auth.guard import RULE_KEY, authorize
from rtcc.auth.permissions import PUBLIC
from rtcc.bootstrap import build_services, provide_cross_domain_checks, start_services, stop_services
from rtcc.cameras.api import router as cameras_router
from rtcc.settings import Settings
from rtcc.core.http import (
    BodySizeLimit,
    JsonBodyLimits,
    SecurityHeaders,
    install_error_handlers,
)
from rtcc.core.openapi import install_error_responses
from rtcc.core.runtime import Runtime, build_runtime
from rtcc.governance.review.api import router as review_router
from rtcc.governance.releases.api import router as releases_router
from rtcc.governance.transparency.api import router as transparency_router
from rtcc.governance.retention.api import router as retention_router
from rtcc.incidents.api import router as incidents_router
from rtcc.policy.api import document_body_limit
from rtcc.policy.api import router as policy_router
from rtcc.sharing.api import router as sharing_router
from rtcc.video.api import router as video_router
from rtcc.video.live.api import router as live_router
from rtcc.web.events import router as events_router
from rtcc.web.field_pages import router as field_pages_router
from rtcc.web.pages import mount_console
from rtcc.web.release_pages import router as release_pages_router
from rtcc.web.retention_pages import router as retention_pages_router
from rtcc.web.review_pages import router as review_pages_router
from rtcc.web.system_api import health_router
from rtcc.web.system_api import router as system_router
from rtcc.web.transparency_pages import router as transparency_pages_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               simulated_calls: bool = False) -> FastAPI:
    """The whole HTTP surface: /healthz, /api/v1 (JSON + WebSocket) and the console pages.

    simulated_calls: `rtcc demo` only; the simulated city sends calls for service every
    demo_call_interval_seconds."""
    runtime = runtime or build_runtime(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # The routes and the services share one hotlist cache and one camera locator.
        services = build_services(runtime, simulated_calls=simulated_calls, hotlist_cache=hotlist_cache(app),
                                  camera_locator=getattr(app.state, "camera_locator", None))
        app.state.services = services
        app.state.camera_locator = services.camera_locator
        app.state.live_relays = services.live_relays
        await start_services(services)
        app.state.recorder = services.pipelines.recorder
        app.state.plate_reading = services.pipelines.plate_reading
        app.state.mqtt_reads = services.mqtt_reads
        try:
            yield
        finally:
            await stop_services(services)

    app = FastAPI(
        title="OpenRTCC",
        version=__version__,
        description="Real-Time Crime Center platform: cameras, plates, incidents, with accountability built in.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    provide_cross_domain_checks()  # health reads video's index; sharing asks governance about holds
    install_error_handlers(app)
    install_error_responses(app, rule_key=RULE_KEY, public_rule=PUBLIC)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(authorize)])
    for router in (auth_router, audit_router, video_router, cameras_router, alpr_router, incidents_router, sharing_router, policy_router,
                   system_router, transparency_router):
        api.include_router(router)
    api.include_router(releases_router)  # /api/v1/releases: public-records release copies
    api.include_router(retention_router)  # /api/v1/retention: policies, presets, legal holds, receipts
    api.include_router(review_router)  # /api/v1/audit-review: the supervisors' queue
    app.include_router(health_router)
    app.include_router(api)
    app.include_router(events_router, prefix=API_PREFIX)
    app.include_router(live_router, prefix=API_PREFIX)
    app.include_router(field_pages_router)  # /field/<token>: a field officer's link, no console session
    app.include_router(transparency_pages_router)  # /transparency: the public portal, no sign-in
    app.include_router(review_pages_router)  # /console/audit-review: the supervisors' queue
    app.include_router(retention_pages_router)  # /console/retention: policies, legal holds, receipts
    app.include_router(release_pages_router)  # /console/releases: public-records release copies
    mount_console(app)

    app.add_middleware(JsonBodyLimits, max_depth=runtime.settings.max_json_depth)  # inside BodySizeLimit
    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.max_request_bytes,
                       upload_bytes=runtime.settings.max_import_bytes,
                       route_limits=[document_body_limit(runtime.settings, prefix=API_PREFIX)])  # signed PDFs
    app.add_middleware(SecurityHeaders)
    return app

