"""The camera registry as an admin runs it: add, change, import in bulk, credentials kept secret."""

import json

from sqlalchemy import text

CSV_HEADER = "external_id,name,kind,latitude,longitude,heading_deg,fov_deg,range_m,groups,main_stream_url\n"


def test_an_admin_registers_a_camera_whose_credentials_never_come_back(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    created = admin.post("/api/v1/cameras", json={
        "name": "Sunset & Vine", "kind": "city_fixed", "latitude": 34.0983, "longitude": -118.3267,
        "heading_deg": 90, "fov_deg": 70, "range_m": 100, "groups": ["sunset-strip"],
        "main_stream_url": "rtsp://operator:s3cr%40t@127.0.0.1:9/stream1", "sub_stream_url": "rtsp://127.0.0.1:9/stream2",
    })
    assert created.status_code == 201, created.text
    camera = created.json()
    assert camera["main_stream_url"] == "rtsp://127.0.0.1:9/stream1"
    assert camera["has_stream_credentials"] is True
    assert "s3cr" not in created.text and "operator" not in created.text
    with runtime.database.engine.connect() as connection:
        stored = connection.execute(text("SELECT main_stream_url, stream_credentials_encrypted FROM cameras WHERE id = :id"),
                                    {"id": camera["id"]}).one()
    assert "s3cr" not in stored[0] and "s3cr" not in stored[1]

    from rtcc.cameras import service
    from rtcc.cameras.models import Camera

    with runtime.database.session() as db:
        ingest_url = service.stream_url_for_ingest(db.get(Camera, camera["id"]), runtime=runtime)
    assert ingest_url == "rtsp://operator:s3cr%40t@127.0.0.1:9/stream1"

    changed = admin.patch(f"/api/v1/cameras/{camera['id']}", json={"heading_deg": 180, "record_mode": "events"})
    assert changed.status_code == 200 and changed.json()["heading_deg"] == 180 and changed.json()["record_mode"] == "events"
    audit_rows = admin.get("/api/v1/audit/verify")  # admins may verify, not read; the records are checked below
    assert audit_rows.json()["ok"] is True
    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        update = audit.search(db, query=audit.AuditQuery(action="camera.update"))[0]
    assert json.loads(update.details)["changed"] == ["heading_deg", "record_mode"]
    assert admin.delete(f"/api/v1/cameras/{camera['id']}").status_code == 204
    assert admin.get(f"/api/v1/cameras/{camera['id']}").status_code == 404


def test_bad_camera_input_is_refused_naming_the_field(signed_in_as):
    admin, _ = signed_in_as("admin")
    outside = admin.post("/api/v1/cameras", json={"name": "x", "kind": "city_fixed", "latitude": 123, "longitude": 0})
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "latitude"
    kind = admin.post("/api/v1/cameras", json={"name": "x", "kind": "webcam", "latitude": 1, "longitude": 0})
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "kind"
    scheme = admin.post("/api/v1/cameras", json={"name": "x", "kind": "city_fixed", "latitude": 1, "longitude": 0,
                                                  "main_stream_url": "ftp://cam/1"})
    assert scheme.status_code == 422 and scheme.json()["code"] == "invalid_stream_url"
    registered = admin.post("/api/v1/cameras", json={"name": "x", "kind": "private_registered", "latitude": 1, "longitude": 0,
                                                      "main_stream_url": "rtsp://cam/1"})
    assert registered.status_code == 422


def test_csv_import_keeps_good_lines_reports_bad_ones_and_updates_on_reimport(signed_in_as):
    admin, _ = signed_in_as("admin")
    body = CSV_HEADER + (
        "A-1,Main & 1st,city_fixed,34.09,-118.36,90,60,80,sunset-strip;traffic,rtsp://u:p@127.0.0.1:9/s\n"
        "A-2,Main & 2nd,city_ptz,34.091,-118.361,0,360,150,,\n"
        "A-3,Broken,city_fixed,not-a-number,-118.36,0,60,80,,\n"
        "A-4,Too many,city_fixed,34.0,-118.0,0,60,80,,,extra\n"
        "A-5,No kind,,34.0,-118.0,0,60,80,,\n"
        "A-6,Main & 6th,private_registered,34.092,-118.362,0,60,80,,\n"
    )
    report = admin.post("/api/v1/cameras/import", content=body, headers={"content-type": "text/csv"})
    assert report.status_code == 200, report.text
    result = report.json()
    assert (result["created"], result["rejected"]) == (3, 3)
    assert [error["line"] for error in result["errors"]] == [4, 5, 6]
    assert result["errors"][0]["field"] == "latitude"
    cameras = {c["external_id"]: c for c in admin.get("/api/v1/cameras").json()}
    assert cameras["A-1"]["groups"] == ["sunset-strip", "traffic"] and cameras["A-1"]["has_stream_credentials"]

    again = admin.post("/api/v1/cameras/import", content=CSV_HEADER + "A-1,Main & First,city_fixed,34.09,-118.36,90,60,80,,\n"
                       "A-2,Main & 2nd,city_ptz,34.091,-118.361,0,360,150,,\n", headers={"content-type": "text/csv"}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)
    assert {c["external_id"]: c for c in admin.get("/api/v1/cameras").json()}["A-1"]["name"] == "Main & First"


def test_plate_reading_is_switched_per_camera_through_the_api_and_both_imports(signed_in_as):
    admin, _ = signed_in_as("admin")
    made = admin.post("/api/v1/cameras", json={"name": "Plain", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36})
    assert made.status_code == 201 and made.json()["reads_plates"] is False  # opt-in
    switched = admin.patch(f"/api/v1/cameras/{made.json()['id']}", json={"reads_plates": True})
    assert switched.status_code == 200 and switched.json()["reads_plates"] is True
    assert admin.patch(f"/api/v1/cameras/{made.json()['id']}", json={"reads_plates": None}).status_code == 422
    csv_lines = ("external_id,name,kind,latitude,longitude,reads_plates\n"
                 "R-1,Reads,city_fixed,34.09,-118.36,true\nR-2,Does not,city_fixed,34.09,-118.36,no\n"
                 "R-3,Unsaid,city_fixed,34.09,-118.36,\nR-4,Garbled,city_fixed,34.09,-118.36,perhaps\n")
    report = admin.post("/api/v1/cameras/import", content=csv_lines, headers={"content-type": "text/csv"}).json()
    assert report["created"] == 3 and report["errors"][0]["line"] == 5 and report["errors"][0]["field"] == "reads_plates"
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-118.36, 34.09]},
         "properties": {"external_id": "R-5", "name": "From GeoJSON", "kind": "city_fixed", "reads_plates": True}}]}
    assert admin.post("/api/v1/cameras/import", content=json.dumps(collection),
                      headers={"content-type": "application/geo+json"}).json()["created"] == 1
    cameras = {c["external_id"]: c["reads_plates"] for c in admin.get("/api/v1/cameras").json() if c["external_id"]}
    assert cameras == {"R-1": True, "R-2": False, "R-3": False, "R-5": True}


