"""Events of public-records releases: each step a person takes is audited with the request's purpose."""

from __future__ import annotations

from rtcc.core.events import Event


class ReleaseEvent(Event):
    """What every release event says; those who work releases hear of it."""

    permission = "releases.request"
    release_id: int
    records_request_number: str
    status: str


class ReleaseRequested(ReleaseEvent):
    type = "release.requested"
    audit_action = "release.request"


class ReleaseBoxAdded(ReleaseEvent):
    type = "release.box_added"
    audit_action = "release.add_box"
    frame: int


class ReleaseRenderStarted(ReleaseEvent):
    type = "release.render_started"
    audit_action = "release.render"


class ReleaseRendered(ReleaseEvent):
    """A render ended (status rendered, or failed with its reason)."""

    type = "release.rendered"
    audit_action = "release.rendered"
    release_sha256: str | None = None


class ReleaseRenderInterrupted(ReleaseEvent):
    """A render was found cut off (its process ended before it did): status interrupted, to be rendered again."""

    type = "release.render_interrupted"
    audit_action = "release.render_interrupted"


class ReleaseDecided(ReleaseEvent):
    """A supervisor approved or rejected the release copy (status says which)."""

    type = "release.decided"
    audit_action = "release.decide"
    decided_by: str
