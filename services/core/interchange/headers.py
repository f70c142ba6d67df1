"""Column headers of interchange files: the contract's names, and the Chinese ones read as them.

CSV and XLSX imports read a header through `canonical()`, so a sheet headed 标题, 摘要,
外部编号 imports like one headed title, abstract, external_id. The labels also head the
import templates' guide and the error report. docs/imports.md lists the map.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One contract field: its label in each language, whether required, and other headers
    read as it."""

    name: str
    zh: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()


_ID = Column("external_id", "外部编号", "External id", True, ("编号", "外部ID"))
_KEYWORDS = Column("keywords", "关键词", "Keywords", aliases=("关键字",))
_ORGANIZATION = Column("organization", "单位", "Organization", aliases=("所属单位", "机构"))
_REGION = Column("region", "地区", "Region", aliases=("所在地区", "省份"))

COLUMNS: dict[str, tuple[Column, ...]] = {
    "problems": (
        _ID,
        Column("title", "标题", "Title", True, ("需求名称", "难题名称", "名称")),
        Column("description", "描述", "Description", True, ("需求描述", "难题描述", "内容")),
        _KEYWORDS,
        Column("industry", "行业", "Industry", aliases=("所属行业",)),
        _REGION,
        Column("organization", "企业", "Organization", aliases=("单位", "企业名称", "所属单位")),
        Column("budget_wan", "预算（万元）", "Budget (10k CNY)", aliases=("预算", "预算(万元)")),
        Column("deadline", "截止日期", "Deadline", aliases=("截止时间",)),
        Column("status", "状态", "Status"),
        Column("confidential", "保密", "Confidential", aliases=("是否保密",)),
    ),
    "achievements": (
        _ID,
        Column("title", "标题", "Title", True, ("成果名称", "名称")),
        Column("abstract", "摘要", "Abstract", True, ("成果摘要", "简介")),
        _KEYWORDS,
        Column("kind", "类型", "Kind", aliases=("成果类型",)),
        Column("discipline", "学科", "Discipline", aliases=("所属学科",)),
        Column("year", "年份", "Year", aliases=("年度",)),
        _ORGANIZATION,
        Column("expert_ids", "专家编号", "Expert ids", aliases=("专家",)),
    ),
    "experts": (
        _ID,
        Column("name", "姓名", "Name", True, ("专家姓名",)),
        _ORGANIZATION,
        Column("title", "职称", "Title"),
        Column("disciplines", "学科", "Disciplines", aliases=("研究领域", "所属学科")),
        _KEYWORDS,
        Column("bio", "简介", "Biography", aliases=("个人简介",)),
        _REGION,
        Column("capacity", "容量", "Capacity", aliases=("最多同时处理需求数",)),
    ),
}


def _folded(header: str) -> str:
    return "".join(header.split()).lower()


def _aliases(library: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for column in COLUMNS[library]:
        for header in (column.name, column.zh, column.en, *column.aliases):
            out.setdefault(_folded(header), column.name)
    return out


_ALIASES = {library: _aliases(library) for library in COLUMNS}


def canonical(header: str, library: str | None) -> str:
    """The contract name a header stands for; an unknown header is kept as it is (extra)."""
    if library is None:
        # Without a library only external_id is known in every language.
        return _ALIASES["problems"].get(_folded(header), header) if _is_id(header) else header
    return _ALIASES[library].get(_folded(header), header)


def _is_id(header: str) -> bool:
    return _ALIASES["problems"].get(_folded(header)) == "external_id"


def label(library: str, name: str, lang: str) -> str:
    """A field's label in the reader's language (the name itself when it is not a column)."""
    for column in COLUMNS.get(library, ()):
        if column.name == name:
            return column.zh if lang == "zh-CN" else column.en
    return name