def test_geojson_import_and_garbage_uploads(signed_in_as):
    admin, _ = signed_in_as("admin")
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-118.36, 34.09]},
         "properties": {"external_id": "G-1", "name": "Park cam", "kind": "city_fixed", "heading_deg": 45}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-118.37, 34.08]},
         "properties": {"external_id": "G-3", "name": "Bad range", "kind": "city_fixed", "range_m": -5}},
    ]}
    result = admin.post("/api/v1/cameras/import", content=json.dumps(collection),
                        headers={"content-type": "application/geo+json"}).json()
    assert result["created"] == 1 and [e["feature"] for e in result["errors"]] == [2, 3]
    garbage = admin.post("/api/v1/cameras/import", content=b"\x00\xff\xfe{{{", headers={"content-type": "application/geo+json"})
    assert garbage.status_code == 422 and garbage.json()["code"] == "invalid_import"
    wrong_type = admin.post("/api/v1/cameras/import", content=b"x", headers={"content-type": "image/png"})
    assert wrong_type.status_code == 415


def test_a_big_import_is_accepted_past_the_ordinary_body_limit(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    lines = [f"B-{n},Camera {n} at the corner of a long boulevard,city_fixed,{34 + n / 1e5:.5f},-118.3,{n % 360},60,80,"
             f"corridor-{n % 7};traffic,rtsp://127.0.0.1:9/cam{n}\n" for n in range(9000)]
    body = CSV_HEADER + "".join(lines)
    assert len(body) > runtime.settings.max_request_bytes
    result = admin.post("/api/v1/cameras/import", content=body, headers={"content-type": "text/csv"}).json()
    assert result["created"] == 9000 and result["rejected"] == 0


def test_which_cameras_see_a_point_and_which_stand_near_it(runtime, signed_in_as):
    from rtcc.cameras.geometry import offset_point

    admin, _ = signed_in_as("admin")
    facing_east = admin.post("/api/v1/cameras", json={"name": "east", "kind": "city_fixed", "latitude": 34.0900,
                                                      "longitude": -118.3600, "heading_deg": 90, "fov_deg": 60, "range_m": 100}).json()
    facing_west = admin.post("/api/v1/cameras", json={"name": "west", "kind": "city_fixed", "latitude": 34.0900,
                                                      "longitude": -118.3598, "heading_deg": 270, "fov_deg": 60, "range_m": 100}).json()
    latitude, longitude = offset_point(34.0900, -118.3600, 90, 40)  # 40 m east of 'east', ~22 m east of 'west'
    seeing = admin.get("/api/v1/cameras/seeing", params={"latitude": latitude, "longitude": longitude}).json()
    assert [hit["camera"]["id"] for hit in seeing] == [facing_east["id"]]  # 'west' is closer but looks away
    assert 39 < seeing[0]["distance_m"] < 41
    near = admin.get("/api/v1/cameras/near", params={"latitude": latitude, "longitude": longitude, "radius_m": 50}).json()
    assert [(hit["camera"]["id"], hit["sees_point"]) for hit in near] == [(facing_west["id"], False), (facing_east["id"], True)]
    assert len(facing_east["view_cone"]) >= 4 and facing_east["view_cone"][0] == facing_east["view_cone"][-1]

    admin.patch(f"/api/v1/cameras/{facing_west['id']}", json={"heading_deg": 90})  # the index follows the registry
    seeing = admin.get("/api/v1/cameras/seeing", params={"latitude": latitude, "longitude": longitude}).json()
    assert [hit["camera"]["id"] for hit in seeing] == [facing_west["id"], facing_east["id"]]
    sunset_only, _ = signed_in_as("operator", camera_groups=["sunset-strip"])
    assert sunset_only.get("/api/v1/cameras/seeing", params={"latitude": latitude, "longitude": longitude}).json() == []
