"""Organizations in the portal: sign-up with an existing name takes over nothing, members and
sub-centers approve joins, sub-centers verify new organizations."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def _sign_up(app, build, organization: str, region: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    username = f"web-{build.uid()}"
    csrf = re.search(r'name="csrf" value="(\w+)"', client.get("/signup").text).group(1)
    response = client.post(
        "/signup",
        data={
            "csrf": csrf,
            "organization": organization,
            "region": region,
            "username": username,
            "password": "long-enough-1",
            "password2": "long-enough-1",
        },
    )
    assert response.status_code == 200, response.text
    return client, response.text


def _confidential(db, build, world, status: str) -> int:
    with db.session() as conn:
        row = build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            owner=world.users["enterprise"],
            status=status,
            confidential=True,
            description="正极颗粒存在微裂纹，残碱偏高。",
        )
    return row["external_id"]


def test_portal_sign_up_with_a_taken_name_waits_for_approval(
    app, db, build, world, browser_as, csrf_of
):
    secret = _confidential(db, build, world, "approved")
    draft = _confidential(db, build, world, "draft")
    joiner, welcome = _sign_up(app, build, world.org_a, world.region_a)
    assert "加入申请已提交" in welcome
    page = joiner.get(f"/problems/{secret}")
    assert page.status_code == 200 and "微裂纹" not in page.text
    assert joiner.get(f"/problems/{draft}").status_code == 404
    assert "微裂纹" not in joiner.get("/enterprise/problems").text

    member = browser_as("enterprise")
    listed = member.get("/organizations")
    assert listed.status_code == 200 and world.org_a in listed.text
    assert world.org_other not in listed.text
    request_form = listed.text.split('class="card join-request"')[-1]
    action = request_form.split('action="')[1].split('"')[0]
    decided = member.post(action, data={"csrf": csrf_of(member), "decision": "approve"})
    assert decided.status_code == 200 and "已同意加入申请" in decided.text
    assert "微裂纹" in joiner.get(f"/problems/{secret}").text
    # A member edits its organization's drafts, not only the account that wrote them.
    assert 'id="edit-problem"' in joiner.get(f"/problems/{draft}").text
    assert joiner.get(f"/problems/{draft}/edit").status_code == 200
    joiner.close()


def test_portal_subcenter_verifies_a_new_organization(app, build, world, browser_as, csrf_of):
    name = f"新企业{build.uid()}"
    newcomer, welcome = _sign_up(app, build, name, world.region_a)
    assert "注册成功，欢迎使用绿平台" in welcome
    assert "待核验" in newcomer.get("/organizations").text
    assert 'class="secondary verify"' not in newcomer.get("/organizations").text

    far = browser_as("subcenter_b")
    assert name not in far.get("/organizations").text
    center = browser_as("subcenter_admin")
    page = center.get("/organizations").text
    assert name in page
    org_id = page.split(name)[0].rsplit('<tr id="o', 1)[1].split('"')[0]
    refused = far.post(f"/organizations/{org_id}/verify", data={"csrf": csrf_of(far)})
    assert refused.status_code == 404
    done = center.post(f"/organizations/{org_id}/verify", data={"csrf": csrf_of(center)})
    assert done.status_code == 200 and "组织已核验" in done.text
    newcomer.close()
