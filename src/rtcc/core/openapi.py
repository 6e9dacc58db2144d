"""The OpenAPI document lists every status a route can answer, each error with the real {code, message} body."""

from __future__ import annotations

from fastapi import FastAPI

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable code, e.g. json_too_deep."},
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "errors": {"type": "array", "description": "validation_error: one entry per problem.", "items": {
            "type": "object", "properties": {"field": {"type": "string"}, "location": {"type": "string"},
                                             "message": {"type": "string"}}}},
    },
}
_ERROR_DESCRIPTIONS = {
    400: "Malformed request (e.g. a Content-Length that is not a number).",
    401: "Not signed in, or the session or token has ended (authentication_required).",
    403: "Signed in but not allowed: permission_denied, csrf_failed, account_disabled.",
    404: "No such record, or one the caller may not see (not_found and more specific codes).",
    409: "Conflicts with the current state (conflict and more specific codes).",
    413: "Request body over max_request_bytes, an upload over max_import_bytes, or a body over its route's own limit "
         "(a signed agreement document: policy_document_max_bytes) (payload_too_large).",
    415: "Content-Type not accepted here (unsupported_media_type).",
    422: "Invalid input: validation_error (with errors), json_too_deep, json_number_out_of_range, value_out_of_range, "
         "invalid_input and more specific codes.",
    423: "Account locked after too many failed sign-ins (account_locked).",
    502: "The device asked (e.g. an ONVIF camera) could not be reached or answered wrongly.",
    503: "The database is unavailable, or the audit record could not be written so nothing was done "
         "(database_unavailable, audit_unavailable).",
}
_BODY_METHODS = {"post", "put", "patch", "delete"}


def error_responses(*statuses: int) -> dict[int, dict]:
    """`responses=` for the errors a route raises beyond those every route of its kind may answer."""
    return {status: {"description": _ERROR_DESCRIPTIONS.get(status, "Error.")} for status in statuses}


def document_error_responses(document: dict, *, rule_key: str, public_rule: str) -> dict:
    """Add to each operation the error statuses its kind implies, all with the real {code, message} body.

    Signed-in routes: 401/403; path ids: 404; bodies: 400/413/422; every route: 503 (audit and
    database fail closed). What a route raises beyond those it declares with error_responses()."""
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for schema_name in ("HTTPValidationError", "ValidationError"):  # FastAPI's shape, not ours
        document["components"]["schemas"].pop(schema_name, None)
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    _homogeneous_tuples_as_items(document["components"]["schemas"])
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = {503}
            if operation.get(rule_key) not in (None, public_rule):
                statuses |= {401, 403}
            if "{" in path:
                statuses |= {404, 422}
            if operation.get("parameters"):
                statuses.add(422)
            if method in _BODY_METHODS:
                statuses |= {400, 413, 422}
            responses = operation["responses"]
            for status in sorted(statuses):
                responses.setdefault(str(status), {"description": _ERROR_DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status[:1] in ("4", "5") and "HTTPValidationError" in str(response.get("content", "")):
                    response["content"] = error_content
                    response["description"] = _ERROR_DESCRIPTIONS[422]
                elif status[:1] in ("4", "5") and not response.get("content"):
                    response["content"] = error_content
    return document


def _homogeneous_tuples_as_items(node) -> None:
    # Pydantic writes a (float, float) pair as prefixItems, which several OpenAPI 3.x tools (schemathesis
    # among them) misread; items plus min/maxItems says the same and every tool reads it.
    if isinstance(node, dict):
        prefix = node.get("prefixItems")
        if isinstance(prefix, list) and prefix and all(item == prefix[0] for item in prefix):
            del node["prefixItems"]
            node.update(items=prefix[0], minItems=len(prefix), maxItems=len(prefix))
        for value in node.values():
            _homogeneous_tuples_as_items(value)
    elif isinstance(node, list):
        for value in node:
            _homogeneous_tuples_as_items(value)


def install_error_responses(app: FastAPI, *, rule_key: str, public_rule: str) -> None:
    """Make the app's OpenAPI document list every status each route can answer (document_error_responses)."""
    build_document = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document_error_responses(build_document(), rule_key=rule_key, public_rule=public_rule)
        return app.openapi_schema

    app.openapi = openapi
