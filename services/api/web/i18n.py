"""One translation catalogue for every text of the portal: zh-CN by default, en by a switch."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANG_COOKIE = "gp_lang"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Every message key with its text in each language."""
    text = (resources.files("greenplat.api.web") / "catalogue.json").read_text(encoding="utf-8")
    return json.loads(text)


def pick_language(cookie: str | None) -> str:
    """The language chosen by the switch (cookie); zh-CN unless the switch says en."""
    if cookie in LANGUAGES:
        return cookie
    return DEFAULT_LANGUAGE


class Translator:
    """Looks keys up in the catalogue for one language; a missing key shows itself."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **values: Any) -> str:
        entry = catalogue().get(key)
        if entry is None:
            return key
        text = entry.get(self.lang) or entry[DEFAULT_LANGUAGE]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in catalogue()

    def half(self, message: str) -> str:
        """This language's half of a message written "中文 / English" (all of any other)."""
        zh, sep, en = message.partition(" / ")
        if not sep:
            return message
        return (zh if self.lang == DEFAULT_LANGUAGE else en).strip()
