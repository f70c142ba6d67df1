"""Text analysis shared by indexing and querying: jieba for Chinese, a word analyzer for English.

The same function turns a document into index terms and a query into query terms, so both
sides always agree on what a "word" is, whichever backend stores the terms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from greenplat.core.segmenter import segmenter

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_TERM = re.compile(r"^\w+$")
# Function words that match everything and rank nothing.
_STOPWORDS_TEXT = (
    "的 了 和 与 及 或 在 是 对 中 为 以 等 将 把 被 从 由 其 之 于 上 下 这 那 也 并 而 就 都 "
    "一种 一个 我们 进行 通过 基于 相关 方面 问题 研究 "
    "a an and are as at be by for from in into is it of on or that the this to with "
    "via we our using based"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# Longer "words" are codes or sequences, not vocabulary (and PostgreSQL refuses a lexeme
# over 2046 bytes, which would fail the whole record).
MAX_TERM_CHARS = 64


def terms(text: str | None) -> list[str]:
    """Index/query terms of a text: jieba search-mode segments, lowercased, stopwords dropped."""
    if not text:
        return []
    out = []
    for token in segmenter().cut_for_search(text):
        token = token.strip().lower()
        if (
            token
            and len(token) <= MAX_TERM_CHARS
            and _TERM.match(token)
            and token not in STOPWORDS
            and token != "_"
        ):
            out.append(token)
    return out


def terms_of(parts: Iterable[str | None]) -> list[str]:
    """terms() of several texts, concatenated in order."""
    return [term for part in parts for term in terms(part)]


@dataclass(frozen=True)
class LanguageProfile:
    """How much Chinese and English a text holds."""

    cjk_chars: int
    latin_words: int
    latin_letters: int

    @property
    def languages(self) -> frozenset[str]:
        """'zh' when the text has Chinese, 'en' when it has real English (not one acronym)."""
        langs = set()
        if self.cjk_chars >= 2:
            langs.add("zh")
        # An acronym or two (PLC, AI) inside Chinese prose is not English text; a few English
        # words in a mostly-English text, or a full English sentence inside Chinese, are.
        english_heavy = self.latin_words >= 2 and self.latin_letters >= self.cjk_chars
        if self.latin_words >= 8 or english_heavy:
            langs.add("en")
        return frozenset(langs)


def language_profile(text: str | None) -> LanguageProfile:
    """Count Chinese characters and English words of a text."""
    text = text or ""
    words = _LATIN_WORD.findall(text)
    return LanguageProfile(
        cjk_chars=len(_CJK.findall(text)),
        latin_words=len(words),
        latin_letters=sum(len(word) for word in words),
    )


def languages(text: str | None) -> frozenset[str]:
    """The languages present in a text ('zh', 'en'); empty for numbers or blanks."""
    return _languages(text or "")


@functools.lru_cache(maxsize=8192)
def _languages(text: str) -> frozenset[str]:
    # The matcher asks again for every candidate it judges: the same works, problems, queries.
    return language_profile(text).languages


def tsvector_literal(weighted: Iterable[tuple[str, list[str]]]) -> str:
    """A PostgreSQL tsvector literal from (weight, terms) groups, positions in reading order.

    Building the literal ourselves (rather than calling to_tsvector) keeps PostgreSQL's own
    parser, whose idea of a letter depends on the database locale, away from Chinese text.
    """
    positions: dict[str, list[str]] = {}
    pos = 0
    for weight, group in weighted:
        for term in group:
            pos = min(pos + 1, 16383)
            positions.setdefault(term, []).append(f"{pos}{weight}")
    return " ".join(f"'{_quote(term)}':{','.join(p[:256])}" for term, p in positions.items())


def tsquery_literal(query_terms: Iterable[str], operator: str = "|") -> str | None:
    """A tsquery literal joining the query's terms with | (any) or & (all); None if no terms."""
    unique = list(dict.fromkeys(query_terms))
    if not unique:
        return None
    return f" {operator} ".join(f"'{_quote(term)}'" for term in unique)


def _quote(term: str) -> str:
    return term.replace("\\", "\\\\").replace("'", "''")
