"""jieba, the Chinese word segmenter, loaded once per process for every module that cuts words."""

from __future__ import annotations

import logging
import threading
from typing import Any

_lock = threading.Lock()
_jieba: Any = None


def segmenter() -> Any:
    """The initialised jieba module (building its prefix dictionary takes about a second)."""
    global _jieba
    with _lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba = jieba
    return _jieba
