"""Error responses in the OpenAPI document: every 4xx an operation can answer, one shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorField(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[ErrorField]


class ErrorBody(BaseModel):
    """The one error shape: {"error": {"code", "message" (中文 / English), "fields"}}."""

    error: ErrorDetail


_MEANINGS = {
    400: "请求体无法解析 / the body is not valid JSON or form data",
    401: "未登录或登录已失效 / not signed in, or the token expired",
    403: "无权进行此操作 / the account may not do this",
    404: "记录不存在或不可见 / no such record, or not visible to this account",
    409: "与现有记录或状态冲突 / conflicts with a stored record or its status",
    413: "请求体过大 / the body is larger than GREENPLAT_MAX_BODY_BYTES",
    422: "输入有误，fields 指明字段 / invalid input; `fields` names each field",
    429: "尝试过于频繁，Retry-After 指明等待秒数 / too many attempts; wait Retry-After seconds",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error statuses, each with the one error shape."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"model": ErrorBody, "description": _MEANINGS[status]}
        if status == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again",
                    "schema": {"type": "integer"},
                }
            }
        responses[status] = response
    return responses


# What any /v1 operation can answer: a body that does not parse or is too large, invalid
# input, no or an expired token, a role or record it may not touch, a missing record, a
# conflict with stored state. Signed-out operations document 401 too: their bodies may not.
API_ERRORS = errors(400, 401, 403, 404, 409, 413, 422)
THROTTLED = errors(429)
