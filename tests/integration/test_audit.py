"""The audit chain as an auditor relies on it: complete, tamper-evident, fail-closed, searchable."""

import csv
import io
import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from support import create_person, sign_in
from rtcc.audit import service as audit
from rtcc.cli import app as cli

runner = CliRunner()
TAMPERABLE = ["occurred_at", "username", "agency_ori", "source_address", "action", "object_type", "object_id",
              "outcome", "purpose", "case_number", "query_terms", "details", "prev_hash", "record_hash"]


def cli_env(runtime):
    return {"RTCC_DATA_DIR": str(runtime.settings.data_dir), "RTCC_DATABASE_URL": runtime.settings.effective_database_url}


def verify_cli(runtime):
    return runner.invoke(cli, ["audit", "verify", "--data-dir", str(runtime.settings.data_dir)], env=cli_env(runtime))


def allow_tampering(connection):
    """What an intruder with database access does first: switch off the append-only triggers."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only"))
    else:
        connection.execute(text("DROP TRIGGER audit_records_no_update"))
        connection.execute(text("DROP TRIGGER audit_records_no_delete"))


def change_one_character(value):
    """The smallest edit: one character of the value replaced (or a value where there was none)."""
    if not value:
        return "x"
    replacement = "0" if value[-1] != "0" else "1"
    return value[:-1] + replacement


def some_activity(client, runtime):
    """Sign-ins (one failed), reads and an admin action: a realistic chain of a dozen records or more."""
    client.post("/api/v1/auth/sign-in", json={"username": "nobody", "password": "x" * 9, "banner_acknowledged": True})
    admin = sign_in(client, create_person(runtime, "root", "admin"))
    client.headers["x-csrf-token"] = admin.csrf_token
    client.get("/api/v1/cameras")
    client.post("/api/v1/users", json={"username": "newbie", "role": "analyst", "agency_ori": "CA0199900"})
    client.get("/api/v1/users", params={"role": "analyst"})


def test_every_kind_of_action_is_recorded_with_who_what_where_and_outcome(client, runtime):
    some_activity(client, runtime)
    with runtime.database.session() as db:
        records = audit.search(db, query=audit.AuditQuery(), limit=1000)
    by_action = {}
    for record in records:
        by_action.setdefault(record.action, []).append(record)
    failed = [r for r in by_action["auth.sign_in"] if r.outcome == "failure"]
    assert failed and failed[0].object_id == "nobody" and failed[0].source_address == "testclient"
    succeeded = [r for r in by_action["auth.sign_in"] if r.outcome == "success"]
    assert succeeded and succeeded[0].username == "root" and succeeded[0].agency_ori == "CA0199900"
    assert by_action["user.create"][0].object_id == "newbie"
    assert json.loads(by_action["user.list"][0].query_terms) == {"role": "analyst"}
    assert "camera.list" in by_action
    newest = records[0].occurred_at
    assert newest.tzinfo is not None and newest.microsecond % 1000 == 0  # UTC, millisecond precision


def test_an_intact_chain_verifies(client, runtime):
    some_activity(client, runtime)
    result = verify_cli(runtime)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_the_database_refuses_to_change_or_delete_records(client, runtime):
    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        for statement in ("UPDATE audit_records SET outcome = 'success' WHERE seq = 1", "DELETE FROM audit_records WHERE seq = 1"):
            with pytest.raises(Exception, match="append-only"):
                connection.execute(text(statement))
            connection.rollback()


@pytest.mark.parametrize("column", TAMPERABLE)
def test_changing_any_field_of_any_record_breaks_verification(client, runtime, column):
    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        target = connection.execute(text("SELECT seq FROM audit_records ORDER BY seq LIMIT 1 OFFSET 4")).scalar_one()
        value = connection.execute(text(f"SELECT {column} FROM audit_records WHERE seq = :seq"), {"seq": target}).scalar_one()
        if column == "occurred_at":
            connection.execute(text("UPDATE audit_records SET occurred_at = occurred_at + interval '1 second' WHERE seq = :seq")
                               if connection.dialect.name == "postgresql" else
                               text("UPDATE audit_records SET occurred_at = datetime(occurred_at, '+1 second') WHERE seq = :seq"),
                               {"seq": target})
        else:
            connection.execute(text(f"UPDATE audit_records SET {column} = :value WHERE seq = :seq"),
                               {"value": change_one_character(value), "seq": target})
        connection.commit()
    result = verify_cli(runtime)
    assert result.exit_code != 0
    assert f"record {target}" in result.output or f"record {target + 1}" in result.output


def test_removing_inserting_or_truncating_records_is_detected(client, runtime):
    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        connection.execute(text("DELETE FROM audit_records WHERE seq = 3"))
        connection.commit()
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "record 3 missing" in result.output


def test_cutting_off_the_newest_records_is_detected(client, runtime):
    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        last = connection.execute(text("SELECT max(seq) FROM audit_records")).scalar_one()
        connection.execute(text("DELETE FROM audit_records WHERE seq >= :seq"), {"seq": last - 1})
        connection.commit()
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "removed from the end" in result.output


def test_a_forged_record_recomputed_with_valid_hashes_is_detected(client, runtime):
    """An intruder who knows the hash scheme rewrites a record and every hash after it; the signed head catches it."""
    from rtcc.audit.chain import record_hash
    from rtcc.audit.models import AuditChainHead, AuditRecord

    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        connection.commit()
    with runtime.database.session() as db:
        records = list(db.query(AuditRecord).order_by(AuditRecord.seq))
        records[2].outcome = "success" if records[2].outcome == "failure" else "failure"
        previous = records[1].record_hash
        for record in records[2:]:
            record.prev_hash = previous
            record.record_hash = record_hash(record)
            previous = record.record_hash
        head = db.get(AuditChainHead, 1)
        head.seq, head.record_hash = records[-1].seq, previous  # but cannot sign it
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "signature" in result.output


def test_when_the_audit_cannot_be_written_the_action_does_not_happen(client, runtime):
    admin = sign_in(client, create_person(runtime, "root", "admin"))
    client.headers["x-csrf-token"] = admin.csrf_token
    with runtime.database.engine.connect() as connection:  # the audit table stops accepting rows (full disk, say)
        if connection.dialect.name == "postgresql":
            connection.execute(text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"))
            connection.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION refuse()"))
        else:
            connection.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk full'); END"))
        connection.commit()
    response = client.post("/api/v1/users", json={"username": "ghost", "role": "analyst", "agency_ori": "CA0199900"})
    assert response.status_code == 503 and response.json()["code"] == "audit_unavailable"
    assert "Traceback" not in response.text
    with runtime.database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users WHERE username = 'ghost'")).scalar_one() == 0
    assert client.get("/api/v1/cameras").status_code == 503  # reads of protected data fail closed too


def test_auditors_search_and_export_and_their_reading_is_audited(client, runtime, signed_in_as):
    some_activity(client, runtime)
    auditor, person = signed_in_as("auditor")
    page = auditor.get("/api/v1/audit/records", params={"action": "auth.", "outcome": "failure", "purpose": "quarterly review"})
    assert page.status_code == 200
    records = page.json()["records"]
    assert records and all(r["action"].startswith("auth.") and r["outcome"] == "failure" for r in records)

    exported = auditor.get("/api/v1/audit/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
    assert all(len(r["record_hash"]) == 64 for r in rows)
    as_json = auditor.get("/api/v1/audit/export", params={"format": "json", "username": "root"}).json()
    assert as_json and {r["username"] for r in as_json} == {"root"}

    mine = auditor.get("/api/v1/audit/records", params={"username": person.username}).json()["records"]
    actions = [r["action"] for r in mine]
    assert "audit.search" in actions and "audit.export" in actions
    search = next(r for r in mine if r["action"] == "audit.search" and r["purpose"] == "quarterly review")
    assert json.loads(search["query_terms"])["action"] == "auth."

    verified = auditor.get("/api/v1/audit/verify").json()
    assert verified["ok"] is True and verified["records_checked"] > 10


def test_concurrent_writers_keep_one_unbroken_chain(runtime):
    """Many threads appending at once (PostgreSQL row lock, SQLite immediate transactions)."""
    from concurrent.futures import ThreadPoolExecutor

    from rtcc.core.actor import SYSTEM

    def append(n):
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=SYSTEM, action="test.append", object_id=n)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append, range(80)))
    with runtime.database.read_session() as db:
        result = audit.verify_chain(db, keys=runtime.keys)
    assert result.ok, result.problem
    assert result.records_checked >= 80
