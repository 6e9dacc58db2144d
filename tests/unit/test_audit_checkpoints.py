"""The checkpoint log and the key dir, without a database: what an operator's files hold and where keys are read."""

import json

from rtcc.audit.checkpoints import (
    Checkpoint,
    CheckpointLog,
    checkpoint_message,
    load_checkpoint_source,
)
from rtcc.audit.signing import FileKeySigner, signature_valid
from rtcc.settings import Settings
from rtcc.core.keys import KeyRing, key_dir_warnings


def signed_checkpoint(signer, seq):
    head_hash, created_at, key_id = f"{seq:064x}", f"2026-12-01T09:{seq % 60:02d}:00.000Z", signer.key_id()
    signature = signer.sign(checkpoint_message(seq, head_hash, created_at, key_id)).hex()
    return Checkpoint(seq, head_hash, created_at, key_id, signature)


def test_the_log_is_json_lines_each_signed_and_the_newest_is_found_from_the_end(tmp_path):
    signer = FileKeySigner(KeyRing(tmp_path / "keys"))
    log = CheckpointLog(tmp_path / "checkpoints" / "audit-checkpoints.jsonl")
    for seq in (5, 9, 14):
        log.append(signed_checkpoint(signer, seq))
    lines = log.path.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [5, 9, 14]
    assert all(signature_valid(signer.public_key(), c.signature, c.message()) for _, c in log.read().checkpoints)
    assert log.latest(signer).seq == 14
    # A line nobody could sign at the end does not make the newest genuine checkpoint disappear.
    forged = {**json.loads(lines[-1]), "seq": 99}
    with open(log.path, "a") as handle:
        handle.write(json.dumps(forged) + "\n")
    assert log.latest(signer).seq == 14


def test_a_torn_last_line_is_set_apart_and_hides_neither_older_nor_newer_checkpoints(tmp_path):
    signer = FileKeySigner(KeyRing(tmp_path / "keys"))
    log = CheckpointLog(tmp_path / "audit-checkpoints.jsonl")
    log.append(signed_checkpoint(signer, 3))
    with open(log.path, "a") as handle:
        handle.write('{"seq": 4, "head_ha')  # the process died mid-write
    assert log.read().problems == []  # a torn final line is a crash, not a tamper
    log.append(signed_checkpoint(signer, 7))
    loaded = log.read()
    assert [c.seq for _, c in loaded.checkpoints] == [3, 7]
    assert len(loaded.problems) == 1 and "line 2 unreadable" in loaded.problems[0]  # now in the middle: named


def test_a_published_copy_is_read_from_a_file_as_one_object_or_as_a_log(tmp_path):
    signer = FileKeySigner(KeyRing(tmp_path / "keys"))
    one = tmp_path / "one.json"
    one.write_text(json.dumps(signed_checkpoint(signer, 8).as_json()))
    assert [c.seq for _, c in load_checkpoint_source(str(one)).checkpoints] == [8]
    missing = load_checkpoint_source(str(tmp_path / "nowhere.json"))
    assert missing.checkpoints == [] and "unreadable" in missing.problems[0]


def test_keys_go_to_the_key_dir_and_an_existing_install_keeps_its_keys_until_they_are_moved(tmp_path):
    data_dir, key_dir = tmp_path / "data", tmp_path / "keyring"
    old = KeyRing(Settings(data_dir=data_dir).keys_dir)  # an install from before RTCC_KEY_DIR
    stored = old.encrypt("camera password")
    old_public = old.audit_signing_key().public_key()
    assert (data_dir / "keys" / "audit-signing.pem").exists()
    assert "inside the data dir" in key_dir_warnings(None, data_dir)[0]

    upgraded = Settings(data_dir=data_dir, key_dir=key_dir)  # RTCC_KEY_DIR set, nothing moved yet
    assert upgraded.keys_dir == data_dir / "keys"
    assert KeyRing(upgraded.keys_dir).decrypt(stored) == "camera password"  # not a fresh secret.key
    assert "holds no keys yet" in key_dir_warnings(key_dir, data_dir)[0]

    key_dir.mkdir()
    for key_file in (data_dir / "keys").iterdir():
        key_file.rename(key_dir / key_file.name)
    moved = KeyRing(Settings(data_dir=data_dir, key_dir=key_dir).keys_dir)
    assert moved.keys_dir == key_dir and moved.decrypt(stored) == "camera password"
    assert moved.audit_public_key() == old_public
    assert key_dir_warnings(key_dir, data_dir) == []


def test_a_fresh_install_with_a_key_dir_never_writes_keys_into_the_data_dir(tmp_path):
    data_dir, key_dir = tmp_path / "data", tmp_path / "keyring"
    keys = KeyRing(Settings(data_dir=data_dir, key_dir=key_dir).keys_dir)
    keys.encrypt("x")
    FileKeySigner(keys).sign(b"head")
    assert sorted(p.name for p in key_dir.iterdir()) == ["audit-signing.pem", "audit-signing.pub.pem", "secret.key"]
    assert not (data_dir / "keys").exists()
    assert (key_dir / "audit-signing.pem").stat().st_mode & 0o077 == 0


def test_reading_the_public_key_writes_nothing(tmp_path):
    keys = KeyRing(tmp_path / "keys")
    keys.audit_signing_key()
    (tmp_path / "keys" / "audit-signing.pub.pem").unlink()
    assert KeyRing(tmp_path / "keys").audit_public_key() is not None
    assert not (tmp_path / "keys" / "audit-signing.pub.pem").exists()
