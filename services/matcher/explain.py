"""The words of an explanation: key terms of a text, and the telling terms two texts share."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

_WORD = re.compile(r"^[\w\-\.+#]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_STOP_WORDS = (
    "的 了 和 与 及 或 在 是 对 中 为 以 等 将 把 被 从 由 其 之 于 上 下 这 那 也 并 而 就 都 "
    "一种 一个 我们 进行 通过 基于 相关 方面 问题 研究 方法 提出 结果 表明 采用 利用 分析 "
    "a an and are as at be by for from in into is it of on or that the this to with we our "
    "via using based can which these their its has have was were been not but such than "
    "also more most new show paper approach method methods results problem propose proposed "
    "however between both each other over under about after before during without within "
    "present presents presented provide provides providing perform performs performance "
    "experiment experiments experimental empirical evaluate evaluation study studies work "
    "works task tasks model models data dataset datasets result show shows shown significant "
    "significantly improve improves improved improvement effective effectively efficient use "
    "used uses various several many large small high low first second two three one well "
    "specific general particular different existing previous prior recent recently able "
    "state art outperform outperforms baseline baselines demonstrate demonstrates introduce "
    "introduces consider considers obtain achieve achieves make makes given often while "
    "further thus therefore since whether when where how what them they there then only "
    "same than very much better best however including include includes especially "
    "本文 我们 提出 一种 具有 可以 能够 以及 因此 其中 这些 这种 实验 结果 显示 有效 主要 "
    "不同 较 好 高 低 明显 显著 发现 分别 利用 研究 分析 方法 问题 技术 应用 需要 情况 "
    "影响 作用 条件 过程 系统 提高 采用 进行 通过 对于 根据 基于 表明 目的"
)
_STOP = frozenset(_STOP_WORDS.split())
MAX_TERMS = 6
FILLER_FILE = Path(__file__).with_name("filler_terms.txt")
_lock = threading.Lock()
_idf: tuple[dict[str, float], float] | None = None


def _idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table (loaded once): rarer terms say more about why two texts meet."""
    global _idf
    with _lock:
        if _idf is None:
            import jieba
            import jieba.analyse

            jieba.setLogLevel(logging.WARNING)
            table = jieba.analyse.default_tfidf.idf_freq
            _idf = (table, jieba.analyse.default_tfidf.median_idf)
    return _idf


def key_terms(text: str | None) -> list[str]:
    """Content words of a text (jieba for Chinese, word tokens for English), in order."""
    if not text:
        return []
    return list(_key_terms(text))


@functools.lru_cache(maxsize=8192)
def _key_terms(text: str) -> tuple[str, ...]:
    # Records are segmented again and again (every query that finds them): remember them.
    import jieba

    out = []
    for token in jieba.cut_for_search(text):
        token = token.strip().lower()
        if not token or token in _STOP or not _WORD.match(token) or token.isdigit():
            continue
        if len(token) < (2 if _CJK.search(token) else 3):
            continue
        out.append(token)
    return tuple(out)


def held_terms(terms: Iterable[str], texts: Iterable[str | None]) -> set[str]:
    """Which of these key terms the texts hold, without segmenting the texts: a Chinese term
    where its characters occur (a segmenter for search yields every dictionary word inside a
    longer one, so 电池 is held by 锂离子电池 either way), any other term as a whole token.
    Segmenting each candidate was most of a match's time (docs/matching.md, Speed)."""
    # One string: a term never spans two texts, since a line break is in no term.
    joined = "\n".join(text for text in texts if text).lower()
    out = set()
    for term in dict.fromkeys(terms):
        if term in joined and (_CJK.search(term) or _token_pattern(term).search(joined)):
            out.add(term)
    return out


@functools.lru_cache(maxsize=4096)
def _token_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])")


def idf_weights(terms: Iterable[str]) -> dict[str, float]:
    """Each distinct term with its IDF (jieba's table; unknown terms count as the median)."""
    idf, median = _idf_table()
    return {term: idf.get(term, median) for term in dict.fromkeys(terms)}


def top_terms(text: str | None, limit: int) -> list[str]:
    """The text's most telling key terms (rarest first by jieba's IDF), at most limit."""
    idf, median = _idf_table()
    unique = list(dict.fromkeys(key_terms(text)))
    return sorted(unique, key=lambda t: -idf.get(t, median))[:limit]


@functools.cache
def filler_terms() -> frozenset[str]:
    """Words that turn up across many fields (bench/filler_terms.py builds the list)."""
    lines = FILLER_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def shared_terms(query: str | None, candidate: Iterable[str | None], limit: int = MAX_TERMS):
    """Terms of the query that the candidate's texts also hold, most telling first; filler
    (words found across many fields) is never a reason."""
    query_terms = key_terms(query)
    have = held_terms(query_terms, candidate)
    if not have:
        return []
    idf, median = _idf_table()
    seen: dict[str, float] = {}
    filler = filler_terms()
    for term in query_terms:
        if term in have and term not in seen and term not in filler:
            seen[term] = idf.get(term, median) * (1 + 0.1 * len(term))
    # A shorter term inside a longer shared one (学习 in 机器学习) repeats it: keep the longer.
    kept = [t for t in seen if not any(t != o and t in o for o in seen)]
    return sorted(kept, key=lambda t: -seen[t])[:limit]
