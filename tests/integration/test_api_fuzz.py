"""Schemathesis against the whole API, in process: no input a client can send makes the server fail (5xx),
and every status, content type and body it answers with is the one its OpenAPI document declares."""

from __future__ import annotations

import os
from collections import Counter

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode, checks
from schemathesis.python.asgi import shutdown_lifespans
from support import sign_in

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
# Examples per operation, caller and generation mode, derandomized (the same cases every run, so a failure
# reproduces): 20 still sends every operation cases under every caller and mode, in 46 s on 2 busy cores where
# 50 took 200 s; set more for a deeper run before a release.
EXAMPLES = int(os.environ.get("RTCC_TEST_FUZZ_EXAMPLES", "20"))
# ONVIF discovery connects to the host it is given: no network here (tests/integration/test_onvif_discovery.py).
SKIPPED = {"POST /api/v1/cameras/discover"}


class Caller:
    """A signed-in person as the fuzzer sends them: session cookie and CSRF header, renewed when the fuzzer ended it.

    Fuzzing /auth/password or /auth/mfa with wrong codes locks the account, as it should: then a new account
    of the same role takes over."""

    def __init__(self, signed_in_as, role: str):
        self.signed_in_as, self.role, self.accounts = signed_in_as, role, 0
        self._new_account()

    def _new_account(self) -> None:
        self.accounts += 1
        self.client, self.person = self.signed_in_as(self.role, f"fuzz{self.role.replace('_', '')}{self.accounts}")

    def credentials(self) -> dict:
        """Headers and cookies of a live session."""
        if self.client.get("/api/v1/auth/me").status_code != 200:
            self.client.cookies.clear()
            try:
                sign_in(self.client, self.person)
                self.client.headers["x-csrf-token"] = self.person.csrf_token
            except AssertionError:  # locked out, or its password changed
                self._new_account()
        return {"headers": {"x-csrf-token": self.person.csrf_token}, "cookies": dict(self.client.cookies)}


def _fuzz_operation(operation, caller: Caller, mode: GenerationMode, calls: Counter) -> str | None:
    """The first failure this operation shows in EXAMPLES generated cases, or None; counts the calls it sent."""
    credentials = caller.credentials()

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                         print_blob=False)
    def run(case):
        calls[operation.label] += 1
        response = case.call(headers=credentials["headers"], cookies=credentials["cookies"])
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:  # nothing to negate: an operation without inputs
        return None
    except BaseException as failure:  # schemathesis raises a FailureGroup: collect them all, report together
        if isinstance(failure, (KeyboardInterrupt, SystemExit)):
            raise
        return f"{mode.value} {operation.label}: {str(failure).strip()[:1500]}"
    return None


@pytest.mark.timeout(900)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_input_makes_the_api_fail_or_answer_undocumented(signed_in_as):
    admin, analyst, auditor = Caller(signed_in_as, "admin"), Caller(signed_in_as, "analyst"), Caller(signed_in_as, "auditor")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", admin.client.app)
    failures, calls, fuzzed = [], Counter(), []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.label in SKIPPED:
                continue
            fuzzed.append(operation.label)
            # Between them the three reach every route; admin also sends what the schema forbids.
            for caller, mode in ((admin, GenerationMode.POSITIVE), (admin, GenerationMode.NEGATIVE),
                                 (analyst, GenerationMode.POSITIVE), (auditor, GenerationMode.POSITIVE)):
                failure = _fuzz_operation(operation, caller, mode, calls)
                if failure:
                    failures.append(f"[{caller.role}] {failure}")
    finally:
        shutdown_lifespans()
    assert not failures, "\n\n".join(failures)
    # Fewer examples must not mean fewer operations: every documented one was sent cases by each of the three.
    document = admin.client.get("/api/openapi.json").json()
    assert set(fuzzed) == {f"{method.upper()} {path}" for path, operations in document["paths"].items()
                           for method in operations} - SKIPPED
    assert all(calls[label] >= 3 for label in fuzzed), {label: calls[label] for label in fuzzed if calls[label] < 3}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_documents_the_errors_a_client_can_get_with_the_real_error_body(client):
    document = client.get("/api/openapi.json").json()
    error_body = {"$ref": "#/components/schemas/Error"}
    assert set(document["components"]["schemas"]["Error"]["required"]) == {"code", "message"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            expected = {"503"}  # audit and database fail closed on every route
            if operation.get("x-permission") not in (None, "public"):  # /healthz names no rule: it is public
                expected |= {"401", "403"}
            if "{" in path:
                expected |= {"404", "422"}
            if method in ("post", "put", "patch", "delete"):
                expected |= {"413", "422"}
            assert expected <= statuses, f"{method.upper()} {path} leaves out {sorted(expected - statuses)}"
            for status, response in operation["responses"].items():
                if status >= "400" and path != "/healthz":  # its 503 is the health report itself
                    assert response["content"]["application/json"]["schema"] == error_body, (method, path, status)
    declared = {("post", "/api/v1/auth/sign-in"): {"401", "423"}, ("post", "/api/v1/cameras"): {"409"},
                ("post", "/api/v1/alpr/hotlists/{hotlist_id}/import"): {"415"},
                ("post", "/api/v1/alpr/alerts/{alert_id}/verify"): {"409"}}
    for (method, path), statuses in declared.items():
        assert statuses <= set(document["paths"][path][method]["responses"]), (method, path)
