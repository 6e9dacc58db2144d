"""ALPR devices publishing to a real Mosquitto broker: reads land, garbage is counted, the consumer lives on."""

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.publish as publish
import pytest
from support import wait_until

from rtcc.core import clock

MQTT_URL = os.environ.get("RTCC_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def test_reads_published_over_mqtt_are_stored_once(runtime, tmp_path):
    from fastapi.testclient import TestClient

    from rtcc.alpr.models import PlateRead
    from rtcc.app import create_app

    runtime.settings.mqtt_url = MQTT_URL
    # Frigate's topic of this test alone: the broker is shared with every other run on this machine.
    runtime.settings.mqtt_frigate_topic = f"frigate/test-{uuid.uuid4().hex[:8]}/events"
    topic_prefix = "rtcc/alpr"
    with TestClient(create_app(runtime=runtime)) as client:
        subscriber = client.app.state.mqtt_reads
        try:
            wait_until(lambda: subscriber.stats.connected, timeout=15, what="the subscriber to connect")
        except AssertionError:
            pytest.fail(f"no MQTT broker at {MQTT_URL} (scripts/test-services.sh starts Mosquitto)")
        now = clock.utcnow()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # OpenALPR's epoch is in whole milliseconds
        epoch_ms = (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        ours = json.dumps({"reads": [{"plate": "6MQT001", "read_at": now.isoformat(), "camera_id": 7, "read_id": "m-1",
                                      "confidence": 0.97, "direction": "N"}]})
        group = json.dumps({"data_type": "alpr_group", "epoch_start": epoch_ms, "best_plate_number": "6MQT002",
                            "best_confidence": 90, "agent_uid": "a", "camera_id": 1, "best_uuid": "g-1", "best_region": "nv",
                            "travel_direction": 180, "gps_latitude": 36.17, "gps_longitude": -115.14})
        frigate = json.dumps({"type": "update", "after": {"id": "f-1", "camera": "gate", "recognized_license_plate": "6MQT004",
                                                          "recognized_license_plate_score": 0.81, "start_time": epoch_ms / 1000}})
        messages = [
            (f"{topic_prefix}/rtcc/gate-7", ours), (f"{topic_prefix}/rtcc/gate-7", ours),  # a resend
            (f"{topic_prefix}/openalpr/agent-a", group),
            (runtime.settings.mqtt_frigate_topic, frigate),
            (f"{topic_prefix}/rtcc/gate-7", "{ this is not json"),
            (f"{topic_prefix}/teletype/x", ours),
            (f"{topic_prefix}/rtcc/gate-7", json.dumps({"reads": [{"plate": "6MQT003", "camera_id": 7}]})),
        ]
        host = MQTT_URL.split("//")[1].split(":")[0]
        publish.multiple([{"topic": topic, "payload": payload, "qos": 1} for topic, payload in messages], hostname=host, port=1883)
        wait_until(lambda: subscriber.stats.messages >= len(messages), timeout=15,
                   what=lambda: f"{len(messages)} messages taken ({subscriber.stats})")
        stats = subscriber.stats
    assert (stats.messages, stats.stored, stats.duplicates, stats.rejected) == (7, 3, 1, 3)
    with runtime.database.session() as db:
        stored = {read.plate: (read.confidence, read.read_at, read.camera_id, read.device_id, read.region, read.direction,
                               read.latitude, read.longitude, read.source, read.source_read_id) for read in db.query(PlateRead)}
    assert stored == {
        "6MQT001": (0.97, now, 7, None, None, "N", None, None, "mqtt-rtcc", "m-1"),
        "6MQT002": (0.9, now, None, "openalpr:a:1", "us-nv", "S", 36.17, -115.14, "mqtt-openalpr", "g-1"),
        "6MQT004": (0.81, now, None, "frigate:gate", None, None, None, None, "mqtt-frigate", "f-1"),
    }
