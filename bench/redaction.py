"""Cost of redaction before filtering: GET /v1/problems's list() as readers who see
confidential rows redacted (an expert, an enterprise) against a platform admin, who sees every
row in full, on the same synthetic problems in the same run.

The reader's rule is computed per row in SQL (_full) and hidden fields enter q=, organization=
and sort=budget_wan only through it; the admin's filter is TRUE. The ratio is what the rule
costs per query.
"""

from __future__ import annotations

import time

from greenplat.core.permissions import Principal
from greenplat.core.problems import service as problems

from .common import bench_database, percentile, summary_ms

QUERIES = {
    "first page": {},
    "q=余热": {"q": "余热"},
    "organization=": {"organization": "企业7"},
    "sort=-budget_wan": {"sort": "-budget_wan"},
}


def _fill(conn, size: int) -> int:
    conn.execute(
        "INSERT INTO organizations (name, kind, verified)"
        " SELECT '企业' || i, 'enterprise', true FROM generate_series(1, 100) i"
    )
    conn.execute(
        "INSERT INTO problems (external_id, title, description, keywords, region, organization,"
        " organization_id, budget_wan, status, confidential)"
        " SELECT 'B-' || i, '难题' || i,"
        " CASE WHEN i %% 7 = 0 THEN '窑炉余热回收' ELSE '工艺改进' END,"
        " ARRAY['节能'], (ARRAY['江苏', '浙江', '广东'])[1 + i %% 3], o.name, o.id, i %% 1000,"
        " (ARRAY['approved', 'matched', 'closed', 'draft', 'submitted'])[1 + i %% 5], i %% 3 = 0"
        " FROM generate_series(1, %s) i JOIN organizations o ON o.name = '企业' || (1 + i %% 100)",
        (size,),
    )
    return conn.execute("SELECT id FROM organizations WHERE name = '企业7'").fetchone()["id"]


def _time(db, principal: Principal, params: dict, rounds: int) -> list[float]:
    took = []
    for _ in range(rounds):
        with db.session() as conn:
            start = time.perf_counter()
            problems.list(conn=conn, principal=principal, page_size=20, **params)
            took.append(time.perf_counter() - start)
    return took


def run(size: int = 50_000, rounds: int = 60) -> None:
    with bench_database() as (settings, db):
        with db.session() as conn:
            org7 = _fill(conn, size)
            conn.execute("ANALYZE problems")
        readers = {
            "platform admin (baseline)": Principal(id=None, username="a", role="platform_admin"),
            "expert": Principal(id=None, username="e", role="expert"),
            "enterprise": Principal(id=None, username="n", role="enterprise", organization_id=org7),
        }
        print(f"list() over {size} problems (a third confidential), {rounds} rounds each")
        for name, params in QUERIES.items():
            base = _time(db, readers["platform admin (baseline)"], params, rounds)
            for reader, principal in readers.items():
                took = (
                    base if reader.endswith("(baseline)") else _time(db, principal, params, rounds)
                )
                ratio = percentile(took, 50) / percentile(base, 50)
                print(f"  {name:18} {reader:26} {summary_ms(took)}   p50 ratio {ratio:4.2f}")
