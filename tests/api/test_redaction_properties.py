"""No reader learns a hidden field of a confidential problem through any filter or sort of
GET /v1/problems: two worlds that differ only in hidden fields give the same answers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenplat.core.problems.service import SORTABLE

TITLES = ("余热回收", "电池产气", "废水脱色")
WORDS = ("残碱", "微裂纹", "余热", "电池", "配方", "NCM811")
BUDGETS = (None, 1, 50, 900)
READERS = ("expert", "enterprise2")

hidden = st.fixed_dictionaries(
    {
        "description": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map("".join),
        "keywords": st.lists(st.sampled_from(WORDS), max_size=2),
        "organization": st.sampled_from(("org_a", "乙企业", None)),
        "budget_wan": st.sampled_from(BUDGETS),
        "owned": st.booleans(),
    }
)
problem = st.fixed_dictionaries(
    {
        "title": st.sampled_from(TITLES),
        "status": st.sampled_from(("approved", "matched", "closed")),
        "confidential": st.booleans(),
        "one": hidden,
        "two": hidden,
    }
)
query = st.fixed_dictionaries(
    {},
    optional={
        "q": st.sampled_from(WORDS + TITLES),
        "organization": st.sampled_from(("org_a", "乙企业")),
        "sort": st.sampled_from([f"{d}{s}" for s in SORTABLE for d in ("", "-")]),
        "status": st.sampled_from(("approved", "matched", "closed")),
    },
)
# What a reader sees of a row, less what tells the two worlds apart by construction.
_SAME = ("id", "external_id", "region", "created_at", "updated_at")


def _store(db, build, world, region: str, specs: list[dict], side: str) -> None:
    with db.session() as conn:
        for spec in specs:
            secret = spec[side] if spec["confidential"] else spec["one"]
            org = world.org_a if secret["organization"] == "org_a" else secret["organization"]
            build.problem(
                conn,
                region=region,
                organization=org,
                owner=world.users["enterprise"] if secret["owned"] else None,
                status=spec["status"],
                confidential=spec["confidential"],
                title=spec["title"],
                description=secret["description"],
                keywords=secret["keywords"],
                budget_wan=secret["budget_wan"],
            )


def _answer(client, headers, world, region: str, params: dict) -> tuple:
    if params.get("organization") == "org_a":
        params = {**params, "organization": world.org_a}
    response = client.get(
        "/v1/problems", params={**params, "region": region, "page_size": 100}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rows = [{k: v for k, v in p.items() if k not in _SAME} for p in body["items"]]
    return body["total"], rows


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(problem, min_size=1, max_size=4),
    queries=st.lists(query, min_size=1, max_size=4),
)
def test_filters_and_sorts_reveal_no_hidden_field(client, tokens, world, build, db, specs, queries):
    tag = build.uid()
    regions = (f"世界一{tag}", f"世界二{tag}")
    try:
        for region, side in zip(regions, ("one", "two"), strict=True):
            _store(db, build, world, region, specs, side)
        for reader in READERS:
            for params in queries:
                one, two = (_answer(client, tokens[reader], world, r, params) for r in regions)
                assert one == two, (reader, params)
    finally:
        with db.session() as conn:
            conn.execute("DELETE FROM problems WHERE region = ANY(%s)", (list(regions),))
