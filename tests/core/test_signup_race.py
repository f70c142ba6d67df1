"""Two sign-ups racing for one new organization name: one creates it, the other asks to join."""

from __future__ import annotations

import threading
import time

from greenplat.core.accounts import service as accounts


def test_racing_sign_ups_make_one_member_and_one_request(db, build, world):
    name = f"同时注册{build.uid()}"
    results = {}

    def sign_up(key: str, conn) -> None:
        results[key] = accounts.signup_enterprise(
            conn=conn,
            username=f"race-{key}-{build.uid()}",
            password=build.PASSWORD,
            organization=name,
            region=world.region_a,
        )

    with db.pool.connection() as first, db.pool.connection() as second:
        sign_up("first", first)  # holds the new name, uncommitted
        racer = threading.Thread(target=sign_up, args=("second", second))
        racer.start()
        time.sleep(0.5)  # the second insert now waits on the first transaction
        first.commit()
        racer.join(timeout=10)
        second.commit()

    assert results["first"].organization == name and results["first"].organization_pending is None
    assert results["second"].organization is None
    assert results["second"].organization_pending == name
