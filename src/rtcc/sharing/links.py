"""Field sharing, the officer's side: open the link, prove who they are, see or watch what was shared.

Acts through the link's token and the browser it is bound to (no console session); every open and
every refusal is an audit record in the same transaction. The sender's side is in service.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import totp
from rtcc.auth.models import User
from rtcc.auth.service import account_status
from rtcc.auth.sessions import hash_token, record_sign_in_failure
from rtcc.cameras.models import Camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.runtime import Runtime
from rtcc.sharing.events import ShareEvent, ShareOpened
from rtcc.sharing.models import FieldShare

from rtcc.sharing.service import (
    REFUSALS,
    end_media,
    recipient_actor,
    share_agency_ori,
    shares_root,
)


@dataclass
class LinkOutcome:
    """What became of one request on a link: the share when it may be shown, else why not."""

    share: FieldShare | None
    refusal: str | None = None
    device_token: str | None = None  # set once, when a verification binds the link to this browser
    verified: bool = False  # the content may be shown (else: the verification form)

    @property
    def status_code(self) -> int:
        return REFUSALS[self.refusal][0] if self.refusal else 200

    @property
    def message(self) -> str | None:
        return REFUSALS[self.refusal][1] if self.refusal else None


def _find(session: Session, raw_token: str) -> FieldShare | None:
    if not raw_token or len(raw_token) > 100:
        return None
    return session.execute(select(FieldShare).where(FieldShare.token_hash == hash_token(raw_token))).scalar_one_or_none()


def _refuse(session: Session, *, runtime: Runtime, share: FieldShare | None, reason: str, actor: Actor,
            what: str, **details) -> LinkOutcome:
    audit.record(session, keys=runtime.keys, actor=actor, action="share.open_refused", outcome="denied",
                 object_type="share", object_id=share.id if share else None,
                 case_number=share.case_number if share else None, details={"reason": reason, "what": what, **details})
    return LinkOutcome(share=share if reason in ("wrong_code", "wrong_person") else None, refusal=reason)


def _ended(share: FieldShare, now: datetime) -> str | None:
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at <= now:
        return "expired"
    return None


def _link_state(session: Session, runtime: Runtime, raw_token: str, source_address: str | None,
                what: str) -> tuple[FieldShare | None, LinkOutcome | None]:
    """The live share behind a token, or the refusal (already audited) when there is none."""
    share = _find(session, raw_token)
    if share is None:
        return None, _refuse(session, runtime=runtime, share=None, reason="unknown_link",
                             actor=_anonymous(source_address), what=what)
    ended = _ended(share, clock.utcnow())
    if ended:
        if ended == "expired":
            end_media(session, runtime, share)
        return None, _refuse(session, runtime=runtime, share=share, reason=ended,
                             actor=_anonymous(source_address), what=what)
    return share, None


def _anonymous(source_address: str | None) -> Actor:
    """Whoever holds the link before they proved who they are."""
    return Actor(via="anonymous", source_address=source_address)


def verify_and_redeem(session: Session, *, runtime: Runtime, raw_token: str, username: str, code: str,
                      source_address: str | None) -> LinkOutcome:
    """The named officer proves who they are with a fresh TOTP code; the link is then theirs, in this browser only.

    Wrong codes count towards the account's lockout exactly as at sign-in; a code is accepted once.
    The caller commits even when the outcome is a refusal, so the audit trail and the counter keep it.
    """
    share, refused = _link_state(session, runtime, raw_token, source_address, "verify")
    if refused:
        return refused
    typed = (username or "").strip().lower()[:64]
    if share.redeemed_at is not None:
        return _refuse(session, runtime=runtime, share=share, reason="already_used",
                       actor=_anonymous(source_address), what="verify", username=typed)
    user = session.get(User, share.recipient_user_id)
    if user is None or typed != user.username:
        return _refuse(session, runtime=runtime, share=share, reason="wrong_person",
                       actor=Actor(via="anonymous", username=typed or None, source_address=source_address),
                       what="verify")
    actor = recipient_actor(user, source_address=source_address)
    if account_status(user) != "active":
        return _refuse(session, runtime=runtime, share=share, reason="account_unavailable", actor=actor, what="verify")
    secret = runtime.keys.decrypt(user.totp_secret_encrypted)
    step = totp.matching_step(secret, code, valid_window=runtime.settings.totp_valid_window)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        reason = "wrong code" if step is None else "code already used"
        locked = record_sign_in_failure(session, runtime=runtime, user=user, stage="share", actor=actor, reason=reason)
        return _refuse(session, runtime=runtime, share=share, reason="account_locked" if locked else "wrong_code",
                       actor=actor, what="verify", detail=reason)
    now = clock.utcnow()
    user.totp_last_step = step
    device_token = secrets.token_urlsafe(32)
    # Single use even against two browsers verifying at once: only one UPDATE finds the link unredeemed.
    claimed = session.execute(
        update(FieldShare).where(FieldShare.id == share.id, FieldShare.redeemed_at.is_(None))
        .values(redeemed_at=now, device_hash=hash_token(device_token))
    ).rowcount
    session.refresh(share)
    if claimed != 1:
        return _refuse(session, runtime=runtime, share=share, reason="already_used", actor=actor, what="verify")
    # The page this browser is sent to next is the first open (counted and audited there).
    audit.record(session, keys=runtime.keys, actor=actor, action="share.verified", object_type="share",
                 object_id=share.id, case_number=share.case_number, details={"kind": share.kind})
    return LinkOutcome(share=share, device_token=device_token, verified=True)


def _opened(session: Session, *, runtime: Runtime, share: FieldShare, actor: Actor, what: str) -> None:
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=ShareOpened(agency_ori=share_agency_ori(session, share), **ShareEvent.fields_of(share),
                                   open_count=share.open_count),
                 object_type="share", object_id=share.id, purpose=share.purpose, case_number=share.case_number,
                 details={"what": what, "kind": share.kind, "camera_id": share.camera_id, "open_count": share.open_count})


def _bound(session: Session, runtime: Runtime, raw_token: str, device_cookie: str | None,
           source_address: str | None, what: str) -> tuple[FieldShare | None, Actor | None, LinkOutcome | None]:
    share, refused = _link_state(session, runtime, raw_token, source_address, what)
    if refused:
        return None, None, refused
    if share.redeemed_at is None or not device_cookie or share.device_hash is None or \
            not secrets.compare_digest(hash_token(device_cookie), share.device_hash):
        # Not yet verified here: the page shows the form instead; anything else is refused.
        if share.redeemed_at is None and what == "page":
            return share, None, None
        return None, None, _refuse(session, runtime=runtime, share=share, reason="already_used",
                                   actor=_anonymous(source_address), what=what)
    user = session.get(User, share.recipient_user_id)
    actor = recipient_actor(user, source_address=source_address)
    if account_status(user) != "active":
        return None, None, _refuse(session, runtime=runtime, share=share, reason="account_unavailable", actor=actor,
                                   what=what)
    return share, actor, None


def open_bound_page(session: Session, *, runtime: Runtime, raw_token: str, device_cookie: str | None,
                    source_address: str | None) -> LinkOutcome:
    """A later visit from the browser the link is bound to: counted and audited as an open.

    A link not yet verified returns its share with no actor (the caller shows the form).
    """
    share, actor, refused = _bound(session, runtime, raw_token, device_cookie, source_address, "page")
    if refused:
        return refused
    if actor is None:
        audit.record(session, keys=runtime.keys, actor=_anonymous(source_address), action="share.verify_prompt",
                     object_type="share", object_id=share.id)
        return LinkOutcome(share=share)
    share.open_count += 1
    share.last_opened_at = clock.utcnow()
    _opened(session, runtime=runtime, share=share, actor=actor, what="page")
    return LinkOutcome(share=share, verified=True)


def media_for(session: Session, *, runtime: Runtime, raw_token: str, device_cookie: str | None,
              source_address: str | None) -> tuple[Path, str] | LinkOutcome:
    """The frozen file of a snapshot or clip share for its bound browser, or the refusal (audited)."""
    share, actor, refused = _bound(session, runtime, raw_token, device_cookie, source_address, "media")
    if refused:
        return refused
    if not share.media_path:
        return _refuse(session, runtime=runtime, share=share, reason="wrong_kind", actor=actor, what="media")
    path = shares_root(runtime) / share.media_path
    if share.media_deleted_at is not None or not path.exists():
        return _refuse(session, runtime=runtime, share=share, reason="media_gone", actor=actor, what="media")
    return path, share.media_type or "application/octet-stream"


@dataclass
class LiveSource:
    share_id: int
    camera_id: int
    url: str
    mask_png: Path | None


def live_source_for(session: Session, *, runtime: Runtime, raw_token: str, device_cookie: str | None,
                    source_address: str | None) -> LiveSource | LinkOutcome:
    """The camera stream a live share's bound browser may watch now (audited), or the refusal (audited)."""
    from rtcc.cameras.service import stream_url_for_ingest
    from rtcc.cameras.stream_urls import StreamSourceRefused
    from rtcc.video.analytics.privacy import mask_file_for

    share, actor, refused = _bound(session, runtime, raw_token, device_cookie, source_address, "live")
    if refused:
        return refused
    camera = session.get(Camera, share.camera_id)
    if share.kind != "live":
        return _refuse(session, runtime=runtime, share=share, reason="wrong_kind", actor=actor, what="live")
    if camera is None or not camera.main_stream_url or camera.kind == "private_registered":
        return _refuse(session, runtime=runtime, share=share, reason="media_gone", actor=actor, what="live")
    try:
        url = stream_url_for_ingest(camera, runtime=runtime)
    except StreamSourceRefused:  # a source the server may not open (its recorder status says why)
        return _refuse(session, runtime=runtime, share=share, reason="media_gone", actor=actor, what="live")
    audit.record(session, keys=runtime.keys, actor=actor, action="share.live", object_type="share", object_id=share.id,
                 case_number=share.case_number, details={"camera_id": camera.id})
    mask = mask_file_for(camera.id, camera.privacy_masks, runtime.settings.data_dir / "masks")
    return LiveSource(share_id=share.id, camera_id=camera.id, url=url, mask_png=mask)


def needs_same_site_reload(session: Session, *, raw_token: str) -> bool:
    """Whether a link already bound to a browser is live: then a visit without the cookie may just be a
    cross-site navigation (a tap in a mail or chat app), where SameSite=Strict cookies are not sent."""
    share = _find(session, raw_token)
    return share is not None and share.redeemed_at is not None and _ended(share, clock.utcnow()) is None


def live_still_valid(session: Session, *, share_id: int) -> str | None:
    """None while a live share may go on streaming; else 'revoked' or 'expired'."""
    share = session.get(FieldShare, share_id)
    if share is None:
        return "revoked"
    return _ended(share, clock.utcnow())

