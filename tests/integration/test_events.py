"""Live events: the console's WebSocket gets what its user may see; NATS carries events between processes."""

import asyncio
import os
import queue
import threading
import time
import uuid

import nats
import pytest
from starlette.websockets import WebSocketDisconnect

from support import create_person, sign_in, wait_until_async
from rtcc.core.bus.nats import NatsBus
from rtcc.core.events import make_event

NATS_URL = os.environ.get("RTCC_TEST_NATS_URL", "nats://127.0.0.1:4222")
FEED_TIMEOUT_S = 10


def receive_json_within(websocket, timeout: float = FEED_TIMEOUT_S) -> dict:
    """The feed's next message; fails after `timeout` instead of blocking the run for good on a missing event."""
    outcome: queue.Queue = queue.Queue()

    def receive() -> None:
        try:
            outcome.put((True, websocket.receive_json()))
        except BaseException as error:  # handed to the test thread
            outcome.put((False, error))

    threading.Thread(target=receive, daemon=True).start()  # a daemon: one left waiting never holds up the run
    try:
        received, value = outcome.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no message on the event feed within {timeout:g} s") from None
    if not received:
        raise value
    return value


def next_event(websocket, event_type, timeout: float = FEED_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        message = receive_json_within(websocket, max(0.1, deadline - time.monotonic()))
        if message["type"] == event_type:
            return message


def nats_names() -> tuple[str, str]:
    """A stream and subject prefix of this test's own: JetStream gives a subject to one stream only, so a run that
    shared rtcc.> with a server, another engineer's run or a stream a crashed run left behind could not start."""
    token = uuid.uuid4().hex[:8]
    return f"RTCCTEST{token.upper()}", f"rtcctest{token}"


async def delete_stream(stream: str) -> None:
    """Remove a test's stream over a connection of its own, whatever state the buses under test are in."""
    connection = await nats.connect(NATS_URL, connect_timeout=5)
    try:
        await connection.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await connection.close()


def test_the_feed_carries_only_what_each_user_may_see(client, runtime):
    from fastapi.testclient import TestClient

    admin = sign_in(client, create_person(runtime, "root", "admin"))
    client.headers["x-csrf-token"] = admin.csrf_token
    analyst_client = TestClient(client.app)  # shares the running app and its bus
    sign_in(analyst_client, create_person(runtime, "ana", "analyst"))

    with client.websocket_connect("/api/v1/events?types=user.") as admin_feed, \
            analyst_client.websocket_connect("/api/v1/events") as analyst_feed:
        assert receive_json_within(admin_feed)["type"] == "hello"
        assert receive_json_within(analyst_feed)["type"] == "hello"
        assert client.post("/api/v1/users", json={"username": "newbie", "role": "analyst", "agency_ori": "CA0199900"}).status_code == 201
        created = next_event(admin_feed, "user.created")
        assert created["data"] == {"username": "newbie", "role": "analyst"}
        # The analyst may not read accounts, so never hears of them: the next thing it gets is
        # the camera change it may see.
        runtime.bus.publish(make_event("camera.updated", agency_ori="CA0199900", camera_groups=["traffic"], camera_id=7))
        assert receive_json_within(analyst_feed)["type"] == "camera.updated"
        runtime.bus.publish(make_event("camera.updated", agency_ori="NY0300000", camera_groups=["traffic"], camera_id=8))
        runtime.bus.publish(make_event("camera.updated", agency_ori="CA0199900", camera_groups=["traffic"], camera_id=9))
        assert receive_json_within(analyst_feed)["data"]["camera_id"] == 9  # the other agency's camera was filtered out


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
        stream, prefix = nats_names()
        publisher = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix)
        listener = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix)
        try:
            try:
                await publisher.start()
            except Exception as error:  # never skip: the test command starts nats-server
                pytest.fail(f"NATS is not reachable at {NATS_URL}: {error}")
            await listener.start()
            assert publisher.health() == (True, "ok")
            subscription = listener.subscribe()
            local = publisher.subscribe()
            # Both processes' consumers exist before the event goes out (they deliver only what comes after them).
            await wait_until_async(lambda: consumers(publisher, stream), timeout=5, what="two consumers on the stream")
            event = make_event("user.created", agency_ori="CA0199900", username="newbie", role="analyst")
            publisher.publish(event)
            received = await asyncio.wait_for(subscription.get(), timeout=5)
            echoed = await asyncio.wait_for(local.get(), timeout=5)
            assert received.id == event.id == echoed.id and received.data == {"username": "newbie", "role": "analyst"}
            info = await publisher.jetstream.stream_info(stream)
            assert info.state.messages >= 1  # persisted in the stream, not just relayed
            assert info.config.subjects == [f"{prefix}.>"]
        finally:
            await publisher.stop()
            await listener.stop()
            await delete_stream(stream)

    asyncio.run(scenario())


