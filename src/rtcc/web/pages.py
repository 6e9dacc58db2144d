"""Server-rendered console pages: sign-in (banner, password, MFA, new password) and the watch desk."""


import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from rtcc import __version__
from rtcc.auth import sessions, totp
from rtcc.auth.guard import SESSION_COOKIE, get_runtime, resolve_caller, set_session_cookie, source_address
from rtcc.auth.models import UserSession
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import RTCCError

WEB_DIR = Path(__file__).parent
BASEMAP_FILE = WEB_DIR / "basemap.geojson"  # the simulated city's streets: the map's fallback on a closed network
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.filters["iso"] = clock.iso
router = APIRouter(include_in_schema=False)
SIGN_IN_CSRF_COOKIE = "rtcc_sign_in_csrf"


class Redirect(Exception):
    """Raised by page helpers to send the browser elsewhere."""

    def __init__(self, url: str):
        self.url = url


def mount_console(app: FastAPI) -> None:
    from rtcc.web.admin_pages import router as admin_router

    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(router)
    app.include_router(admin_router)

    @app.exception_handler(Redirect)
    async def _redirect(request: Request, redirect: Redirect):
        return RedirectResponse(redirect.url, status_code=303)


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("version", __version__)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def page_caller(request: Request) -> tuple[Actor, UserSession | None]:
    """The caller of a page; an ended or missing session goes back to sign-in with the reason."""
    try:
        return resolve_caller(request, get_runtime(request))
    except RTCCError as error:
        raise Redirect(f"/sign-in?notice={quote(error.message)}")


def signed_in(request: Request, permission: str | None = None) -> tuple[Actor, UserSession]:
    """An active session holding `permission`, or a redirect to where the user must go."""
    actor, user_session = page_caller(request)
    if user_session is None:
        raise Redirect("/sign-in")
    if user_session.stage == "mfa":
        raise Redirect("/sign-in/mfa")
    if user_session.stage == "password_change":
        raise Redirect("/sign-in/password")
    if permission and not actor.can(permission):
        raise Redirect("/console?notice=" + quote("You do not have permission to open that page."))
    return actor, user_session


def check_form_csrf(user_session: UserSession, sent: str) -> None:
    if not secrets.compare_digest(sent or "", user_session.csrf_token):
        raise Redirect("/sign-in?notice=" + quote("The form expired. Sign in again."))


# --- sign-in ---------------------------------------------------------------------------------

@router.get("/")
def root(request: Request, notice: str | None = None):
    """The console itself (signed out: the sign-in page)."""
    return console_home(request, notice)


@router.get("/sign-in")
def sign_in_page(request: Request, notice: str | None = None, error: str | None = None):
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", banner=get_runtime(request).settings.system_use_banner,
                      csrf_token=token, notice=notice, error=error)
    response.set_cookie(SIGN_IN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/sign-in")
    return response


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    banner_acknowledged: str | None = Form(None),
    csrf_token: str = Form(""),
):
    runtime = get_runtime(request)
    if not secrets.compare_digest(csrf_token, request.cookies.get(SIGN_IN_CSRF_COOKIE, "")):
        return RedirectResponse("/sign-in?error=" + quote("The form expired. Try again."), status_code=303)
    failure = None
    with runtime.database.session() as db:
        try:
            step = sessions.begin_sign_in(
                db, runtime=runtime, username=username, password=password,
                banner_acknowledged=banner_acknowledged == "yes", source_address=source_address(request),
                user_agent=request.headers.get("user-agent"),
            )
        except RTCCError as error:
            failure = error
    if failure:
        return RedirectResponse("/sign-in?error=" + quote(failure.message), status_code=303)
    response = RedirectResponse("/sign-in/mfa", status_code=303)
    set_session_cookie(response, request, step.raw_token)
    return response


def _pending_session(request: Request, stage: str) -> UserSession:
    actor, user_session = page_caller(request)
    if user_session is None:
        raise Redirect("/sign-in")
    if user_session.stage != stage:
        raise Redirect("/console" if user_session.stage == "active" else "/sign-in")
    return user_session


@router.get("/sign-in/mfa")
def mfa_page(request: Request, error: str | None = None):
    runtime = get_runtime(request)
    user_session = _pending_session(request, "mfa")
    user = user_session.user
    enrolment = None
    if user.mfa_enrolled_at is None:
        secret = runtime.keys.decrypt(user.totp_secret_encrypted)
        uri = totp.provisioning_uri(secret, username=user.username, issuer=runtime.settings.totp_issuer)
        enrolment = {"secret": secret, "qr_svg": totp.qr_svg(uri)}
    return render(request, "mfa.html", enrolment=enrolment, csrf_token=user_session.csrf_token,
                  username=user.username, error=error)


