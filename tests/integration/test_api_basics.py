"""What any API client notices first: health, the OpenAPI document, and clear errors."""

from rtcc import __version__


def test_healthz_reports_version_database_and_bus(client, runtime):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == __version__
    assert body["database"] == {"ok": True, "engine": runtime.database.dialect, "detail": "ok"}
    assert body["bus"]["ok"] is True and body["bus"]["adapter"] == "inprocess"


def test_healthz_says_503_when_the_database_is_gone(client, runtime):
    runtime.database.engine.dispose()
    runtime.database.engine.pool._creator = lambda *a: (_ for _ in ()).throw(OSError("connection refused"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False and response.json()["status"] == "degraded"


def test_openapi_lists_the_v1_routes_each_with_its_rule(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    api_paths = [p for p in paths if p.startswith("/api/v1/")]
    assert "/api/v1/auth/sign-in" in api_paths and "/api/v1/audit/records" in api_paths
    assert set(paths) - set(api_paths) == {"/healthz"}
    for path in api_paths:
        for method, operation in paths[path].items():
            assert operation.get("x-permission"), f"{method.upper()} {path} declares no permission"


def test_malformed_json_gets_422_with_a_code(client):
    response = client.post("/api/v1/auth/sign-in", content=b'{"username": "a", ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_a_missing_or_wrong_field_is_named(client):
    response = client.post("/api/v1/auth/sign-in", json={"username": "a", "banner_acknowledged": True})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and "'password'" in body["message"]
    assert body["errors"][0]["field"] == "password"
    typed = client.post("/api/v1/auth/sign-in", json={"username": "a", "password": "b", "banner_acknowledged": "perhaps"})
    assert typed.status_code == 422 and typed.json()["errors"][0]["field"] == "banner_acknowledged"


def test_oversized_bodies_get_413_with_or_without_content_length(client, runtime):
    limit = runtime.settings.max_request_bytes
    big = b'{"username": "' + b"a" * (limit + 10) + b'"}'
    declared = client.post("/api/v1/auth/sign-in", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

    def chunks():
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    streamed = client.post("/api/v1/auth/sign-in", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_unknown_routes_and_methods_answer_in_json(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = client.delete("/api/v1/auth/banner")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


def test_server_errors_carry_a_reference_not_a_stack_trace(runtime):
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    app = create_app(runtime=runtime)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "hunter2" not in response.text and "Traceback" not in response.text


def test_responses_carry_security_headers(client):
    headers = client.get("/healthz").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_the_camera_registry_is_limited_to_agency_and_groups(runtime, signed_in_as):
    from rtcc.sim.city import seed_city

    with runtime.database.session() as db:
        seed_city(db, runtime=runtime)
    everyone, _ = signed_in_as("analyst")
    all_cameras = everyone.get("/api/v1/cameras").json()
    assert len(all_cameras) == runtime.settings.demo_camera_count
    assert all("stream_credentials_encrypted" not in camera for camera in all_cameras)
    sunset, _ = signed_in_as("operator", camera_groups=["sunset-strip"])
    scoped = sunset.get("/api/v1/cameras").json()
    assert scoped and len(scoped) < len(all_cameras)
    assert all("sunset-strip" in camera["groups"] for camera in scoped)
    hidden = next(c for c in all_cameras if "sunset-strip" not in c["groups"])
    assert sunset.get(f"/api/v1/cameras/{hidden['id']}").status_code == 404
    outsider, _ = signed_in_as("analyst", agency="NY0300000")
    assert outsider.get("/api/v1/cameras").json() == []
