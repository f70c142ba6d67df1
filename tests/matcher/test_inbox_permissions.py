"""The expert.inbox row of the permission table, enforced where the matcher serves inboxes."""

from __future__ import annotations

import pytest

from greenplat.core.errors import Forbidden
from greenplat.core.permissions import ALL, OWN, PERMISSIONS, REGION, ROLES


def expected(principal, expert: dict) -> bool:
    scope = PERMISSIONS[("expert", "inbox")][ROLES.index(principal.role)]
    return bool(
        ALL in scope
        or (OWN in scope and principal.expert_id == expert["id"])
        or (REGION in scope and principal.region == expert["region"])
    )


@pytest.mark.parametrize("account", ["acme", "battery", "water", "subcenter", "admin"])
def test_inbox_opens_exactly_where_the_table_says(mconn, matcher, world, account):
    principal = world.principals[account]
    for name in ("battery", "water", "busy"):
        expert = mconn.execute(
            "SELECT * FROM experts WHERE id = %s", (world.experts[name],)
        ).fetchone()
        try:
            matcher.expert_problems(expert["id"], principal=principal, page_size=1, conn=mconn)
            opened = True
        except Forbidden:
            opened = False
        assert opened is expected(principal, expert), (account, name)
