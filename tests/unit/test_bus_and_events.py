"""The in-process bus and event visibility, with fakes only."""

import asyncio

from rtcc.auth.scope import event_visible_to as visible_to
from rtcc.core.actor import Actor
from rtcc.core.bus.inprocess import InProcessBus
from rtcc.core.events import make_event


def test_slow_subscribers_lose_the_oldest_events_and_the_loss_is_counted():
    async def scenario():
        bus = InProcessBus(queue_size=10)
        await bus.start()
        slow, fast = bus.subscribe(), bus.subscribe()
        for n in range(25):
            bus.publish(make_event("camera.updated", camera_id=n))
        received = [(await fast.get()).data["camera_id"] for _ in range(10)]
        assert received == list(range(15, 25))  # newest kept
        assert slow.dropped == 15 and bus.stats()["dropped"] == 30
        slow.close()
        bus.publish(make_event("camera.updated", camera_id=99))
        assert bus.stats()["subscribers"] == 1

    asyncio.run(scenario())


def test_publishing_from_worker_threads_reaches_the_loop():
    async def scenario():
        bus = InProcessBus()
        await bus.start()
        subscription = bus.subscribe()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, bus.publish, make_event("user.created", username="x", role="analyst"))
        event = await asyncio.wait_for(subscription.get(), timeout=2)
        assert event.type == "user.created"

    asyncio.run(scenario())


def actor(role, agency="CA0199900", groups=None, permissions=("users.read", "cameras.view")):
    return Actor(via="session", username="u", role=role, agency_ori=agency, permissions=frozenset(permissions), camera_groups=groups)


def test_events_are_visible_by_permission_agency_and_camera_group():
    camera_event = make_event("camera.updated", agency_ori="CA0199900", camera_groups=["sunset-strip"], camera_id=1)
    assert visible_to(camera_event, actor("analyst"))
    assert not visible_to(camera_event, actor("analyst", agency="NY0300000"))
    assert not visible_to(camera_event, actor("analyst", groups=("melrose-district",)))
    assert visible_to(camera_event, actor("analyst", groups=("sunset-strip",)))
    assert not visible_to(camera_event, actor("analyst", permissions=("users.read",)))
    assert visible_to(camera_event, actor("admin", agency="NY0300000"))
    account_event = make_event("user.created", agency_ori="CA0199900", username="x", role="analyst")
    assert not visible_to(account_event, actor("analyst", permissions=("cameras.view",)))


def test_events_round_trip_through_json():
    event = make_event("user.locked", agency_ori="CA0199900", username="gus")
    again = type(event).from_json(event.to_json())
    assert again == event and again.subject() == "rtcc.user.locked"
