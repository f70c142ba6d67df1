"""The shipped demo data: every row valid, every reference resolvable, every count as promised."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import cache
from importlib.resources import files
from typing import Any

import pytest

from greenplat.core.accounts.models import UserCreate
from greenplat.core.achievements.models import AchievementRecord
from greenplat.core.experts.models import ExpertRecord
from greenplat.core.permissions import ROLES
from greenplat.core.problems.models import ProblemRecord

INDUSTRIES = {"新能源", "新材料", "生物医药", "智能制造", "节能环保", "电子信息"}
DEMO_PASSWORDS = {
    "platform_admin": "greenplat-admin",
    "subcenter_admin": "greenplat-center",
    "enterprise": "greenplat-ent",
    "expert": "greenplat-expert",
}
LIBRARIES = {
    "problems": ProblemRecord,
    "achievements": AchievementRecord,
    "experts": ExpertRecord,
}


@cache
def rows(name: str) -> tuple[dict[str, Any], ...]:
    """The records of one demo file, read through the installed package."""
    text = files("greenplat.core.demo").joinpath("data", f"{name}.jsonl").read_text("utf-8")
    return tuple(json.loads(line) for line in text.splitlines() if line.strip())


def _by(name: str, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows(name)}


def _region_names() -> set[str]:
    return {row["name"] for row in rows("regions")}


def _accounts() -> dict[str, dict[str, Any]]:
    return _by("accounts", "username")


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_every_record_passes_its_interchange_schema(library: str) -> None:
    model = LIBRARIES[library]
    for line, row in enumerate(rows(library), 1):
        record = model.model_validate(row)
        assert record.external_id == row["external_id"], (library, line)


@pytest.mark.parametrize(
    ("library", "minimum"), [("problems", 30), ("achievements", 60), ("experts", 40)]
)
def test_libraries_hold_enough_records_with_unique_external_ids(library: str, minimum: int) -> None:
    ids = [row["external_id"] for row in rows(library)]
    assert len(ids) >= minimum
    duplicates = [item for item, count in Counter(ids).items() if count > 1]
    assert duplicates == []


def test_regions_are_the_five_sub_centers() -> None:
    regions = rows("regions")
    assert {row["code"] for row in regions} == {"js", "gd", "zj", "sd", "sc"}
    assert _region_names() == {"江苏省", "广东省", "浙江省", "山东省", "四川省"}
    assert all(row["subcenter_name"].endswith("分中心") for row in regions)


def test_every_region_used_by_a_record_exists() -> None:
    known = _region_names()
    for library in ("problems", "experts"):
        used = {row["region"] for row in rows(library)}
        assert used <= known, (library, used - known)
    # Every sub-center has something in its own region to review and to count.
    assert {row["region"] for row in rows("problems")} == known
    assert {row["region"] for row in rows("experts")} == known


def test_problems_use_the_six_industries() -> None:
    used = Counter(row["industry"] for row in rows("problems"))
    assert set(used) == INDUSTRIES
    assert min(used.values()) >= 3


def test_problem_statuses_feed_every_demo_queue() -> None:
    problems = rows("problems")
    statuses = Counter(row["status"] for row in problems)
    assert statuses["approved"] >= 20
    assert statuses["submitted"] == 5
    assert (statuses["draft"], statuses["matched"], statuses["closed"]) == (2, 2, 1)
    assert statuses["returned"] == 1
    submitted_regions = {row["region"] for row in problems if row["status"] == "submitted"}
    assert submitted_regions == _region_names()
    assert sum(row["confidential"] for row in problems) == 3
    assert all(row["deadline"].startswith("2027-") for row in problems)


def test_problems_come_from_about_ten_enterprises_in_every_region() -> None:
    problems = rows("problems")
    organizations = {row["organization"] for row in problems}
    assert 8 <= len(organizations) <= 12
    regions_per_org = {
        org: {p["region"] for p in problems if p["organization"] == org} for org in organizations
    }
    assert all(len(regions) == 1 for regions in regions_per_org.values())


def test_every_problem_owner_is_an_enterprise_account_of_its_organization() -> None:
    accounts = _accounts()
    for problem in rows("problems"):
        owner = accounts.get(problem["owner_username"])
        assert owner is not None, problem["external_id"]
        assert owner["role"] == "enterprise", problem["external_id"]
        assert owner["organization"] == problem["organization"], problem["external_id"]
        assert owner["region"] == problem["region"], problem["external_id"]


def test_achievement_authors_exist_and_every_expert_has_achievements() -> None:
    experts = _by("experts", "external_id")
    authored: Counter[str] = Counter()
    for achievement in rows("achievements"):
        assert 1 <= len(achievement["expert_ids"]) <= 3, achievement["external_id"]
        unknown = set(achievement["expert_ids"]) - set(experts)
        assert unknown == set(), achievement["external_id"]
        authored.update(achievement["expert_ids"])
    assert {
        expert_id: authored[expert_id] for expert_id in experts if not 1 <= authored[expert_id] <= 3
    } == {}


def test_achievements_mix_kinds_and_years() -> None:
    achievements = rows("achievements")
    kinds = Counter(row["kind"] for row in achievements)
    assert set(kinds) == {"paper", "patent", "software", "technology", "standard", "other"}
    assert all(2015 <= row["year"] <= 2026 for row in achievements)


def test_texts_are_substantial() -> None:
    for row in rows("achievements"):
        assert 100 <= len(row["abstract"]) <= 600, row["external_id"]
        assert 3 <= len(row["keywords"]) <= 8, row["external_id"]
    for row in rows("experts"):
        assert 4 <= len(row["keywords"]) <= 8, row["external_id"]
        assert 3 <= row["capacity"] <= 8, row["external_id"]
        assert len(row["bio"]) >= 40, row["external_id"]
    for row in rows("problems"):
        if row["status"] in ("approved", "matched", "closed", "submitted"):
            assert len(row["description"]) >= 100, row["external_id"]


def test_some_records_are_in_english() -> None:
    def english(text: str) -> bool:
        return _HAN.search(text) is None

    assert sum(english(row["title"] + row["description"]) for row in rows("problems")) >= 2
    assert sum(english(row["title"]) for row in rows("achievements")) >= 3
    assert sum(english(row["name"]) for row in rows("experts")) >= 3


def test_two_experts_work_for_enterprises_that_post_problems() -> None:
    enterprises = {row["organization"] for row in rows("problems")}
    in_house = [row for row in rows("experts") if row["organization"] in enterprises]
    assert len(in_house) == 2


def test_accounts_cover_every_role_with_valid_links() -> None:
    accounts = rows("accounts")
    experts = _by("experts", "external_id")
    regions = _region_names()
    for account in accounts:
        fields = {key: value for key, value in account.items() if key != "expert_external_id"}
        UserCreate.model_validate(fields)
        assert account["password"] == DEMO_PASSWORDS[account["role"]], account["username"]
        assert account["region"] is None or account["region"] in regions, account["username"]
        linked = account["expert_external_id"]
        assert (linked is not None) == (account["role"] == "expert"), account["username"]
        if linked is not None:
            assert linked in experts, account["username"]
            assert experts[linked]["organization"] == account["organization"]
    roles = Counter(account["role"] for account in accounts)
    assert set(roles) == set(ROLES)
    assert roles["platform_admin"] == 1 and roles["expert"] == 5
    admins = {a["region"] for a in accounts if a["role"] == "subcenter_admin"}
    assert admins == regions and roles["subcenter_admin"] == len(regions)
    assert len({a["username"] for a in accounts}) == len(accounts)
    assert _accounts()["admin"]["role"] == "platform_admin"


def test_every_enterprise_that_posts_problems_has_an_account() -> None:
    enterprise_orgs = {a["organization"] for a in rows("accounts") if a["role"] == "enterprise"}
    assert {row["organization"] for row in rows("problems")} == enterprise_orgs


def _intended() -> dict[str, dict[str, Any]]:
    return _by("intended_matches", "problem_id")


def test_intended_matches_name_real_records_and_cover_every_problem() -> None:
    achievements = _by("achievements", "external_id")
    experts = _by("experts", "external_id")
    intended = _intended()
    assert set(intended) == {row["external_id"] for row in rows("problems")}
    for problem in rows("problems"):
        pair = intended[problem["external_id"]]
        assert set(pair["achievement_ids"]) <= set(achievements), problem["external_id"]
        assert set(pair["expert_ids"]) <= set(experts), problem["external_id"]
        if problem["status"] == "approved":
            assert 2 <= len(pair["achievement_ids"]) <= 4, problem["external_id"]
            assert 2 <= len(pair["expert_ids"]) <= 4, problem["external_id"]


def test_in_house_experts_fit_their_employers_problem() -> None:
    problems = _by("problems", "external_id")
    enterprises = {row["organization"] for row in problems.values()}
    for expert in rows("experts"):
        if expert["organization"] in enterprises:
            fits = [
                pid
                for pid, pair in _intended().items()
                if expert["external_id"] in pair["expert_ids"]
                and problems[pid]["organization"] == expert["organization"]
                and problems[pid]["status"] == "approved"
            ]
            assert fits, expert["external_id"]


_WORD = re.compile(r"[a-z0-9]+")
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def _terms(text: str) -> set[str]:
    """Latin words and Chinese character bigrams: a crude, model-free view of a text."""
    text = text.lower()
    terms = set(_WORD.findall(text))
    for run in _HAN.findall(text):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def _ranked(query: set[str], docs: dict[str, set[str]]) -> list[str]:
    def cosine(doc: set[str]) -> float:
        return len(query & doc) / math.sqrt(len(query) * len(doc))

    return sorted(docs, key=lambda key: -cosine(docs[key]))


def test_intended_matches_share_vocabulary_with_their_problem() -> None:
    """The pairings must show in the words themselves, so any matcher can find them."""
    achievements = {
        row["external_id"]: _terms(" ".join([row["title"], *row["keywords"], row["abstract"]]))
        for row in rows("achievements")
    }
    authored: dict[str, list[str]] = {}
    for row in rows("achievements"):
        for expert_id in row["expert_ids"]:
            authored.setdefault(expert_id, []).extend([row["title"], *row["keywords"]])
    experts = {
        row["external_id"]: _terms(
            " ".join([*row["keywords"], row["bio"], *authored[row["external_id"]]])
        )
        for row in rows("experts")
    }
    for problem in rows("problems"):
        query = _terms(" ".join([problem["title"], *problem["keywords"], problem["description"]]))
        pair = _intended()[problem["external_id"]]
        top_achievements = set(_ranked(query, achievements)[:5])
        wanted = min(2, len(pair["achievement_ids"]))
        assert len(top_achievements & set(pair["achievement_ids"])) >= wanted, problem[
            "external_id"
        ]
        assert _ranked(query, experts)[0] in pair["expert_ids"], problem["external_id"]
