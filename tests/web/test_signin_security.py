"""CSRF on the signed-out forms, cookie flags and security headers on every response."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient


def test_a_cross_site_sign_in_without_the_form_token_is_refused(app, world, build):
    # Login CSRF: a page elsewhere posts the attacker's credentials from the victim's browser.
    with TestClient(app) as victim:
        victim.get("/login")  # the victim has a pre-session cookie, but the attacker cannot read it
        form = {"username": world.usernames["expert"], "password": build.PASSWORD}
        refused = victim.post("/login", data=form, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 422
        assert "gp_session" not in victim.cookies
        assert "表单已过期" in refused.text


def test_the_attackers_own_form_token_does_not_work_in_another_browser(app, world, build, csrf_of):
    with TestClient(app) as attacker, TestClient(app) as victim:
        token = csrf_of(attacker, "/login")
        victim.get("/login")
        form = {"csrf": token, "username": world.usernames["expert"], "password": build.PASSWORD}
        assert victim.post("/login", data=form).status_code == 422
        assert "gp_session" not in victim.cookies
        # The same token works in the browser it was made for.
        assert attacker.post("/login", data=form).status_code == 200
        assert "gp_session" in attacker.cookies


def test_sign_up_without_the_form_token_is_refused(anonymous, build):
    form = {
        "organization": "某企业",
        "username": f"x-{build.uid()}",
        "password": "long-enough-1",
        "password2": "long-enough-1",
    }
    assert anonymous.post("/signup", data=form).status_code == 422
    assert "gp_session" not in anonymous.cookies


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_session_cookies_are_httponly_lax_and_secure_over_tls(app, world, build, scheme):
    with TestClient(app, base_url=f"{scheme}://testserver") as browser:
        page = browser.get("/login")
        csrf = re.search(r'name="csrf" value="(\w+)"', page.text).group(1)
        form = {"csrf": csrf, "username": world.usernames["expert"], "password": build.PASSWORD}
        signed_in = browser.post("/login", data=form, follow_redirects=False)
    for cookie in (page.headers["set-cookie"], signed_in.headers["set-cookie"]):
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=lax" in flags
        assert ("secure" in flags) == (scheme == "https")


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize(
    "path",
    ["/login", "/v1/regions", "/v1/problems", "/static/app.js", "/no-such-page", "/healthz"],
)
def test_every_response_carries_the_security_headers(anonymous, path):
    response = anonymous.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
    assert "unsafe-inline" not in csp


def test_signed_in_pages_carry_the_headers_too(browser_as):
    page = browser_as("subcenter_admin").get("/subcenter/review")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_only_the_api_docs_page_may_load_swagger_from_its_cdn(anonymous):
    docs = anonymous.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp
    assert docs.headers["x-frame-options"] == "DENY"


def test_templates_have_no_inline_script_style_or_handlers():
    folder = resources.files("greenplat.api.web") / "templates"
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    found = []
    for template in folder.rglob("*.html"):
        found += [f"{template.name}: {m.group(0)}" for m in inline.finditer(template.read_text())]
    assert found == []
