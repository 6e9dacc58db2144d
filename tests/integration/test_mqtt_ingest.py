"""ALPR devices publishing to a real Mosquitto broker: reads land, garbage is counted, the consumer lives on."""

import json
import os
import time

import paho.mqtt.publish as publish
import pytest

from rtcc.core import clock

MQTT_URL = os.environ.get("RTCC_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def test_reads_published_over_mqtt_are_stored_once(runtime, tmp_path):
    from fastapi.testclient import TestClient

    from rtcc.alpr.models import PlateRead
    from rtcc.app import create_app

    runtime.settings.mqtt_url = MQTT_URL
    topic_prefix = "rtcc/alpr"
    with TestClient(create_app(runtime=runtime)) as client:
        subscriber = client.app.state.mqtt_reads
        deadline = time.monotonic() + 15
        while not subscriber.stats.connected:
            if time.monotonic() > deadline:
                pytest.fail(f"no MQTT broker at {MQTT_URL} (scripts/test-services.sh starts Mosquitto)")
            time.sleep(0.1)
        now = clock.utcnow()
        ours = json.dumps({"reads": [{"plate": "6MQT001", "read_at": now.isoformat(), "camera_id": 7, "read_id": "m-1"}]})
        group = json.dumps({"data_type": "alpr_group", "epoch_start": int(now.timestamp() * 1000), "best_plate_number": "6MQT002",
                            "best_confidence": 90, "agent_uid": "a", "camera_id": 1, "best_uuid": "g-1"})
        messages = [
            (f"{topic_prefix}/rtcc/gate-7", ours), (f"{topic_prefix}/rtcc/gate-7", ours),  # a resend
            (f"{topic_prefix}/openalpr/agent-a", group),
            (f"{topic_prefix}/rtcc/gate-7", "{ this is not json"),
            (f"{topic_prefix}/teletype/x", ours),
            (f"{topic_prefix}/rtcc/gate-7", json.dumps({"reads": [{"plate": "6MQT003", "camera_id": 7}]})),
        ]
        host = MQTT_URL.split("//")[1].split(":")[0]
        publish.multiple([{"topic": topic, "payload": payload, "qos": 1} for topic, payload in messages], hostname=host, port=1883)
        deadline = time.monotonic() + 15
        while subscriber.stats.messages < len(messages) and time.monotonic() < deadline:
            time.sleep(0.1)
        stats = subscriber.stats
    assert (stats.messages, stats.stored, stats.duplicates, stats.rejected) == (6, 2, 1, 3)
    with runtime.database.session() as db:
        assert sorted(r.plate for r in db.query(PlateRead)) == ["6MQT001", "6MQT002"]
