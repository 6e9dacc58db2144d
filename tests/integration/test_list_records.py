"""Looking at a list of accounts or plate alerts leaves one audit record, wherever a person looks: the API, the
console or the CLI; it names the way in, the filter chosen and how many rows the person was shown."""

import json
import re

from factories import make_camera, make_hotlist, make_user
from support import OTHER_AGENCY, TEST_AGENCY
from typer.testing import CliRunner

from rtcc.audit import service as audit
from rtcc.auth import service as accounts
from rtcc.cli import app as cli
from rtcc.core import clock


def looks(runtime, action):
    """The records of this action, oldest first, as (who, query terms, details); the CLI is cli:<system user>."""
    with runtime.database.session() as db:
        found = audit.search(db, query=audit.AuditQuery(action=action), limit=100)
    return [(record.username.split(":")[0], json.loads(record.query_terms) if record.query_terms else None, json.loads(record.details))
            for record in reversed(found)]


def test_each_look_at_the_accounts_is_recorded_once_with_what_was_shown(runtime, signed_in_as):
    make_user(runtime, role="analyst", agency=OTHER_AGENCY)  # outside a supervisor's scope
    supervisor, person = signed_in_as("supervisor")

    analysts = supervisor.get("/api/v1/users", params={"role": "analyst"}).json()
    assert analysts == []  # the analyst of the other agency is not the supervisor's to see
    listed = supervisor.get("/api/v1/users").json()
    assert {user["agency_ori"] for user in listed} == {TEST_AGENCY}
    page = supervisor.get("/console/users")
    assert page.status_code == 200 and person.username in page.text
    result = CliRunner().invoke(cli, ["user", "list", "--data-dir", str(runtime.settings.data_dir)],
                                env={"RTCC_DATABASE_URL": runtime.settings.effective_database_url})
    assert result.exit_code == 0, result.output
    with runtime.database.session() as db:
        everyone = len(accounts.list_users(db))

    assert looks(runtime, "user.list") == [
        (person.username, {"role": "analyst"}, {"count": 0}),
        (person.username, None, {"count": len(listed)}),
        (person.username, None, {"count": len(listed), "via": "console"}),
        ("cli", None, {"count": everyone, "via": "cli"}),
    ]



def test_the_accounts_shown_again_after_a_console_create_are_a_look_on_record(runtime, signed_in_as):
    admin, person = signed_in_as("admin")
    page = admin.post("/console/users", data={"username": "newanalyst", "role": "analyst", "agency_ori": TEST_AGENCY,
                                              "csrf_token": person.csrf_token})
    assert page.status_code == 200 and 'data-testid="new-credentials"' in page.text
    shown = re.findall(r'<tr data-username="([^"]+)"', page.text)
    assert "newanalyst" in shown and person.username in shown
    assert looks(runtime, "user.list") == [(person.username, None, {"count": len(shown), "via": "console"})]

def test_each_look_at_the_alerts_is_recorded_once_with_what_was_shown(runtime, signed_in_as):
    make_hotlist(runtime, plates=["8XYZ777", "7ABC123"])
    camera_id = make_camera(runtime, name="Santa Monica at La Cienega")
    operator, _ = signed_in_as("operator")
    now = clock.utcnow().isoformat()
    sent = operator.post("/api/v1/alpr/reads", json={"reads": [
        {"plate": plate, "read_at": now, "confidence": 0.93, "camera_id": camera_id, "read_id": f"look-{plate}"}
        for plate in ("8XYZ777", "7ABC123")]})
    assert sent.json()["alerts"] == 2
    analyst, person = signed_in_as("analyst")
    newest = analyst.get("/api/v1/alpr/alerts").json()
    assert [alert["plate"] for alert in newest] == ["7ABC123", "8XYZ777"]
    analyst.post(f"/api/v1/alpr/alerts/{newest[0]['id']}/acknowledge")

    fresh = analyst.get("/api/v1/alpr/alerts", params={"status": "new"}).json()
    assert [alert["plate"] for alert in fresh] == ["8XYZ777"]
    page = analyst.get("/console/alerts")
    # The console's queue: the new alerts first, then those in hand.
    queued = [int(found) for found in re.findall(r'data-testid="alert-(\d+)"', page.text)]
    assert queued == [fresh[0]["id"], newest[0]["id"]]

    assert looks(runtime, "alert.list") == [
        (person.username, None, {"count": 2}),
        (person.username, {"status": "new"}, {"count": 1}),
        (person.username, None, {"count": 2, "via": "console"}),
    ]
