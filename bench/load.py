"""Load over HTTP on loopback: the served platform under concurrent users, against a bare
FastAPI "hello" app measured in the same run.

    python -m bench load [--duration 60] [--levels 8,32,64] [--experts 0] [--workers N]

A fresh --data-dir gets the demo data (`greenplat demo load`); with --experts N, N synthetic
experts (two works each, vectors around real e5 embeddings, as bench.match_latency builds
them) are added. `greenplat serve` then runs on a random port with default settings, from
--workers processes (default: settings.web_workers, one per core up to 4); the bare app is
served by as many uvicorn workers.
Each level runs `duration` seconds of a fixed mix from that many concurrent clients (httpx,
one asyncio loop in this process): problem list, problem detail, free-text expert search,
problem -> experts, an expert's inbox and sign-in. Per endpoint: requests/s, p50/p95/p99,
errors (any status but 200, or no answer within 60 s). The bare app answers GET /hello to
the same number of clients; list and detail are then driven alone at that concurrency and
reported as a share of hello's requests/s.
Search and match p95 at each level are compared with their single-user p95 (one client,
those two endpoints only).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi import FastAPI

from greenplat.core.settings import Settings

from .common import percentile
from .latency import Corpus

hello_app = FastAPI()


@hello_app.get("/hello")
def hello() -> dict[str, str]:
    """The baseline: a sync route (like the platform's), no database."""
    return {"hello": "world"}


# endpoint -> weight in the mix
MIX = {"list": 25, "detail": 25, "search": 15, "match": 15, "inbox": 10, "login": 10}
ADMIN = ("admin", "greenplat-admin")
EXPERT = ("exp-wangjianguo", "greenplat-expert")
ENTERPRISE = ("ent-huachu", "greenplat-ent")
TIMEOUT = 60.0


@dataclass
class Tally:
    """Latencies and errors per endpoint during one level."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, seconds: float, error: str | None) -> None:
        self.seconds[name].append(seconds)
        if error is not None:
            self.errors[name] += 1
            self.samples.setdefault(name, error)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s")


@contextmanager
def _server(command: list[str], ready: str, env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(ready, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _greenplat(*args: str, env: dict[str, str]) -> None:
    command = [str(Path(sys.executable).with_name("greenplat")), *args]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def _add_experts(data_dir: Path, count: int) -> None:
    """Synthetic experts on top of the demo data, ids far above the demo's own."""
    from greenplat.core.db import open_database
    from greenplat.core.settings import Settings
    from greenplat.indexer import modelprep
    from greenplat.indexer.service import Indexer

    from . import match_latency

    settings = Settings(data_dir=data_dir)
    modelprep.prepare_e5_small(settings.models_dir / match_latency.MODEL)
    db = open_database(settings)
    indexer = Indexer(settings, db)
    try:
        start = 1_000_000
        seconds = match_latency.fill(
            db, match_latency.Topics(indexer, Corpus(seed=3)), start, start + count
        )
    finally:
        indexer.close()
        db.close()
    print(f"added {count:,} synthetic experts ({2 * count:,} works) in {seconds:.0f}s")


class Mix:
    """The requests of the mix, with the tokens and ids they need."""

    def __init__(self, client: httpx.AsyncClient, rng: random.Random) -> None:
        self.client, self.rng = client, rng
        self.corpus = Corpus(seed=rng.randrange(1 << 30))
        self.headers: dict[str, dict[str, str]] = {}
        self.problems: list[int] = []

    async def prepare(self) -> None:
        for who, (username, password) in {"admin": ADMIN, "expert": EXPERT}.items():
            response = await self.client.post(
                "/v1/auth/token", json={"username": username, "password": password}
            )
            response.raise_for_status()
            token = response.json()["access_token"]
            self.headers[who] = {"Authorization": f"Bearer {token}"}
        page = await self.client.get(
            "/v1/problems",
            params={"status": "approved", "page_size": 100},
            headers=self.headers["admin"],
        )
        page.raise_for_status()
        self.problems = [p["id"] for p in page.json()["items"]]

    def request(self, name: str) -> Callable[[], object]:
        admin = self.headers.get("admin", {})
        problem = self.rng.choice(self.problems or [0])
        calls = {
            "hello": lambda: self.client.get("/hello"),
            "list": lambda: self.client.get(
                "/v1/problems", params={"page_size": 20}, headers=admin
            ),
            "detail": lambda: self.client.get(f"/v1/problems/{problem}", headers=admin),
            "search": lambda: self.client.get(
                "/v1/search",
                params={"library": "experts", "text": "".join(self.corpus.words(6))},
                headers=admin,
            ),
            "match": lambda: self.client.get(
                f"/v1/matches/problems/{problem}/experts", headers=admin
            ),
            "inbox": lambda: self.client.get("/v1/matches/inbox", headers=self.headers["expert"]),
            "login": lambda: self.client.post(
                "/v1/auth/token", json={"username": ENTERPRISE[0], "password": ENTERPRISE[1]}
            ),
        }
        return calls[name]


async def _level(
    base: str, mix: dict[str, int], clients: int, duration: float, seed: int
) -> tuple[Tally, float]:
    """Run the mix from `clients` concurrent clients for `duration` seconds."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, limits=limits) as client:
        rng = random.Random(seed)
        requests = Mix(client, rng)
        if set(mix) != {"hello"}:
            await requests.prepare()
        names, weights = list(mix), list(mix.values())
        tally = Tally()
        stop = time.monotonic() + duration

        async def user() -> None:
            while time.monotonic() < stop:
                name = rng.choices(names, weights)[0]
                began = time.perf_counter()
                try:
                    response = await requests.request(name)()
                    error = (
                        None
                        if response.status_code == 200
                        else f"{response.status_code} {response.text[:120]}"
                    )
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"[:160]
                tally.add(name, time.perf_counter() - began, error)

        began = time.monotonic()
        await asyncio.gather(*(user() for _ in range(clients)))
        return tally, time.monotonic() - began


def _print(title: str, tally: Tally, wall: float) -> dict[str, float]:
    print(f"  {title}")
    rates = {}
    for name, seconds in sorted(tally.seconds.items()):
        ms = [s * 1000 for s in seconds]
        rates[name] = len(ms) / wall
        print(
            f"    {name:<7} {rates[name]:7.1f} req/s  p50 {percentile(ms, 50):7.0f} ms"
            f"  p95 {percentile(ms, 95):7.0f} ms  p99 {percentile(ms, 99):7.0f} ms"
            f"  errors {tally.errors.get(name, 0)}"
        )
        if name in tally.samples:
            print(f"            first error: {tally.samples[name]}")
    total = sum(len(s) for s in tally.seconds.values())
    print(f"    all     {total / wall:7.1f} req/s  errors {sum(tally.errors.values())}")
    rates["all"] = total / wall
    return rates


def _p95(tally: Tally, name: str) -> float:
    return percentile([s * 1000 for s in tally.seconds[name]], 95)


def run(
    duration: float = 60,
    levels: tuple[int, ...] = (8, 32, 64),
    experts: int = 0,
    keep: Path | None = None,
    workers: int | None = None,
) -> None:
    """Serve hello and the platform, drive each level, print the figures and ratios.

    With `keep`, the data lives in that folder and is loaded only once per number of experts.
    Both servers run `workers` processes (default: the platform's default, web_workers).
    """
    workers = workers or Settings().web_workers
    folder = keep or Path(tempfile.mkdtemp(prefix="greenplat-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(GREENPLAT_DATA_DIR=str(folder / "data"), GREENPLAT_ENV="development")
    loaded = folder / f"loaded-{experts}"
    try:
        if not loaded.exists():
            shutil.rmtree(folder / "data", ignore_errors=True)
            _greenplat("demo", "load", env=env)
            if experts:
                _add_experts(folder / "data", experts)
            loaded.touch()
        hello_port, port = _free_port(), _free_port()
        hello_cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.load:hello_app",
            "--port",
            str(hello_port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ]
        serve_cmd = [
            str(Path(sys.executable).with_name("greenplat")),
            *("serve", "--port", str(port), "--workers", str(workers)),
        ]
        hello_base, base = f"http://127.0.0.1:{hello_port}", f"http://127.0.0.1:{port}"
        load = os.getloadavg()[0]
        print(
            f"load over HTTP on loopback, {duration:.0f}s per level, mix {MIX}, "
            f"{'demo data' if not experts else f'demo data + {experts:,} experts'}; "
            f"load average before: {load:.1f} on {os.cpu_count()} cores; "
            f"{workers} server process(es) each"
        )
        with (
            _server(hello_cmd, f"{hello_base}/hello", env, folder / "hello.log"),
            _server(serve_cmd, f"{base}/readyz", env, folder / "serve.log"),
        ):
            # models load and caches fill on first use: not part of any figure
            asyncio.run(_level(base, MIX, 2, min(duration, 20), 0))
            single, wall = asyncio.run(
                _level(base, {"search": 1, "match": 1}, 1, min(duration, 30), 1)
            )
            _print("single user (search and match only)", single, wall)
            for clients in levels:
                hello, hello_wall = asyncio.run(
                    _level(hello_base, {"hello": 1}, clients, min(duration, 20), 2)
                )
                tally, wall = asyncio.run(_level(base, MIX, clients, duration, 3))
                print(f"concurrency {clients} (load average {os.getloadavg()[0]:.1f}):")
                baseline = _print("bare FastAPI hello", hello, hello_wall)["hello"]
                _print("greenplat, the mix", tally, wall)
                for name in ("list", "detail"):
                    alone, alone_wall = asyncio.run(
                        _level(base, {name: 1}, clients, min(duration, 20), 4)
                    )
                    rate = _print(f"greenplat, {name} alone", alone, alone_wall)[name]
                    print(f"    {name} alone / hello: {rate / baseline:.2f}x")
                for name in ("search", "match"):
                    ratio = _p95(tally, name) / _p95(single, name)
                    print(f"    {name} p95 / single-user p95: {ratio:.1f}x")
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
