"""Releases' job: at start, and now and then after, renders cut off by a restart or a crash are marked interrupted."""

from __future__ import annotations

from rtcc.core.jobs import Job, JobContext

# At start is what matters (a restart is what cuts a render off); the runs after it find a render of another
# process on this data dir that crashed. Finding none costs one query.
RECOVERY_INTERVAL_SECONDS = 600


def declare_jobs(context: JobContext) -> list[Job]:
    runtime = context.runtime

    def recover() -> str:
        from rtcc.governance.releases import rendering

        recovered = rendering.recover_interrupted_renders(runtime)
        if not recovered:
            return "no render cut off"
        return f"{len(recovered)} render(s) cut off, now interrupted: release {', '.join(map(str, recovered))}"

    # before_serving: the console shows the true status from the first request on.
    return [Job(domain="governance", name="release_render_recovery", interval_seconds=RECOVERY_INTERVAL_SECONDS,
                run=recover, before_serving=True,
                description="Mark release renders whose process is gone (a restart, a crash) interrupted; "
                            "remove their partial copies.")]
