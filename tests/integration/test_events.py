"""Live events: the console's WebSocket gets what its user may see; NATS carries events between processes."""

import asyncio
import os
import uuid

import pytest
from starlette.websockets import WebSocketDisconnect

from support import create_person, sign_in
from rtcc.core.bus.nats import NatsBus
from rtcc.core.events import make_event

NATS_URL = os.environ.get("RTCC_TEST_NATS_URL", "nats://127.0.0.1:4222")


def next_event(websocket, event_type):
    while True:
        message = websocket.receive_json()
        if message["type"] == event_type:
            return message


def test_the_feed_carries_only_what_each_user_may_see(client, runtime):
    from fastapi.testclient import TestClient

    admin = sign_in(client, create_person(runtime, "root", "admin"))
    client.headers["x-csrf-token"] = admin.csrf_token
    analyst_client = TestClient(client.app)  # shares the running app and its bus
    sign_in(analyst_client, create_person(runtime, "ana", "analyst"))

    with client.websocket_connect("/api/v1/events?types=user.") as admin_feed, \
            analyst_client.websocket_connect("/api/v1/events") as analyst_feed:
        assert admin_feed.receive_json()["type"] == "hello"
        assert analyst_feed.receive_json()["type"] == "hello"
        assert client.post("/api/v1/users", json={"username": "newbie", "role": "analyst", "agency_ori": "CA0199900"}).status_code == 201
        created = next_event(admin_feed, "user.created")
        assert created["data"] == {"username": "newbie", "role": "analyst"}
        # The analyst may not read accounts, so never hears of them: the next thing it gets is
        # the camera change it may see.
        runtime.bus.publish(make_event("camera.updated", agency_ori="CA0199900", camera_groups=["traffic"], camera_id=7))
        assert analyst_feed.receive_json()["type"] == "camera.updated"
        runtime.bus.publish(make_event("camera.updated", agency_ori="NY0300000", camera_groups=["traffic"], camera_id=8))
        runtime.bus.publish(make_event("camera.updated", agency_ori="CA0199900", camera_groups=["traffic"], camera_id=9))
        assert analyst_feed.receive_json()["data"]["camera_id"] == 9  # the other agency's camera was filtered out


def test_the_feed_refuses_anonymous_and_unprivileged_callers(client, runtime):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/api/v1/events") as feed:
            feed.receive_json()
    assert refused.value.code == 4401
    person = create_person(runtime, "owner", "camera_owner")
    sign_in(client, person)
    with pytest.raises(WebSocketDisconnect) as forbidden:
        with client.websocket_connect("/api/v1/events") as feed:
            feed.receive_json()
    assert forbidden.value.code == 4403


@pytest.mark.nats
def test_nats_jetstream_carries_events_between_processes():
    """Two buses (as two server processes would have) on a real nats-server."""

    async def scenario():
        stream = f"RTCCTEST{uuid.uuid4().hex[:8].upper()}"
        publisher, listener = NatsBus(NATS_URL, stream=stream), NatsBus(NATS_URL, stream=stream)
        try:
            await publisher.start()
        except Exception as error:  # never skip: the test command starts nats-server
            pytest.fail(f"NATS is not reachable at {NATS_URL}: {error}")
        await listener.start()
        try:
            assert publisher.health() == (True, "ok")
            subscription = listener.subscribe()
            local = publisher.subscribe()
            await asyncio.sleep(0.2)
            event = make_event("user.created", agency_ori="CA0199900", username="newbie", role="analyst")
            publisher.publish(event)
            received = await asyncio.wait_for(subscription.get(), timeout=5)
            echoed = await asyncio.wait_for(local.get(), timeout=5)
            assert received.id == event.id == echoed.id and received.data == {"username": "newbie", "role": "analyst"}
            info = await publisher.jetstream.stream_info(stream)
            assert info.state.messages >= 1  # persisted in the stream, not just relayed
        finally:
            await publisher.jetstream.delete_stream(stream)
            await publisher.stop()
            await listener.stop()

    asyncio.run(scenario())


@pytest.mark.nats
def test_the_server_runs_on_nats(tmp_path):
    """`RTCC_BUS_URL=nats://...`: health reports the NATS adapter and the feed still works end to end."""
    from fastapi.testclient import TestClient

    from rtcc.app import create_app
    from rtcc.core.config import Settings
    from rtcc.core.runtime import build_runtime

    settings = Settings(data_dir=tmp_path, bus_url=NATS_URL, bus_stream=f"RTCCTEST{uuid.uuid4().hex[:8].upper()}")
    runtime = build_runtime(settings)
    with TestClient(create_app(runtime=runtime)) as test_client:
        health = test_client.get("/healthz").json()
        assert health["bus"] == {"ok": True, "adapter": "nats", "detail": "ok"}
        from rtcc.auth import service as accounts

        with runtime.database.session() as db:
            accounts.ensure_agency(db, runtime=runtime, ori="CA0199900", name="Test")
        admin = sign_in(test_client, create_person(runtime, "root", "admin"))
        test_client.headers["x-csrf-token"] = admin.csrf_token
        with test_client.websocket_connect("/api/v1/events?types=user.created") as feed:
            feed.receive_json()
            test_client.post("/api/v1/users", json={"username": "viaNATS".lower(), "role": "analyst", "agency_ori": "CA0199900"})
            assert next_event(feed, "user.created")["data"]["username"] == "vianats"
        test_client.portal.call(lambda: runtime.bus.jetstream.delete_stream(settings.bus_stream))
    runtime.close()
