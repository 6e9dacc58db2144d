"""The demo: a simulated city and its accounts (admin, analyst, officer), created once in the data dir."""

from __future__ import annotations

import os

from rtcc.auth import service as accounts
from rtcc.auth import totp
from rtcc.auth.handover import CREDENTIALS_FILE, forget_handover, handover_lines
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.sim.city import seed_city
from rtcc.sim.demo_retention import seed_retention
from rtcc.sim.demo_policy import seed_partners

DEMO_ADMIN = "admin"
# (username, role, display name, what it is for). The analyst works the watch floor; the admin, by
# design, has no live video or plate alerts (separation of duties, see rtcc.auth.permissions).
DEMO_ACCOUNTS = (
    ("analyst", "analyst", "Demo watch-floor analyst", "watch floor: map, video wall, incidents, plate alerts  <- start here"),
    ("officer", "field_officer", "Demo field officer", "field officer: incidents and live video, as on a phone"),
    ("supervisor", "supervisor", "Demo supervisor", "legal holds (/console/retention), audit review, hotlists"),
    (DEMO_ADMIN, "admin", "Demo administrator", "accounts, cameras, settings (no live video: separation of duties)"),
)
QR_FOR = "analyst"
# No admin has enrolled yet when the demo starts, so the way back from a lockout is the server's own command.
RECOVERY_COMMAND = ".venv/bin/rtcc user reset USERNAME"


