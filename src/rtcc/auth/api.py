"""Sign-in, accounts, agencies, API tokens and roles over HTTP: parse, authorise, call the service."""


from fastapi import APIRouter, Depends, Request, Response

from rtcc.audit import service as audit
from rtcc.auth import scope, service, sessions, tokens
from rtcc.auth.guard import SESSION_COOKIE, authorize, get_runtime, needs, set_session_cookie, source_address
from rtcc.auth.models import UserSession
from rtcc.auth.permissions import ANY_SESSION, PUBLIC, ROLE_PERMISSIONS, SIGN_IN_MFA, SIGN_IN_PASSWORD, permissions_of
from rtcc.auth.schemas import (
    AgencyCreate,
    AgencyOut,
    BannerOut,
    CredentialResetOut,
    DisableRequest,
    IssuedTokenOut,
    MeOut,
    MfaRequest,
    NewCredentialsOut,
    OwnTokenCreate,
    PasswordChangeRequest,
    RoleOut,
    SignInRequest,
    SignInResponse,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from rtcc.core.actor import Actor
from rtcc.core.errors import NotFound, RTCCError
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses

router = APIRouter()
SIGN_IN_FAILURES = (RTCCError,)


def _current_session(db, request: Request) -> UserSession:
    return db.merge(request.state.user_session, load=True)


# --- sign-in ---------------------------------------------------------------------------------

@router.get("/auth/banner", response_model=BannerOut, openapi_extra=needs(PUBLIC), tags=["sign-in"])
def get_banner(request: Request):
    """The system-use notification to acknowledge before signing in."""
    return BannerOut(text=get_runtime(request).settings.system_use_banner)


@router.post("/auth/sign-in", responses=error_responses(401, 423), response_model=SignInResponse, openapi_extra=needs(PUBLIC), tags=["sign-in"])
def sign_in(body: SignInRequest, request: Request, response: Response):
    """Step 1: acknowledge the banner and give the password; returns what to do next."""
    runtime = get_runtime(request)
    failure = None
    with runtime.database.session() as db:
        try:
            step = sessions.begin_sign_in(
                db, runtime=runtime, username=body.username, password=body.password,
                banner_acknowledged=body.banner_acknowledged, source_address=source_address(request),
                user_agent=request.headers.get("user-agent"),
            )
        except SIGN_IN_FAILURES as error:
            failure = error  # commit the failed attempt (lockout count, audit) before refusing
    if failure:
        raise failure
    set_session_cookie(response, request, step.raw_token)
    return SignInResponse(
        next_step=step.next_step, csrf_token=step.user_session.csrf_token,
        totp_secret=step.enrolment_secret, totp_uri=step.enrolment_uri,
    )


@router.post("/auth/mfa", responses=error_responses(423), response_model=SignInResponse, openapi_extra=needs(SIGN_IN_MFA), tags=["sign-in"])
def verify_mfa(body: MfaRequest, request: Request, response: Response, actor: Actor = Depends(authorize)):
    """Step 2: the current TOTP code (the first one also completes enrolment)."""
    runtime = get_runtime(request)
    failure = None
    with runtime.database.session() as db:
        user_session = _current_session(db, request)
        try:
            step = sessions.complete_mfa(db, runtime=runtime, user_session=user_session, code=body.code,
                                         source_address=actor.source_address)
        except SIGN_IN_FAILURES as error:
            failure = error
    if failure:
        raise failure
    set_session_cookie(response, request, step.raw_token)  # a new session token at each step up (ASVS 3.2.1)
    return SignInResponse(next_step=step.next_step, csrf_token=user_session.csrf_token)


@router.post("/auth/password", responses=error_responses(423), response_model=SignInResponse, openapi_extra=needs(SIGN_IN_PASSWORD), tags=["sign-in"])
def change_password(body: PasswordChangeRequest, request: Request, response: Response, actor: Actor = Depends(authorize)):
    """Set a new password: required after a one-time password, allowed any time after."""
    runtime = get_runtime(request)
    failure = None
    with runtime.database.session() as db:
        user_session = _current_session(db, request)
        try:
            step = sessions.change_password(
                db, runtime=runtime, user_session=user_session, current_password=body.current_password,
                new_password=body.new_password, source_address=actor.source_address,
            )
        except SIGN_IN_FAILURES as error:
            failure = error
    if failure:
        raise failure
    set_session_cookie(response, request, step.raw_token)
    return SignInResponse(next_step=step.next_step, csrf_token=user_session.csrf_token)


@router.post("/auth/sign-out", status_code=204, openapi_extra=needs(ANY_SESSION), tags=["sign-in"])
def sign_out(request: Request, response: Response, actor: Actor = Depends(authorize)):
    """End this session on the server and clear the cookie."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        sessions.sign_out(db, runtime=runtime, user_session=_current_session(db, request), source_address=actor.source_address)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=MeOut, openapi_extra=needs("account.self"), tags=["sign-in"])
def me(request: Request, actor: Actor = Depends(authorize)):
    """The signed-in account and what it may do."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        user = service.get_user(db, username=actor.username)
        return MeOut(**UserOut.of(user).model_dump(), permissions=sorted(actor.permissions))


# --- accounts --------------------------------------------------------------------------------

def _visible_agency(actor: Actor) -> str | None:
    """Admins and auditors see every agency's accounts; others only their own agency's (auth/scope.py)."""
    return scope.account_agency_filter(actor)


@router.get("/users", response_model=list[UserOut], openapi_extra=needs("users.read"), tags=["accounts"])
def list_users(request: Request, role: str | None = None, actor: Actor = Depends(authorize)):
    """Accounts, optionally of one role."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        users = service.list_users_audited(db, runtime=runtime, actor=actor, role=role)
        return [UserOut.of(user) for user in users]


@router.post("/users", responses=error_responses(404, 409), response_model=NewCredentialsOut, status_code=201, openapi_extra=needs("users.manage"), tags=["accounts"])
def create_user(body: UserCreate, request: Request, actor: Actor = Depends(authorize)):
    """Create an account; the one-time password and TOTP secret are in this response only."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        new = service.create_user(db, runtime=runtime, actor=actor, **body.model_dump())
        return NewCredentialsOut(user=UserOut.of(new.user), one_time_password=new.one_time_password,
                                 totp_secret=new.totp_secret, totp_uri=new.totp_uri)


@router.get("/users/{username}", response_model=UserOut, openapi_extra=needs("users.read"), tags=["accounts"])
def get_user(username: str, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        user = service.get_user(db, username=username)
        visible = _visible_agency(actor)
        if visible and user.agency.ori != visible:
            raise NotFound(f"No account named {username}.", code="user_not_found")  # as if missing
        audit.record(db, keys=runtime.keys, actor=actor, action="user.view", object_type="user", object_id=username)
        return UserOut.of(user)


@router.patch("/users/{username}", response_model=UserOut, openapi_extra=needs("users.manage"), tags=["accounts"])
def update_user(username: str, body: UserUpdate, request: Request, actor: Actor = Depends(authorize)):
    """Change role, display name, camera groups or expiry."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        changes = body.model_dump(exclude_unset=True)
        return UserOut.of(service.update_user(db, runtime=runtime, actor=actor, username=username, changes=changes))


@router.post("/users/{username}/unlock", response_model=UserOut, openapi_extra=needs("users.manage"), tags=["accounts"])
def unlock_user(username: str, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return UserOut.of(service.unlock_user(db, runtime=runtime, actor=actor, username=username))


@router.post("/users/{username}/disable", response_model=UserOut, openapi_extra=needs("users.manage"), tags=["accounts"])
def disable_user(username: str, body: DisableRequest, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return UserOut.of(service.disable_user(db, runtime=runtime, actor=actor, username=username, reason=body.reason))


@router.post("/users/{username}/enable", response_model=UserOut, openapi_extra=needs("users.manage"), tags=["accounts"])
def enable_user(username: str, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return UserOut.of(service.enable_user(db, runtime=runtime, actor=actor, username=username))


@router.post("/users/{username}/reset-credentials", response_model=CredentialResetOut,
             openapi_extra=needs("users.manage"), tags=["accounts"])
def reset_credentials(username: str, request: Request, actor: Actor = Depends(authorize)):
    """New one-time password; ends the account's sessions, lifts a lockout; the user enrols MFA afresh."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        reset = service.reset_credentials(db, runtime=runtime, actor=actor, username=username)
        return CredentialResetOut(user=UserOut.of(reset.user), one_time_password=reset.one_time_password)


# --- agencies, tokens, roles -----------------------------------------------------------------

@router.get("/agencies", response_model=list[AgencyOut], openapi_extra=needs("agencies.read"), tags=["agencies"])
def list_agencies(request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [AgencyOut(ori=a.ori, name=a.name, created_at=a.created_at) for a in service.list_agencies(db)]


@router.post("/agencies", responses=error_responses(409), response_model=AgencyOut, status_code=201, openapi_extra=needs("agencies.manage"), tags=["agencies"])
def create_agency(body: AgencyCreate, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        agency = service.create_agency(db, runtime=runtime, actor=actor, ori=body.ori, name=body.name)
        return AgencyOut(ori=agency.ori, name=agency.name, created_at=agency.created_at)


@router.get("/tokens", response_model=list[TokenOut], openapi_extra=needs("tokens.manage"), tags=["tokens"])
def list_tokens(request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = tokens.list_tokens(db)
        audit.record(db, keys=runtime.keys, actor=actor, action="token.list", object_type="api_token",
                     details={"count": len(found)})
        return [TokenOut.of(token) for token in found]


@router.post("/tokens", responses=error_responses(404), response_model=IssuedTokenOut, status_code=201, openapi_extra=needs("tokens.manage"), tags=["tokens"])
def create_token(body: TokenCreate, request: Request, actor: Actor = Depends(authorize)):
    """Issue a token; its secret value is in this response only."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        issued = tokens.create_token(db, runtime=runtime, actor=actor, **body.model_dump())
        return IssuedTokenOut(**TokenOut.of(issued.token).model_dump(), token=issued.raw_token)


@router.delete("/tokens/{token_id}", response_model=TokenOut, openapi_extra=needs("tokens.manage"), tags=["tokens"])
def revoke_token(token_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return TokenOut.of(tokens.revoke_token(db, runtime=runtime, actor=actor, token_id=token_id))


@router.get("/auth/tokens", response_model=list[TokenOut], openapi_extra=needs("account.self"), tags=["tokens"])
def list_own_tokens(request: Request, actor: Actor = Depends(authorize)):
    """The API tokens acting as you."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [TokenOut.of(token) for token in tokens.list_tokens(db, user_id=actor.user_id)]


@router.post("/auth/tokens", response_model=IssuedTokenOut, status_code=201, openapi_extra=needs("account.self"), tags=["tokens"])
def create_own_token(body: OwnTokenCreate, request: Request, actor: Actor = Depends(authorize)):
    """Mint a token acting as you, with permissions your role holds; its secret value is in this response only."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        issued = tokens.create_token(db, runtime=runtime, actor=actor, username=actor.username, **body.model_dump())
        return IssuedTokenOut(**TokenOut.of(issued.token).model_dump(), token=issued.raw_token)


@router.delete("/auth/tokens/{token_id}", response_model=TokenOut, openapi_extra=needs("account.self"), tags=["tokens"])
def revoke_own_token(token_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """Revoke one of your own tokens."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return TokenOut.of(tokens.revoke_token(db, runtime=runtime, actor=actor, token_id=token_id, own_only=True))


@router.get("/roles", response_model=list[RoleOut], openapi_extra=needs("roles.read"), tags=["accounts"])
def list_roles(actor: Actor = Depends(authorize)):
    """Every role and the permissions it holds."""
    return [RoleOut(role=role, permissions=sorted(permissions_of(role))) for role in ROLE_PERMISSIONS]
