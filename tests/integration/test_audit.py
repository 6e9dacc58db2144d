"""The audit chain as an auditor relies on it: complete, tamper-evident, fail-closed, searchable."""

import csv
import io
import json

import pytest
from sqlalchemy import text
from support import create_person, sign_in
from typer.testing import CliRunner

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


def rewrite_third_record_and_rechain(db, change):
    """What an intruder who knows the hash scheme does: change the third record, recompute every hash from it on
    and move the chain head to the last one (signing that head is beyond them, unless they hold a key)."""
    from rtcc.audit.chain import record_hash
    from rtcc.audit.models import AuditChainHead, AuditRecord

    records = list(db.query(AuditRecord).order_by(AuditRecord.seq))
    change(records[2])
    previous = records[1].record_hash
    for record in records[2:]:
        record.prev_hash = previous
        record.record_hash = record_hash(record)
        previous = record.record_hash
    head = db.get(AuditChainHead, 1)
    head.seq, head.record_hash = records[-1].seq, previous
    return head


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


@pytest.mark.parametrize(("removed", "reported"), [
    ("seq = 3", "record 3 missing"),
    ("seq >= (SELECT max(seq) - 1 FROM audit_records)", "removed from the end"),  # the newest two cut off
], ids=["one-from-the-middle", "the-newest-cut-off"])
def test_removing_records_is_detected(client, runtime, removed, reported):
    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        connection.execute(text(f"DELETE FROM audit_records WHERE {removed}"))
        connection.commit()
    result = verify_cli(runtime)
    assert result.exit_code == 1 and reported in result.output


def test_a_forged_record_recomputed_with_valid_hashes_is_detected(client, runtime):
    """An intruder who knows the hash scheme rewrites a record and every hash after it; the signed head catches it."""
    def flip_outcome(record):
        record.outcome = "success" if record.outcome == "failure" else "failure"

    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        connection.commit()
    with runtime.database.session() as db:
        rewrite_third_record_and_rechain(db, flip_outcome)  # but cannot sign the head
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


# --- anchoring the chain outside the database (checkpoints, key dir) ---------------------------

def checkpoint_cli(runtime):
    return runner.invoke(cli, ["audit", "checkpoint", "--data-dir", str(runtime.settings.data_dir)], env=cli_env(runtime))


def head_row(connection):
    return connection.execute(text("SELECT seq, record_hash, signature, updated_at FROM audit_chain_head WHERE id = 1")).one()


def last_seq(connection):
    return connection.execute(text("SELECT max(seq) FROM audit_records")).scalar_one()


def roll_back_to(runtime, old_head):
    """The attack of finding 6: delete every record after the kept head, then put the kept head back."""
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        connection.execute(text("DELETE FROM audit_records WHERE seq > :seq"), {"seq": old_head.seq})
        connection.execute(text("UPDATE audit_chain_head SET seq = :seq, record_hash = :hash, signature = :signature, "
                                "updated_at = :updated_at WHERE id = 1"),
                           {"seq": old_head.seq, "hash": old_head.record_hash, "signature": old_head.signature,
                            "updated_at": old_head.updated_at})
        connection.commit()


def kept_head_then_checkpoint(client, runtime):
    """Activity; the intruder keeps a copy of the signed head; more activity; then a checkpoint is taken."""
    some_activity(client, runtime)
    with runtime.database.engine.connect() as connection:
        old_head = head_row(connection)
    for _ in range(3):  # more than the verifications a test runs after the rollback append
        client.get("/api/v1/users")
        client.get("/api/v1/cameras")
    taken = checkpoint_cli(runtime)
    assert taken.exit_code == 0, taken.output
    with runtime.database.engine.connect() as connection:
        checkpointed = last_seq(connection)
    assert checkpointed > old_head.seq
    return old_head, checkpointed


def test_a_rollback_to_a_kept_signed_head_is_named_against_the_checkpoint(client, runtime):
    old_head, checkpointed = kept_head_then_checkpoint(client, runtime)
    roll_back_to(runtime, old_head)
    result = verify_cli(runtime)
    assert result.exit_code == 1, result.output
    assert "rolled back" in result.output
    assert f"checkpoint {checkpointed}" in result.output and f"ends at record {old_head.seq}" in result.output