def prepare_demo(runtime: Runtime) -> str:
    """Seed the city and the demo accounts if missing; return what to print about signing in."""
    settings = runtime.settings
    url = f"http://{settings.host}:{settings.port}"
    created = {}
    with runtime.database.session() as db:
        agency, cameras_added = seed_city(db, runtime=runtime)
        seed_retention(db, runtime=runtime)  # a legal hold the first purge skips: see demo_retention.py
        seed_partners(db, runtime=runtime, home_ori=agency.ori)  # sharing outside the agency: see demo_policy.py
        enrolled = []
        for username, role, display_name, _ in DEMO_ACCOUNTS:
            existing = accounts.find_user(db, username=username)
            if existing is None:
                created[username] = accounts.create_user(db, runtime=runtime, actor=SYSTEM, username=username, role=role,
                                                         agency_ori=agency.ori, display_name=display_name)
            elif existing.mfa_enrolled_at is not None:
                enrolled.append(username)
    credentials_path = settings.data_dir / CREDENTIALS_FILE
    for username in enrolled:  # enrolled before this was removed at enrolment, or while the file was elsewhere
        forget_handover(settings.data_dir, username)
    lines = [
        "",
        f"OpenRTCC demo: {url}  (data in {settings.data_dir.resolve()})",
        f"Simulated city: agency {agency.ori}" + (f", {cameras_added} cameras added" if cameras_added else ""),
    ]
    if settings.demo_call_interval_seconds > 0:
        lines.append(f"Simulated calls for service arrive about every {settings.demo_call_interval_seconds:g} s (the first "
                     "in a few seconds); the serious ones open incidents and dock the cameras that see them.")
    if created:
        fd = os.open(credentials_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as handle:
            handle.write("".join(handover_lines(username, new) + "\n" for username, new in created.items()))
        os.chmod(credentials_path, 0o600)
        lines += ["", f"Sign in at {url}/sign-in as 'analyst' for the watch floor. New demo accounts:", ""]
        for username, _, _, purpose in DEMO_ACCOUNTS:
            if username in created:
                lines += [f"{username} — {purpose}", handover_lines(username, created[username])]
        if QR_FOR in created:
            lines += [f"Scan this with an authenticator app for '{QR_FOR}', or type the key (the first sign-in also shows it):",
                      totp.qr_text(created[QR_FOR].totp_uri)]
        lines.append(f"(Saved to {credentials_path}, mode 0600; each account's lines go once it has enrolled.)")
    existing = [username for username, *_ in DEMO_ACCOUNTS if username not in created]
    if existing:
        lines += [
            f"Sign in at {url}/sign-in as {', '.join(repr(name) for name in existing)} with the password you chose"
            + (" ('analyst' for the watch floor)." if "analyst" in existing else "."),
        ]
        if credentials_path.exists():
            lines.append(f"First-start credentials of accounts that have not signed in yet: {credentials_path}")
    lines.append(f"Forgot a password or locked out?  {RECOVERY_COMMAND} --data-dir {settings.data_dir.resolve()}  "
                 "(a fresh one-time password; the account is unlocked and enrols its authenticator again)")
    return "\n".join(lines)


def start_simulated_cameras(settings):
    """Start the demo's live RTSP cameras (None when switched off or GStreamer is missing)."""
    if settings.demo_live_cameras <= 0:
        return None
    import logging

    from rtcc.sim.cameras import MediaDependencyError, SimulatedCameras

    try:  # port 0: any free port, so a second demo does not collide with the first
        return SimulatedCameras(settings.demo_live_cameras, 0, mode="auto",
                                cache_dir=settings.data_dir / "sim-cache").start()
    except (MediaDependencyError, RuntimeError, OSError) as error:
        logging.getLogger(__name__).warning("simulated cameras not started: %s", error)
        return None


def attach_live_cameras(runtime: Runtime, urls: list[str], sub_urls: list[str], *, planted_plate: str | None = None) -> None:
    """Point the first city cameras at the simulated streams (ports change between runs), read their plates,
    and plant one of the simulated vehicles on a demo hotlist so the plate-alert story can be followed."""
    from sqlalchemy import select

    from rtcc.cameras.models import Camera

    with runtime.database.session() as db:
        streaming = db.execute(
            select(Camera).where(Camera.kind.in_(("city_fixed", "city_ptz"))).order_by(Camera.id).limit(len(urls))
        ).scalars().all()
        for index, (camera, url, sub_url) in enumerate(zip(streaming, urls, sub_urls)):
            camera.main_stream_url, camera.sub_stream_url, camera.record_mode = url, sub_url, "continuous"
            # Plate reading costs ~0.3 s of CPU per frame: on a 2-core demo box, one camera reads plates.
            if index == 0:
                camera.reads_plates = True
                if "alpr" not in (camera.groups or []):  # the group stays: operators scoped to it see the camera
                    camera.groups = [*(camera.groups or []), "alpr"]
    if planted_plate:
        plant_demo_hotlist(runtime, planted_plate)


def plant_demo_hotlist(runtime: Runtime, plate: str) -> None:
    """A demo hotlist holding one plate that drives past a simulated camera (created once)."""
    from sqlalchemy import select

    from rtcc.alpr import hotlists
    from rtcc.alpr.models import Hotlist

    with runtime.database.session() as db:
        if db.execute(select(Hotlist).where(Hotlist.name == "Demo BOLO")).scalar_one_or_none():
            return
        hotlist = hotlists.create_hotlist(db, runtime=runtime, actor=SYSTEM, name="Demo BOLO", source="simulated city",
                                          priority=1, agency_ori=runtime.settings.demo_agency_ori,
                                          description="A planted plate for the demo's alert story.")
        hotlists.import_entries(db, runtime=runtime, actor=SYSTEM, hotlist_id=hotlist.id, format="json", text=(
            f'[{{"plate": "{plate}", "state": "CA", "reason": "STOLEN VEHICLE (demo)", "make": "SIM", "colour": "see crop"}}]'))


SIMULATED_CAMERA_NETWORK = "127.0.0.0/8"


def allow_simulated_cameras(settings) -> None:
    """The demo's cameras stream on loopback, which stream URLs may not reach unless allow-listed; the
    server's own HTTP port stays refused all the same (rtcc.cameras.stream_urls)."""
    if SIMULATED_CAMERA_NETWORK not in settings.camera_network_allowlist:
        settings.camera_network_allowlist = [*settings.camera_network_allowlist, SIMULATED_CAMERA_NETWORK]