@router.post("/sign-in/mfa")
def mfa_submit(request: Request, code: str = Form(""), csrf_token: str = Form("")):
    runtime = get_runtime(request)
    user_session = _pending_session(request, "mfa")
    check_form_csrf(user_session, csrf_token)
    failure = None
    with runtime.database.session() as db:
        try:
            step = sessions.complete_mfa(db, runtime=runtime, user_session=db.merge(user_session),
                                         code=code, source_address=source_address(request))
        except RTCCError as error:
            failure = error
    if failure:
        target = "/sign-in/mfa" if failure.code == "invalid_mfa_code" else "/sign-in"
        return RedirectResponse(f"{target}?error={quote(failure.message)}", status_code=303)
    response = RedirectResponse("/sign-in/password" if step.next_step == "change_password" else "/console", status_code=303)
    set_session_cookie(response, request, step.raw_token)  # a new session token at each step up (ASVS 3.2.1)
    return response


@router.get("/sign-in/password")
def password_page(request: Request, error: str | None = None):
    actor, user_session = page_caller(request)
    if user_session is None or user_session.stage not in ("password_change", "active"):
        raise Redirect("/sign-in")
    runtime = get_runtime(request)
    with runtime.database.read_session() as db:
        tries_left = sessions.tries_left(db, runtime=runtime, user=user_session.user)
    return render(request, "password.html", csrf_token=user_session.csrf_token, error=error,
                  required=user_session.stage == "password_change", tries_left=tries_left,
                  min_length=runtime.settings.password_min_length)


@router.post("/sign-in/password")
def password_submit(
    request: Request, current_password: str = Form(""), new_password: str = Form(""),
    confirm_password: str = Form(""), csrf_token: str = Form(""),
):
    runtime = get_runtime(request)
    actor, user_session = page_caller(request)
    if user_session is None or user_session.stage not in ("password_change", "active"):
        raise Redirect("/sign-in")
    check_form_csrf(user_session, csrf_token)
    if new_password != confirm_password:
        return RedirectResponse("/sign-in/password?error=" + quote("The new passwords do not match."), status_code=303)
    failure = None
    with runtime.database.session() as db:
        try:
            step = sessions.change_password(db, runtime=runtime, user_session=db.merge(user_session),
                                            current_password=current_password, new_password=new_password,
                                            source_address=source_address(request))
        except RTCCError as error:
            failure = error
    if failure:
        target = "/sign-in" if failure.code == "account_locked" else "/sign-in/password"
        return RedirectResponse(f"{target}?error={quote(failure.message)}", status_code=303)
    response = RedirectResponse("/console?notice=" + quote("Password changed."), status_code=303)
    set_session_cookie(response, request, step.raw_token)
    return response


@router.post("/sign-out")
def sign_out_submit(request: Request, csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = page_caller(request)
    if user_session is not None:
        check_form_csrf(user_session, csrf_token)
        with runtime.database.session() as db:
            sessions.sign_out(db, runtime=runtime, user_session=db.merge(user_session), source_address=source_address(request))
    response = RedirectResponse("/sign-in?notice=" + quote("You have signed out."), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- console ---------------------------------------------------------------------------------

@router.get("/console")
def console_home(request: Request, notice: str | None = None):
    """The watch floor: map, video wall, alert queue, incidents (the page fetches its data itself)."""
    runtime = get_runtime(request)
    actor, user_session = signed_in(request)
    database_ok, _ = runtime.database.check()
    bus_ok, _ = runtime.bus.health()
    return render(request, "console.html", actor=actor, csrf_token=user_session.csrf_token, notice=notice,
                  database_ok=database_ok, bus_ok=bus_ok, bus_name=runtime.bus.name,
                  database_engine=runtime.database.dialect, tile_url=runtime.settings.map_tile_url)


@router.get("/console/basemap.geojson")
def basemap(request: Request):
    """Vector streets for the map when no tile server is configured: the simulated city's, bundled as a file
    (the console never imports the simulator; tests/unit/test_layering.py keeps the file equal to sim.city's)."""
    signed_in(request)
    return FileResponse(BASEMAP_FILE, media_type="application/geo+json")

