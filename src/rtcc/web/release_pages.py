"""The console's public-records releases page: request a clip, draw boxes to blur, render, review and decide.

The page is a shell; its script works through /api/v1/releases, so every rule and every audit record is the API's.
"""

from fastapi import APIRouter, Request

from rtcc.web.pages import render, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/console/releases")
def releases_page(request: Request):
    actor, user_session = signed_in(request, "releases.request")
    return render(request, "releases.html", actor=actor, csrf_token=user_session.csrf_token,
                  can_approve=actor.can("releases.approve"))
