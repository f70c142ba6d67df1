"""Reference lists: what ships, how text resolves to a canonical value, admins' aliases."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from greenplat.core.errors import Conflict, Forbidden, InvalidInput
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemCreate, ProblemUpdate
from greenplat.core.reference import service as reference
from greenplat.core.reference.lists import KINDS, reference_list

DEMO = resources.files("greenplat.core.demo").joinpath("data")


def _demo(name: str) -> list[dict]:
    return [json.loads(line) for line in DEMO.joinpath(name).read_text().splitlines() if line]


def test_regions_are_the_34_provincial_divisions_with_gb2260_codes():
    regions = reference_list("region")
    codes = [e.code for e in regions.entries]
    assert len(regions.entries) == 34
    assert len(set(codes)) == 34 and all(len(c) == 6 and c.endswith("0000") for c in codes)
    assert "GB/T 2260" in regions.source
    assert {"北京市", "江苏省", "内蒙古自治区", "香港特别行政区", "澳门特别行政区"} <= set(
        regions.names()
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_list_states_its_source_and_no_alias_names_two_values(kind):
    shipped = reference_list(kind)
    assert shipped.source
    names = shipped.names()
    assert len(names) == len(set(names))
    aliases = [a for e in shipped.entries for a in e.aliases]
    assert len(aliases) == len(set(aliases))
    assert not set(aliases) & set(names)


def test_the_demo_data_uses_only_canonical_values(conn):
    def status(kind: str, value: str) -> str:
        return reference.resolve(kind, value, conn=conn).status

    problems = _demo("problems.jsonl")
    assert {status("industry", p["industry"]) for p in problems} == {"canonical"}
    assert {status("region", p["region"]) for p in problems} == {"canonical"}
    assert {status("industry", i) for i in ("信息产业", "生物医药", "智能制造", "新能源")} == {
        "canonical"
    }
    disciplines = {a["discipline"] for a in _demo("achievements.jsonl")}
    disciplines |= {d for e in _demo("experts.jsonl") for d in e["disciplines"]}
    assert {status("discipline", d) for d in disciplines} == {"canonical"}


@pytest.mark.parametrize(
    ("kind", "text", "value", "status"),
    [
        ("region", "江苏省", "江苏省", "canonical"),
        ("region", "江苏", "江苏省", "mapped"),
        ("region", "Jiangsu", "江苏省", "mapped"),
        ("region", "Jiangsu Province", "江苏省", "mapped"),
        ("region", " jiangsu  province ", "江苏省", "mapped"),
        ("region", "安徽", "安徽省", "mapped"),
        ("region", "Hong Kong SAR", "香港特别行政区", "mapped"),
        ("region", "Shaanxi", "陕西省", "mapped"),
        ("region", "Shanxi", "山西省", "mapped"),
        ("industry", "新能源🔋", "新能源", "mapped"),
        ("industry", "Mining", "采矿业", "mapped"),
        ("discipline", "材料科学", "材料科学与工程", "mapped"),
    ],
)
def test_resolve_maps_names_and_aliases(conn, kind, text, value, status):
    resolved = reference.resolve(kind, text, conn=conn)
    assert (resolved.value, resolved.status) == (value, status)


def test_an_unknown_value_comes_back_with_the_closest_valid_values(conn):
    resolved = reference.resolve("region", "火星省", conn=conn)
    assert resolved.status == "unknown" and resolved.value is None
    assert len(resolved.closest) == 3
    assert set(resolved.closest) <= set(reference.choices(conn=conn, kind="region"))
    assert reference.resolve("industry", "新能原", conn=conn).closest[0] == "新能源"
    assert reference.resolve("region", "江苏生", conn=conn).closest[0] == "江苏省"


def test_the_platforms_own_regions_are_valid_and_offered_first(conn, world):
    assert reference.resolve("region", world.region_a, conn=conn).status == "canonical"
    sub_center = reference.resolve("region", f"{world.region_a}分中心", conn=conn)
    assert (sub_center.value, sub_center.status) == (world.region_a, "mapped")
    assert world.region_a in reference.choices(conn=conn, kind="region")[:-34]


def test_a_platform_admin_adds_an_alias_and_others_may_not(conn, world):
    admin = world.users["platform_admin"]
    assert reference.resolve("region", "苏南", conn=conn).status == "unknown"
    reference.add_alias(conn=conn, principal=admin, kind="region", alias="苏南", canonical="江苏省")
    assert reference.resolve("region", "苏南", conn=conn).value == "江苏省"
    with pytest.raises(Forbidden):
        reference.add_alias(
            conn=conn,
            principal=world.users["subcenter_admin"],
            kind="region",
            alias="苏北",
            canonical="江苏省",
        )


def test_an_alias_must_point_at_a_valid_value_and_not_shadow_one(conn, world):
    admin = world.users["platform_admin"]
    with pytest.raises(InvalidInput) as bad:
        reference.add_alias(
            conn=conn, principal=admin, kind="region", alias="x", canonical="火星省"
        )
    assert bad.value.field == "canonical"
    with pytest.raises(Conflict):
        reference.add_alias(
            conn=conn, principal=admin, kind="region", alias="安徽省", canonical="江苏省"
        )
    with pytest.raises(InvalidInput) as kind:
        reference.resolve("planet", "x", conn=conn)
    assert kind.value.field == "kind"


def test_posting_a_problem_maps_its_region_and_refuses_a_made_up_industry(conn, world):
    enterprise = world.users["enterprise"]
    posted = problems.create(
        conn=conn,
        principal=enterprise,
        data=ProblemCreate(title="储能", description="需要储能方案", industry="New energy"),
    )
    assert (posted.industry, posted.region) == ("新能源", world.region_a)
    with pytest.raises(InvalidInput) as refused:
        problems.update(
            conn=conn,
            principal=enterprise,
            problem_id=posted.id,
            data=ProblemUpdate(industry="新能源🔋🔋 电池 储能 充电"),
        )
    assert refused.value.field == "industry" and "新能源" in refused.value.message
