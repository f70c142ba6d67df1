"""Checking values against the reference lists: resolve, import-row normalisation, aliases."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import Conflict, InvalidInput
from greenplat.core.permissions import Principal, require_any
from greenplat.core.reference.lists import KINDS, closest, key, reference_list

Status = Literal["canonical", "mapped", "unknown"]
# library: {field: kind}; list fields (disciplines) are checked item by item.
CHECKED: dict[str, dict[str, str]] = {
    "problems": {"region": "region", "industry": "industry"},
    "experts": {"region": "region", "disciplines": "discipline"},
    "achievements": {"discipline": "discipline"},
}
_LIST_SPLIT = re.compile(r"[;；]")
KIND_NAMES = {"region": "地区", "industry": "行业", "discipline": "学科"}


class UnknownReference(InvalidInput):
    """A value that is neither in its reference list nor a known alias of one."""

    code = "unknown_reference"

    def __init__(self, unknown: list[tuple[str, Resolution]]) -> None:
        message = "; ".join(unknown_message(field, r) for field, r in unknown)
        super().__init__(message, field=unknown[0][0])
        self.unknown = unknown


@dataclass(frozen=True)
class Resolution:
    kind: str
    given: str
    value: str | None
    status: Status
    closest: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mapped:
    """An import value replaced by its canonical form."""

    field: str
    given: str
    value: str


@dataclass(frozen=True)
class Vocabulary:
    kind: str
    canonical: dict[str, str]  # key -> canonical name
    aliases: dict[str, str]  # key -> canonical name


def check_kind(kind: str) -> None:
    """Raise InvalidInput unless kind names a reference list."""
    if kind not in KINDS:
        raise InvalidInput(
            f"未知的参考列表 {kind}，可选 region、industry、discipline / unknown list {kind}",
            field="kind",
        )


@cache
def _shipped_spellings(kind: str) -> tuple[dict[str, str], dict[str, str]]:
    shipped = reference_list(kind)
    canonical = {key(kind, name): name for name in shipped.names()}
    aliases = {key(kind, a): e.name for e in shipped.entries for a in e.aliases}
    return canonical, aliases


def vocabulary(*, conn: Connection, kind: str) -> Vocabulary:
    """The valid values of a kind: the shipped list, the platform's regions, admins' aliases."""
    check_kind(kind)
    # Copies: the shipped spellings are cached, and the platform's own are added below.
    canonical, aliases = (dict(spellings) for spellings in _shipped_spellings(kind))
    if kind == "region":
        for r in conn.execute("SELECT name, subcenter_name FROM regions"):
            canonical[key(kind, r["name"])] = r["name"]
            aliases.setdefault(key(kind, r["subcenter_name"]), r["name"])
    for r in conn.execute(
        "SELECT alias, canonical FROM reference_aliases WHERE kind = %s", (kind,)
    ):
        aliases[key(kind, r["alias"])] = r["canonical"]
    return Vocabulary(kind, canonical, aliases)


def choices(*, conn: Connection, kind: str) -> list[str]:
    """The canonical values a form offers, in list order (the platform's regions first)."""
    values = vocabulary(conn=conn, kind=kind).canonical.values()
    shipped = reference_list(kind).names()
    return [v for v in values if v not in shipped] + shipped


def lookup(vocab: Vocabulary, text: str) -> Resolution:
    """Resolve text within an already loaded vocabulary."""
    if text in vocab.canonical.values():
        return Resolution(vocab.kind, text, text, "canonical")
    k = key(vocab.kind, text)
    found = vocab.canonical.get(k) or vocab.aliases.get(k)
    if found:
        return Resolution(vocab.kind, text, found, "mapped")
    spellings = {**vocab.aliases, **vocab.canonical}
    return Resolution(
        vocab.kind, text, None, "unknown", tuple(closest(vocab.kind, text, spellings))
    )


def resolve(kind: str, text: str, *, conn: Connection) -> Resolution:
    """The canonical value text names: itself, the value of an alias, or unknown with the
    closest valid values."""
    return lookup(vocabulary(conn=conn, kind=kind), text)


def unknown_message(field: str, r: Resolution) -> str:
    """A bilingual reason naming the closest valid values."""
    near = "、".join(r.closest)
    return (
        f"{field}: {KIND_NAMES[r.kind]}「{r.given}」不在参考列表中，最接近的有：{near} / "
        f"{r.kind} {r.given!r} is not in the reference list; closest: {', '.join(r.closest)}"
    )


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [item.strip() for item in _LIST_SPLIT.split(value) if item.strip()]
    return value if isinstance(value, list) else [value]


def normalise_record(
    *, conn: Connection, library: str, data: dict[str, Any]
) -> tuple[dict[str, Any], list[Mapped]]:
    """The row with every reference field in canonical form, and what was mapped.

    Raises UnknownReference naming each unknown value and its closest valid values."""
    out, mapped, problems = dict(data), [], []
    for field, kind in CHECKED.get(library, {}).items():
        value = data.get(field)
        if value is None or value == "" or value == []:
            continue
        vocab = vocabulary(conn=conn, kind=kind)
        resolved = []
        for item in _items(value):
            if not isinstance(item, str):
                resolved.append(item)
                continue
            r = lookup(vocab, item.strip())
            if r.status == "unknown":
                problems.append((field, r))
            elif r.status == "mapped":
                mapped.append(Mapped(field, item, r.value or item))
            resolved.append(r.value or item)
        out[field] = resolved if isinstance(value, list) or field == "disciplines" else resolved[0]
    if problems:
        raise UnknownReference(problems)
    return out, mapped


def add_alias(
    *, conn: Connection, principal: Principal, kind: str, alias: str, canonical: str
) -> Resolution:
    """Teach the platform that alias means canonical (platform admins); returns the mapping."""
    require_any(principal, "reference", "manage")
    vocab = vocabulary(conn=conn, kind=kind)
    alias = alias.strip()
    if not key(kind, alias):
        raise InvalidInput("别名不能为空 / alias must not be empty", field="alias")
    if canonical not in vocab.canonical.values():
        raise InvalidInput(
            f"「{canonical}」不是有效的{KIND_NAMES[kind]} / {canonical!r} is not a valid {kind}",
            field="canonical",
        )
    if key(kind, alias) in vocab.canonical:
        raise Conflict(
            f"「{alias}」本身是有效值，请用合并 / {alias!r} is itself a valid value: merge instead",
            field="alias",
        )
    conn.execute(
        "INSERT INTO reference_aliases (kind, alias_key, alias, canonical, created_by)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kind, alias_key)"
        " DO UPDATE SET alias = EXCLUDED.alias, canonical = EXCLUDED.canonical,"
        " created_by = EXCLUDED.created_by, created_at = now()",
        (kind, key(kind, alias), alias, canonical, principal.id),
    )
    audit.record(
        conn,
        actor=principal,
        action="alias",
        library=kind,
        external_id=alias,
        detail={"alias": alias, "canonical": canonical},
    )
    return Resolution(kind, alias, canonical, "mapped")


def subcenter_region(*, conn: Connection, region: str | None) -> str:
    """The region a new account belongs to: required, mapped from an alias, with a sub-center."""
    centers = [r["name"] for r in conn.execute("SELECT name FROM regions ORDER BY code")]
    offered = "、".join(centers)
    if region is None or not region.strip():
        raise InvalidInput(
            f"请选择所在地区，可选：{offered} / region is required: one of {', '.join(centers)}",
            field="region",
        )
    value = resolve("region", region, conn=conn).value
    if value is None or value not in centers:
        raise InvalidInput(
            f"地区「{region}」没有分中心，可选：{offered} / region {region!r} has no sub-center",
            field="region",
        )
    return value


def describe_list(*, conn: Connection, kind: str) -> dict[str, Any]:
    """A list as the API shows it: the shipped entries, the platform's values, added aliases."""
    check_kind(kind)
    shipped = reference_list(kind)
    rows = conn.execute(
        "SELECT alias, canonical FROM reference_aliases WHERE kind = %s ORDER BY alias", (kind,)
    )
    return {
        "kind": kind,
        "source": shipped.source,
        "entries": [
            {"code": e.code, "name": e.name, "aliases": list(e.aliases)} for e in shipped.entries
        ],
        "platform_values": [v for v in choices(conn=conn, kind=kind) if v not in shipped.names()],
        "added_aliases": {r["alias"]: r["canonical"] for r in rows},
    }


def tally_mapped(mapped: list[tuple[int, Mapped]]) -> list[dict[str, Any]]:
    """An import's mapped values, once per (field, given, value), with how many rows."""
    counts = Counter((m.field, m.given, m.value) for _, m in mapped)
    return [
        {"field": f, "given": g, "value": v, "count": n} for (f, g, v), n in counts.most_common()
    ]


def tally_unknown(unknown: list[tuple[int, Resolution]]) -> list[dict[str, Any]]:
    """An import's unknown values, once per (kind, given), with the closest valid values."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for _, r in unknown:
        entry = seen.setdefault((r.kind, r.given), {"kind": r.kind, "given": r.given, "count": 0})
        entry["count"] += 1
        entry["closest"] = list(r.closest)
    return sorted(seen.values(), key=lambda e: -e["count"])
