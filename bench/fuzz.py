"""Schemathesis against the live API on 127.0.0.1 as three roles; prints the figures per role.

`python -m bench.fuzz [--examples 60] [--max-time 900] [--data-dir DIR]` loads the demo data
into a throwaway embedded PostgreSQL (or reuses --data-dir), starts `greenplat serve` on a free
loopback port, signs in once per role through /v1/auth/token (enterprise ent-huachu, expert
exp-wangjianguo, and a platform admin made for the run) and runs `schemathesis run --checks all`
for each. Sign-in limits are raised for the run (they are settings), so throttling never hides
an operation. It prints, per role, the cases generated, the server errors (5xx), the responses
whose status the OpenAPI document does not list, and every other check's failures; it exits 1
when there is any server error or undocumented status.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BENCH = Path(__file__).parent
GREENPLAT = str(Path(sys.executable).with_name("greenplat"))
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
FUZZ_ADMIN = ("fuzz-admin", "fuzz-admin-Passw0rd")
ROLES = {  # role: (username, password); demo accounts (docs/demo.md) and the run's admin
    "enterprise": ("ent-huachu", "greenplat-ent"),
    "expert": ("exp-wangjianguo", "greenplat-expert"),
    "platform_admin": FUZZ_ADMIN,
}
UNLIMITED = "1000000"
# Business rules no schema can say (a common password, a return without a comment, an id of
# a record that is not there) answer 422/404/409 to schema-valid input, as documented.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
"""


@dataclass
class Figures:
    role: str
    cases: int = 0
    server_errors: int = 0
    undocumented: int = 0
    network_errors: int = 0
    other: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_ENV="test",
        GREENPLAT_DATA_DIR=str(data_dir),
        GREENPLAT_SIGNIN_ACCOUNT_FAILURES=UNLIMITED,
        GREENPLAT_SIGNIN_ADDRESS_FAILURES=UNLIMITED,
        GREENPLAT_SIGNUP_ADDRESS_ATTEMPTS=UNLIMITED,
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    """Demo data and the run's platform admin (idempotent)."""
    subprocess.run([GREENPLAT, "demo", "load"], env=env, check=True, capture_output=True)
    name, password = FUZZ_ADMIN
    subprocess.run(
        [GREENPLAT, "users", "create", "--username", name, "--role", "platform_admin"]
        + ["--password", password],
        env=env,
        capture_output=True,  # fails harmlessly when the account exists already
    )


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [GREENPLAT, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("greenplat serve did not start")


def sign_in(base: str, username: str, password: str) -> tuple[str, int]:
    """A bearer token and the account's id."""
    body = {"username": username, "password": password}
    token = httpx.post(f"{base}/v1/auth/token", json=body, timeout=30).json()["access_token"]
    me = httpx.get(f"{base}/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return token, me.json()["id"]


def parse(role: str, output: str, seconds: float) -> Figures:
    """The figures from schemathesis' summary."""
    figures = Figures(role, seconds=seconds)
    found = re.search(r"(\d+) generated", output)
    figures.cases = int(found.group(1)) if found else 0
    for label, count in re.findall(r"❌ ([^:\n]+): (\d+)", output):
        if "Server error" in label:
            figures.server_errors += int(count)
        elif "Undocumented status code" in label:
            figures.undocumented += int(count)
        else:
            figures.other[label.strip()] = int(count)
    errors = re.search(r"Network Error: (\d+)", output)
    figures.network_errors = int(errors.group(1)) if errors else 0
    return figures


def fuzz(base: str, role: str, token: str, keep: list[int], args, work: Path) -> Figures:
    config = work / "schemathesis.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks"}
    env["GREENPLAT_FUZZ_KEEP_USERS"] = ",".join(map(str, keep))
    env["PYTHONPATH"] = str(BENCH.parent)
    command = [SCHEMATHESIS, "--no-color", "--config-file", str(config), "run"]
    command += [f"{base}/openapi.json", "--checks", "all", "-H", f"Authorization: Bearer {token}"]
    command += ["--max-examples", str(args.examples), "--max-time", str(args.max_time)]
    # Signing out or ending a session by id (the fuzzer soon tries the role's own) would leave
    # the rest of the run answering 401.
    for path in ("/v1/auth/logout", "/v1/auth/sessions/{session_id}"):
        command += ["--exclude-path", path]
    command += ["--workers", str(args.workers)]
    command += ["--request-timeout", "60", "--seed", str(args.seed)]
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    (work / f"schemathesis-{role}.txt").write_text(result.stdout + result.stderr)
    return parse(role, result.stdout, time.monotonic() - started)


def report(all_figures: list[Figures], work: Path) -> None:
    print(f"schemathesis --checks all against greenplat serve on 127.0.0.1 (output in {work})")
    print(f"{'role':16} {'cases':>7} {'5xx':>5} {'undoc':>6} {'net':>4} {'seconds':>8}  other")
    for f in all_figures:
        other = ", ".join(f"{k}: {v}" for k, v in sorted(f.other.items())) or "none"
        print(
            f"{f.role:16} {f.cases:7d} {f.server_errors:5d} {f.undocumented:6d}"
            f" {f.network_errors:4d} {f.seconds:8.0f}  {other}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=60, help="max examples per operation")
    parser.add_argument("--max-time", type=int, default=900, help="seconds per role at most")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated, admin last")
    parser.add_argument("--data-dir", type=Path, help="reuse this data folder (demo loaded)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="greenplat-fuzz-"))
    work.chmod(0o755)
    data_dir = args.data_dir or work / "data"
    env = _env(data_dir)
    prepare(data_dir, env)
    port = _free_port()
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        signed_in = {role: sign_in(base, *ROLES[role]) for role in args.roles.split(",")}
        keep = [user_id for _, user_id in signed_in.values()]
        # The platform admin runs last: it may switch other accounts off.
        figures = [
            fuzz(base, role, token, keep, args, work) for role, (token, _) in signed_in.items()
        ]
    finally:
        server.terminate()
        server.wait(60)
    report(figures, work)
    if not args.data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
    bad = any(f.server_errors or f.undocumented or f.network_errors for f in figures)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
