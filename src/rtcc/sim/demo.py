"""The demo: a simulated city and an admin account, created once in the data dir."""

from __future__ import annotations

import os

from rtcc.auth import service as accounts
from rtcc.auth import totp
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.sim.city import seed_city

DEMO_ADMIN = "admin"
CREDENTIALS_FILE = "demo-admin-credentials.txt"


def prepare_demo(runtime: Runtime) -> str:
    """Seed the city and admin account if missing; return what to print about signing in."""
    settings = runtime.settings
    url = f"http://{settings.host}:{settings.port}"
    with runtime.database.session() as db:
        agency, cameras_added = seed_city(db, runtime=runtime)
        new = None
        if accounts.find_user(db, username=DEMO_ADMIN) is None:
            new = accounts.create_user(db, runtime=runtime, actor=SYSTEM, username=DEMO_ADMIN, role="admin",
                                       agency_ori=agency.ori, display_name="Demo administrator")
    credentials_path = settings.data_dir / CREDENTIALS_FILE
    lines = [
        "",
        f"OpenRTCC demo: {url}  (data in {settings.data_dir.resolve()})",
        f"Simulated city: agency {agency.ori}" + (f", {cameras_added} cameras added" if cameras_added else ""),
    ]
    if new is not None:
        handover = (
            f"username:            {DEMO_ADMIN}\n"
            f"one-time password:   {new.one_time_password}   (you will choose your own at first sign-in)\n"
            f"authenticator key:   {new.totp_secret}   (TOTP, 6 digits, 30 s)\n"
            f"otpauth URI:         {new.totp_uri}\n"
        )
        fd = os.open(credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(handover)
        lines += [
            "",
            "Sign in at " + url + "/sign-in :",
            handover,
            "Scan this with an authenticator app, or type the key (the first sign-in also shows it):",
            totp.qr_text(new.totp_uri),
            f"(Saved to {credentials_path} until you sign in; mode 0600.)",
        ]
    else:
        lines += [
            f"Sign in at {url}/sign-in as '{DEMO_ADMIN}' with the password you chose.",
            f"First-start credentials, if you have not signed in yet: {credentials_path}",
            f"Forgot them?  rtcc user reset {DEMO_ADMIN} --data-dir {settings.data_dir}",
        ]
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
            if index == 0 and "alpr" not in (camera.groups or []):
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
