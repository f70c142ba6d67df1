"""Why a match was made, in plain words, one list per reader language (zh-CN and en).

One sentence says what the two sides have in common (the telling terms they share, and for an
expert the works that show it); short ones add field, region and load. Score components are
not reasons: they stay in the match's `components` for staff and the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from greenplat.matcher.explain import shared_terms
from greenplat.matcher.scoring import Components

LANGUAGES = ("zh-CN", "en")
Kind = Literal["expert", "achievement", "problem", "inbox"]
SHOWN_TERMS = 4
MAX_WORKS = 3
Reasons = dict[str, list[str]]


@dataclass
class Evidence:
    """What an explanation may draw on for one match."""

    kind: Kind
    components: Components
    query_text: str | None = None  # None when the reader may not see the source's text
    candidate_texts: Sequence[str | None] = ()
    works: Sequence[str] = ()  # titles of the works that show the fit, closest first
    name: str | None = None  # the expert's name
    fields: Sequence[str] = ()
    region: str | None = None
    load: tuple[int, int | None] | None = None  # (open requests, capacity)
    redacted: bool = False
    summary_only: bool = False  # a confidential problem told by its summary for experts


def explain(e: Evidence) -> Reasons:
    """The reasons of one match in each reader language."""
    if e.redacted:
        zh = ["需求方要求保密，匹配依据不予显示。"]
        en = ["The enterprise keeps this problem confidential, so the evidence is not shown."]
    else:
        terms = shared_terms(e.query_text, e.candidate_texts)
        zh = [_topic_zh(e, "、".join(terms[:SHOWN_TERMS]))]
        en = [_topic_en(e, ", ".join([t for t in terms if t.isascii()][:SHOWN_TERMS]))]
    if e.summary_only:
        zh.insert(0, "需求方要求保密，以下依据仅来自其面向专家的摘要。")
        en.insert(
            0, "The enterprise keeps this problem confidential: this is based on its summary."
        )
    signals = e.components.signals
    if signals.field == 1.0 and e.fields:
        zh.append(f"同属{'、'.join(e.fields)}领域。")
        en.append("Works in the same field.")
    if signals.region == 1.0 and e.region:
        zh.append(f"同在{e.region}。")
        en.append("Based in the same region.")
    if e.load is not None and e.load[1] is not None:
        zh.append(f"目前在对接 {e.load[0]} 项需求（最多 {e.load[1]} 项）。")
        en.append(f"Currently on {e.load[0]} of at most {e.load[1]} requests.")
    return {"zh-CN": zh, "en": en}


def _topic_zh(e: Evidence, terms: str) -> str:
    about = f"涉及{terms}" if terms else "与需求内容相近"
    n, first = len(e.works), (e.works[0] if e.works else "")
    if e.kind == "expert":
        if not n:
            return f"{e.name}的研究方向{about}。"
        return f"{e.name}的 {n} 项成果{about}，其中《{first}》与需求最接近。"
    if e.kind == "inbox":
        tail = f"与你的《{first}》" + (f"等 {n} 项成果相关。" if n > 1 else "相关。")
        return f"这项需求{about}，{tail}" if n else f"这项需求{about}。"
    subject = "这项成果" if e.kind == "achievement" else "这项需求"
    return f"{subject}同样涉及{terms}。" if terms else f"{subject}与检索内容意思相近。"


def _topic_en(e: Evidence, terms: str) -> str:
    about = f"deal with {terms}" if terms else "are close in meaning to this problem"
    n, first = len(e.works), (e.works[0] if e.works else "")
    if e.kind == "expert":
        if not n:
            return f"{e.name}'s research " + (f"covers {terms}." if terms else "is close to it.")
        return f"{n} of {e.name}'s achievements {about}; “{first}” is the closest."
    if e.kind == "inbox":
        topic = f"deals with {terms}" if terms else "is close in meaning to your work"
        more = f" and {n - 1} more of your achievements" if n > 1 else ""
        if not n:
            return f"This request {topic}."
        return f"This request {topic}, near your “{first}”{more}."
    subject = "This achievement" if e.kind == "achievement" else "This request"
    return f"{subject} also deals with {terms}." if terms else f"{subject} is close in meaning."


def closest_works(query: str | None, works: Sequence[tuple[str, str, float]]) -> list[str]:
    """Titles of the works that show the fit to this source: those sharing its telling terms
    (most shared first, then closest in meaning), else the one closest in meaning.

    Chosen per source, so two problems do not show the same list when different works meet them.
    """
    scored = [(len(shared_terms(query, [text])), sim, title) for title, text, sim in works]
    sharing = sorted((s for s in scored if s[0]), key=lambda s: (-s[0], -s[1]))
    if sharing:
        return [title for _, _, title in sharing[:MAX_WORKS]]
    closest = max(scored, key=lambda s: s[1], default=None)
    return [closest[2]] if closest else []


def reader_language(text: str | None) -> str:
    """The language reasons default to: Chinese for a source with Chinese in it, else English."""
    return "zh-CN" if text and any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"
