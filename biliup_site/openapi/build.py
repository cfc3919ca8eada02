"""Builders shared by the per-app parts of the OpenAPI document: references, operations, small schemas."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": ref(name)}


def op(
    summary: str,
    response: dict[str, Any] | None = None,
    body: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": response or {"type": "object"}}
                },
            },
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
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
