"""Validation errors in words a user understands (中文 / English), for the API and imports."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Pydantic error types in words a user understands; others fall back to pydantic's message.
MESSAGES: dict[str, str] = {
    "missing": "必填 / required",
    "string_too_long": "过长，最多 {max_length} 个字符 / too long (at most {max_length})",
    "string_too_short": "过短，至少 {min_length} 个字符 / too short (at least {min_length})",
    "too_long": "条目过多，最多 {max_length} 项 / too many items (at most {max_length})",
    "string_type": "须为文本 / must be text",
    "int_type": "须为整数 / must be an integer",
    "int_parsing": "须为整数 / must be an integer",
    "int_from_float": "须为整数 / must be an integer",
    "decimal_type": "须为数字 / must be a number",
    "decimal_parsing": "须为数字 / must be a number",
    "float_parsing": "须为数字 / must be a number",
    "bool_type": "须为 true 或 false / must be true or false",
    "bool_parsing": "须为 true 或 false / must be true or false",
    "list_type": "须为列表 / must be a list",
    "dict_type": "须为对象 / must be an object",
    "model_attributes_type": "须为 JSON 对象 / must be a JSON object",
    "literal_error": "取值无效，可选：{expected} / invalid value, expected {expected}",
    "enum": "取值无效，可选：{expected} / invalid value, expected {expected}",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD",
    "greater_than_equal": "不能小于 {ge} / must be at least {ge}",
    "less_than_equal": "不能大于 {le} / must be at most {le}",
    "decimal_max_places": "最多 {decimal_places} 位小数 / at most {decimal_places} decimals",
    "extra_forbidden": "不允许的字段 / unknown field",
    "string_pattern_mismatch": "格式不正确 / invalid format",
    "json_invalid": "JSON 格式错误 / malformed JSON",
    "finite_number": "须为有限的数字 / must be a finite number",
    "value_error": "{error}",
}


def field_message(error: Mapping[str, Any]) -> str:
    """A user's words for one pydantic error."""
    template = MESSAGES.get(error["type"])
    if template is None:
        return error.get("msg", "无效 / invalid")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return error.get("msg", "无效 / invalid")


_PREFIX = re.compile(r"^([A-Za-z_][\w.]*: )(.*)$", re.DOTALL)


def in_language(text: str, lang: str) -> str:
    """One side of a bilingual message ("中文 / English", parts joined by "; "), keeping a
    leading field name ("title: "); text without both sides is returned as it is."""
    parts = []
    for part in text.split("; "):
        match = _PREFIX.match(part)
        prefix, body = (match.group(1), match.group(2)) if match else ("", part)
        zh, sep, en = body.partition(" / ")
        parts.append(prefix + ((zh if lang == "zh-CN" else en) if sep else body))
    return "; ".join(parts)
