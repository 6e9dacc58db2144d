"""The simulated city's periodic job (`rtcc demo` only): a call for service every so often."""

from __future__ import annotations

from rtcc.core.jobs import Job, JobContext, OffJob

CALL_INTERVAL_JITTER = 0.4  # each interval between 60 % and 140 % of demo_call_interval_seconds


def declare_jobs(context: JobContext) -> list[Job | OffJob]:
    """Simulated calls, when the demo runs and demo_call_interval_seconds is above 0 (switched off otherwise)."""
    interval = context.runtime.settings.demo_call_interval_seconds
    description = "The simulated city sends a call for service, as a CAD would."
    if not context.simulated_calls or interval <= 0:
        switch = "RTCC_DEMO_CALL_INTERVAL_SECONDS above 0" if context.simulated_calls else "`rtcc demo`"
        return [OffJob(domain="sim", name="demo_calls", interval_seconds=interval, switched_on_by=switch,
                       description=description)]
    from rtcc.sim.calls import FIRST_CALL_DELAY_SECONDS, SimulatedCalls

    city = SimulatedCalls(context.runtime, locator=context.camera_locator)

    def send_call() -> str:
        simulated, _ = city.send_one()
        return f"call {simulated.values['call_id']} ({simulated.kind})"

    return [Job(domain="sim", name="demo_calls", interval_seconds=interval, run=send_call,
                first_run_delay_seconds=min(FIRST_CALL_DELAY_SECONDS, interval), jitter=CALL_INTERVAL_JITTER,
                description=description)]
