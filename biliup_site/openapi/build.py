"""Builders shared by the per-app parts of the OpenAPI document: references, operations, small schemas."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

# Every refusal the API gives, in the {"error": ...} shape. Each operation lists the ones it can
# answer: with_refusals() adds those @api gives before any view runs, op(errors=...) the rest.
REFUSALS: dict[int, str] = {
    400: "Bad input: the error names the field and what is wrong",
    401: "Not logged in, or the API token is not valid",
    403: "Refused: a cross-site call with the session cookie, or not yours to do",
    404: "No such thing: the id (or name) matches nothing",
    409: "Not now: the thing's state does not allow it (the error says why)",
    410: "Gone: it expired",
    413: "The request body is too large",
    415: "Not JSON: send the body with Content-Type: application/json",
    429: "Too many attempts: wait the Retry-After header's seconds",
    502: "Bilibili (or the outside host) refused or could not be reached: the error says what "
    "it answered, and the next step",
    504: "The outside host did not answer in time",
}
UNSAFE = ("post", "put", "patch", "delete")


def refusal_name(status: int) -> str:
    return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")


def refusal(status: int) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{refusal_name(status)}"}


def refusal_responses() -> dict[str, Any]:
    """components.responses: one per status in REFUSALS."""
    responses: dict[str, Any] = {}
    for status, meaning in REFUSALS.items():
        response: dict[str, Any] = {
            "description": meaning,
            "content": {"application/json": {"schema": ref("Error")}},
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}
            }
        responses[refusal_name(status)] = response
    return responses


def with_refusals(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Add to each operation the refusals biliup_site/api.py's @api gives before its view runs:
    a body that is not JSON, too large or not an object (400, 413), a bad token (401, on every
    route, open ones too), a cross-site call with a session cookie (403, 415 on the methods that
    change things) and an unknown id in the path (404; Django matches no route)."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            statuses = {400, 401, 413}
            if method in UNSAFE:
                statuses |= {403, 415}
            if "{" in path:
                statuses.add(404)
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), refusal(status))
            operation["responses"] = dict(sorted(responses.items()))
    return paths


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


def op(
    summary: str,
    response: dict[str, Any] | None = None,
    body: str | None = None,
    *,
    status: int = 200,
    errors: tuple[int, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """An operation answering `response` with `status`, and the refusals in `errors` besides
    the ones every operation has (with_refusals())."""
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(status): {
                "description": HTTPStatus(status).phrase,
                "content": {
                    "application/json": {"schema": response or {"type": "object"}}
                },
            },
            **{str(code): refusal(code) for code in errors},
        },
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    operation.update(extra)
    return operation


def id_param(description: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "description": description,
            "schema": {"type": "integer"},
        }
    ]


STR = {"type": "string"}
INT = {"type": "integer"}
FLAG = {"type": "integer", "enum": [0, 1]}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