async def consumers(bus: NatsBus, stream: str) -> bool:
    return (await bus.jetstream.stream_info(stream)).state.consumer_count >= 2


@pytest.mark.nats
def test_two_deployments_share_a_nats_server_each_hearing_only_its_own_events():
    """Two servers' buses, each with its own stream and subject prefix, start side by side on one nats-server."""

    async def scenario():
        (first_stream, first_prefix), (second_stream, second_prefix) = nats_names(), nats_names()
        first = NatsBus(NATS_URL, stream=first_stream, subject_prefix=first_prefix)
        second = NatsBus(NATS_URL, stream=second_stream, subject_prefix=second_prefix)
        try:
            await first.start()
            await second.start()  # refused when both claim the same subjects
            heard_by_first, heard_by_second = first.subscribe(), second.subscribe()
            mine = make_event("camera.updated", agency_ori="CA0199900", camera_id=1)
            first.publish(mine)
            assert (await asyncio.wait_for(heard_by_first.get(), timeout=5)).id == mine.id  # stored in the first stream
            theirs = make_event("camera.updated", agency_ori="NY0300000", camera_id=2)
            second.publish(theirs)
            # Had the first event reached the second stream it would have come first: streams deliver in order.
            assert (await asyncio.wait_for(heard_by_second.get(), timeout=5)).id == theirs.id
            assert (await first.jetstream.stream_info(second_stream)).state.messages == 1
        finally:
            await first.stop()
            await second.stop()
            await delete_stream(first_stream)
            await delete_stream(second_stream)

    asyncio.run(scenario())


@pytest.mark.nats
def test_the_server_runs_on_nats(tmp_path):
    """`RTCC_BUS_URL=nats://...`: health reports the NATS adapter and the feed still works end to end."""
    from fastapi.testclient import TestClient

    from rtcc.app import create_app
    from rtcc.settings import Settings
    from rtcc.core.runtime import build_runtime

    stream, prefix = nats_names()
    settings = Settings(data_dir=tmp_path, bus_url=NATS_URL, bus_stream=stream, bus_subject_prefix=prefix)
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime)) as test_client:
            health = test_client.get("/healthz").json()
            assert health["bus"] == {"ok": True, "adapter": "nats", "detail": "ok"}
            from rtcc.auth import service as accounts

            with runtime.database.session() as db:
                accounts.ensure_agency(db, runtime=runtime, ori="CA0199900", name="Test")
            admin = sign_in(test_client, create_person(runtime, "root", "admin"))
            test_client.headers["x-csrf-token"] = admin.csrf_token
            with test_client.websocket_connect("/api/v1/events?types=user.created") as feed:
                assert receive_json_within(feed)["type"] == "hello"
                created = test_client.post("/api/v1/users", json={"username": "vianats", "role": "analyst",
                                                                  "agency_ori": "CA0199900"})
                assert created.status_code == 201, created.text
                assert next_event(feed, "user.created")["data"]["username"] == "vianats"
    finally:
        runtime.close()
        asyncio.run(delete_stream(stream))
