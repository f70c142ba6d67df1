"""Bad input to portal pages (NUL bytes, malformed path or query values) gets the HTML page."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/enterprise/problems?status=%00",  # PostgreSQL refuses the NUL byte
        "/problems/%00",  # no external id holds a NUL byte
        "/expert/inbox?page=not-a-number",
    ],
)
def test_bad_input_gets_the_portals_error_page_not_json(browser_as, path):
    response = browser_as("enterprise").get(path)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in response.text and '"error"' not in response.text


def test_a_nul_byte_in_a_posted_form_gets_the_error_page(browser_as, csrf_of):
    client = browser_as("enterprise")
    form = {"csrf": csrf_of(client), "title": "标题\x00", "description": "说明文字足够长。"}
    response = client.post("/enterprise/problems/new", data=form)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
