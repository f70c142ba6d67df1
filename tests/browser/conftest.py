"""The portal served for real (uvicorn, demo data, its own data dir) and driven by Chromium.

Debian's /usr/bin/chromium is used (`make browser` installs it); without it every browser
test skips and says why. Screenshots of each page visited land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Loading and indexing the demo data and the first matches load the models: be patient.
SLOW_MS = 300_000
PASSWORDS = {
    "admin": "greenplat-admin",
    "js-center": "greenplat-center",
    "ent-huachu": "greenplat-ent",
    "exp-wangjianguo": "greenplat-expert",
    "exp-zhouming": "greenplat-expert",
}


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "浏览器测试跳过 / browser tests skip: /usr/bin/chromium is absent (make browser)"
        )


def _greenplat() -> str:
    found = Path(sys.executable).parent / "greenplat"
    return str(found) if found.exists() else (shutil.which("greenplat") or "greenplat")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(GREENPLAT_DATA_DIR=str(data_dir), GREENPLAT_ENV="test")
    return env


def _demo_ids(data_dir: Path) -> dict[str, str]:
    """external_id -> the URL path segment of each demo problem (the portal addresses records by
    external id; read before the server starts)."""
    from greenplat.core import links
    from greenplat.core.db import open_database
    from greenplat.core.settings import Settings

    database = open_database(Settings(env="test", data_dir=data_dir), upgrade=False)
    try:
        with database.session() as conn:
            rows = conn.execute("SELECT id, external_id FROM problems").fetchall()
    finally:
        database.close()
    return {row["external_id"]: links.segment(row["external_id"]) for row in rows}


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory, mailbox) -> Iterator[dict]:
    """The platform served by `greenplat serve` on a free port with the demo data loaded."""
    _require_chromium()
    data_dir = tmp_path_factory.mktemp("greenplat-portal")
    for path in (data_dir, *data_dir.parents):
        if str(path).startswith("/tmp"):
            path.chmod(path.stat().st_mode | 0o755)
    env = _environment(data_dir)
    subprocess.run(
        [_greenplat(), "demo", "load", "--data-dir", str(data_dir)],
        env=env,
        check=True,
        timeout=SLOW_MS / 1000 * 3,
        capture_output=True,
    )
    ids = _demo_ids(data_dir)
    port = _free_port()
    env.update(
        GREENPLAT_SMTP_HOST="127.0.0.1",
        GREENPLAT_SMTP_PORT=str(mailbox[1]),
        GREENPLAT_SMTP_TLS="none",
        GREENPLAT_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        [_greenplat(), "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the portal did not start; see {data_dir / 'serve.log'}")
            time.sleep(0.5)
        yield {"url": url, "ids": ids, "mail": mailbox[0], "data_dir": data_dir}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def chromium(portal):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Visit:
    """One user's browser tab on the portal, saving a screenshot of every page it shows."""

    def __init__(self, page, base: str, prefix: str) -> None:
        self.page = page
        self.base = base
        self.prefix = prefix
        self.count = 0
        self.saved: list[Path] = []

    def go(self, path: str, **options):
        response = self.page.goto(self.base + path, **options)
        return response

    def shot(self, name: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.saved.append(path)
        return path

    def sign_in(self, username: str) -> None:
        self.go("/login")
        self.page.fill("#f-username", username)
        self.page.fill("#f-password", PASSWORDS[username])
        with self.page.expect_navigation(timeout=SLOW_MS):
            self.page.click("#login-submit")


@pytest.fixture
def visit(chromium, portal, request) -> Iterator[Callable[..., Visit]]:
    """Opens a fresh browser context (desktop, or phone with phone=True) on the portal."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    contexts = []

    def open_tab(prefix: str, *, phone: bool = False) -> Visit:
        options = {"locale": "zh-CN", "accept_downloads": True}
        if phone:
            options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        else:
            options.update(viewport={"width": 1280, "height": 900})
        context = chromium.new_context(**options)
        context.set_default_timeout(60_000)
        context.set_default_navigation_timeout(SLOW_MS)
        contexts.append(context)
        return Visit(context.new_page(), portal["url"], prefix)

    yield open_tab
    for context in contexts:
        context.close()