def test_the_public_checkpoint_and_a_copy_kept_elsewhere_still_reveal_the_rollback(client, runtime, tmp_path):
    import http.server
    import threading

    assert client.get("/api/v1/audit/checkpoint").json()["code"] == "checkpoint_not_found"
    old_head, checkpointed = kept_head_then_checkpoint(client, runtime)
    from fastapi.testclient import TestClient

    anonymous = TestClient(client.app, base_url="http://testserver").get("/api/v1/audit/checkpoint")  # no session
    assert anonymous.status_code == 200
    published = anonymous.json()
    assert set(published) == {"seq", "head_hash", "created_at", "key_id", "signature", "public_key"}
    assert published["seq"] == checkpointed and "PUBLIC KEY" in published["public_key"]
    kept_copy = tmp_path / "published-checkpoint.json"
    kept_copy.write_text(json.dumps(published))
    # The intruder rolls back and also empties the local checkpoint log; copies published elsewhere remain.
    roll_back_to(runtime, old_head)
    runtime.settings.effective_audit_checkpoint_log.write_text("")
    assert verify_cli(runtime).exit_code == 0  # the local log alone no longer knows

    body = kept_copy.read_bytes()

    class PublishedCheckpoint(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PublishedCheckpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for source in (str(kept_copy), f"http://127.0.0.1:{server.server_address[1]}/api/v1/audit/checkpoint"):
            result = runner.invoke(cli, ["audit", "verify", "--data-dir", str(runtime.settings.data_dir),
                                         "--checkpoint", source], env=cli_env(runtime))
            assert result.exit_code == 1 and "rolled back" in result.output, result.output
    finally:
        server.shutdown()
        server.server_close()


def test_a_forged_or_garbled_checkpoint_log_is_named_and_one_bad_line_hides_nothing(client, runtime):
    old_head, _ = kept_head_then_checkpoint(client, runtime)
    roll_back_to(runtime, old_head)
    log_path = runtime.settings.effective_audit_checkpoint_log
    genuine = json.loads(log_path.read_text().splitlines()[-1])
    # A garbage line before the genuine checkpoint: the rollback is still caught, the garbage named.
    log_path.write_text("{not json\n" + json.dumps(genuine) + "\n")
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "rolled back" in result.output and "line 1 unreadable" in result.output
    # A line nobody could sign claiming the chain reached further: named, and the genuine one still counts.
    log_path.write_text(json.dumps(genuine) + "\n" + json.dumps({**genuine, "seq": genuine["seq"] + 5}) + "\n")
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "rolled back" in result.output and "line 2 forged" in result.output, result.output
    # The intruder rewrites the checkpoint to match the rolled-back chain, but cannot sign it.
    forged = {**genuine, "seq": old_head.seq, "head_hash": old_head.record_hash}
    log_path.write_text(json.dumps(forged) + "\n")
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "forged" in result.output, result.output


def test_a_deleted_head_row_is_named_not_reported_as_a_failed_write(client, runtime, signed_in_as):
    some_activity(client, runtime)
    auditor, _ = signed_in_as("auditor")
    with runtime.database.engine.connect() as connection:
        connection.execute(text("DELETE FROM audit_chain_head"))
        connection.commit()
    result = verify_cli(runtime)
    assert result.exit_code == 1
    assert "chain head missing" in result.output and "could not be written" not in result.output
    verified = auditor.get("/api/v1/audit/verify")  # the auditor learns what broke, not "audit unavailable"
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is False and "chain head missing" in verified.json()["problem"]
    refused = client.post("/api/v1/users", json={"username": "ghost", "role": "analyst", "agency_ori": "CA0199900"})
    assert refused.status_code == 503 and "head is missing" in refused.json()["message"]


def test_a_record_appended_after_the_head_is_named(client, runtime):
    from rtcc.audit.chain import record_hash
    from rtcc.audit.models import AuditRecord
    from rtcc.core import clock

    some_activity(client, runtime)
    with runtime.database.session() as db:  # written straight into the table, past the audit service
        last = db.query(AuditRecord).order_by(AuditRecord.seq.desc()).first()
        appended = AuditRecord(seq=last.seq + 1, occurred_at=clock.utcnow(), username="intruder", action="user.list",
                               outcome="success", prev_hash=last.record_hash)
        appended.record_hash = record_hash(appended)
        db.add(appended)
        appended_seq = appended.seq
    result = verify_cli(runtime)
    assert result.exit_code == 1
    assert f"record {appended_seq} appended after the signed head (record {appended_seq - 1})" in result.output
    assert "could not be written" not in result.output


@pytest.fixture
def keyed_runtime(tmp_path, database_url):
    """A runtime whose keys (and checkpoint log) live in a key dir beside, not inside, the data dir."""
    from rtcc.settings import Settings
    from rtcc.core.runtime import build_runtime

    settings = Settings(data_dir=tmp_path / "data", key_dir=tmp_path / "keyring", database_url=database_url,
                        recording_enabled=False)
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    yield runtime
    runtime.close()


def keyed_cli(runtime, *arguments):
    env = {**cli_env(runtime), "RTCC_KEY_DIR": str(runtime.settings.key_dir)}
    return runner.invoke(cli, ["audit", *arguments, "--data-dir", str(runtime.settings.data_dir)], env=env)


@pytest.mark.parametrize("checkpointed", [True, False], ids=["checkpointed", "no-checkpoint"])
def test_a_chain_rewritten_and_re_signed_from_a_stolen_database_fails_without_the_key_dir(keyed_runtime, checkpointed):
    """The intruder holds the database and the data dir, and signs with a key of their own."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from rtcc.audit.chain import head_message
    from rtcc.core.actor import SYSTEM

    runtime = keyed_runtime
    for number in range(6):
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=SYSTEM, action="test.append", object_id=number)
    assert (runtime.settings.key_dir / "audit-signing.pem").exists()
    assert not (runtime.settings.data_dir / "keys" / "audit-signing.pem").exists()
    if checkpointed:
        assert keyed_cli(runtime, "checkpoint").exit_code == 0

    intruder_key = Ed25519PrivateKey.generate()
    intruder_dir = runtime.settings.data_dir / "keys"  # all the intruder can write; it must not be trusted
    intruder_dir.mkdir(parents=True, exist_ok=True)
    (intruder_dir / "audit-signing.pem").write_bytes(intruder_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with runtime.database.engine.connect() as connection:
        allow_tampering(connection)
        connection.commit()
    with runtime.database.session() as db:
        head = rewrite_third_record_and_rechain(db, lambda record: setattr(record, "object_id", "nothing happened"))
        head.signature = intruder_key.sign(head_message(head.seq, head.record_hash)).hex()

    result = keyed_cli(runtime, "verify")
    assert result.exit_code == 1, result.output
    if checkpointed:
        assert "record 6 rewritten" in result.output
    else:
        assert "signature invalid" in result.output


def test_a_periodic_checkpoint_reaches_the_peer_centre_once_it_answers(runtime):
    """An unreachable peer is retried at the next round; audit writes never wait for it."""
    import http.server
    import threading

    from rtcc.audit.checkpoint_job import CheckpointPublisher
    from rtcc.core.actor import SYSTEM

    received, answers = [], [503, 200]

    class PeerCentre(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            status = answers.pop(0) if answers else 200
            if status == 200:
                received.append(body)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PeerCentre)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    runtime.settings = runtime.settings.model_copy(
        update={"audit_checkpoint_peer_url": f"http://127.0.0.1:{server.server_address[1]}/checkpoints"})
    try:
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=SYSTEM, action="test.append")
        publisher = CheckpointPublisher(runtime)
        publisher.tick()  # checkpoint written; the peer answers 503
        assert received == [] and publisher.checkpoint_log.latest(publisher.signer) is not None
        publisher.tick()  # nothing new to checkpoint, but the unsent one goes out now
        with runtime.database.read_session() as db:
            head_seq = db.execute(text("SELECT seq FROM audit_chain_head")).scalar_one()
        assert [body["seq"] for body in received] == [head_seq]
        assert "PUBLIC KEY" in received[0]["public_key"] and len(received[0]["signature"]) == 128
    finally:
        server.shutdown()
        server.server_close()


def test_the_server_checkpoints_the_chain_as_it_stops(runtime):
    """A stopped server is when the database is easiest to tamper with unseen: the chain is anchored first."""
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    with TestClient(create_app(runtime=runtime), base_url="http://testserver") as server:
        some_activity(server, runtime)
        with runtime.database.engine.connect() as connection:
            old_head = head_row(connection)
        server.get("/api/v1/users")
        server.get("/api/v1/cameras")
    with runtime.database.engine.connect() as connection:
        stopped_at = last_seq(connection)
    assert json.loads(runtime.settings.effective_audit_checkpoint_log.read_text().splitlines()[-1])["seq"] == stopped_at
    roll_back_to(runtime, old_head)
    result = verify_cli(runtime)
    assert result.exit_code == 1 and "rolled back" in result.output and f"checkpoint {stopped_at}" in result.output


def test_a_rollback_written_over_past_the_checkpoint_is_never_checkpointed_again(client, runtime):
    """After the rollback the chain grows again past the checkpoint: the next checkpoint is refused, verify names it."""
    from rtcc.core.actor import SYSTEM

    old_head, checkpointed = kept_head_then_checkpoint(client, runtime)
    roll_back_to(runtime, old_head)
    for number in range(checkpointed - old_head.seq + 3):
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=SYSTEM, action="test.append", object_id=number)
    refused = checkpoint_cli(runtime)
    assert refused.exit_code == 1 and f"record {checkpointed} differs from its checkpoint" in refused.output
    result = verify_cli(runtime)
    assert result.exit_code == 1 and f"record {checkpointed} rewritten" in result.output, result.output
