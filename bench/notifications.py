"""Notifications created and e-mails sent per second with one worker, against baselines.

    python -m bench.notifications [--count 2000] [--broker redis://127.0.0.1:6379/0]

Creation: notify() one recipient per transaction (as a request does), against a bare INSERT of
one row per transaction in the same run. Sending: one worker delivers `count` immediate
notifications (outbox rows written, claimed with SKIP LOCKED, sent over SMTP, marked sent), in
process and as one real Celery worker; the baseline is bare smtplib sends to the same loopback
SMTP server (aiosmtpd) over one connection.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from bench.common import bench_database
from greenplat.core.db import Database
from greenplat.core.notifications import mail
from greenplat.core.notifications import service as notifications
from greenplat.core.notifications.tasks import enqueue_deliver
from greenplat.core.queue import make_celery
from greenplat.core.settings import Settings


class Counter:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        self.received += 1
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _world(db: Database, count: int) -> tuple[list[dict], dict]:
    with db.session() as conn:
        problem = conn.execute(
            "INSERT INTO problems (external_id, title, description, status)"
            " VALUES (%s, '窑炉余热回收', 'd', 'approved') RETURNING *",
            (f"P-{uuid.uuid4().hex[:8]}",),
        ).fetchone()
        users = [
            conn.execute(
                "INSERT INTO users (username, password_hash, role, email)"
                " VALUES (%s, 'x', 'expert', %s) RETURNING *",
                (f"u{n}-{uuid.uuid4().hex[:6]}", f"u{n}@example.test"),
            ).fetchone()
            for n in range(count)
        ]
    return users, problem


def creation(db: Database, users: list[dict], problem: dict) -> tuple[float, float]:
    """(notifications per second, bare inserts per second), one per transaction each."""
    started = time.perf_counter()
    for user in users:
        with db.session() as conn:
            conn.execute(
                "INSERT INTO notifications (user_id, kind, problem_id, link) VALUES (%s, 'deal',"
                " %s, '/x')",
                (user["id"], problem["id"]),
            )
    bare = len(users) / (time.perf_counter() - started)
    with db.session() as conn:
        conn.execute("DELETE FROM notifications")
    started = time.perf_counter()
    for user in users:
        with db.session() as conn:
            notifications.notify(
                conn, recipients=[user], kind="deal", problem=problem, link="/problems/1"
            )
    return len(users) / (time.perf_counter() - started), bare


def smtp_baseline(port: int, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for n in range(count):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "a@x.test", f"u{n}@x.test", "s"
            message.set_content("body")
            client.send_message(message)
    return count / (time.perf_counter() - started)


def _requeue(db: Database) -> None:
    with db.session() as conn:
        conn.execute("DELETE FROM email_outbox")
        conn.execute("UPDATE notifications SET mail = 'immediate'")


def in_process(db: Database, settings: Settings) -> float:
    _requeue(db)
    started = time.perf_counter()
    sent, failed = mail.deliver(db, settings)
    assert failed == 0, failed
    return sent / (time.perf_counter() - started)


def celery_worker(db: Database, settings: Settings, counter: Counter, count: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_ENV="test",
        GREENPLAT_DATABASE_URL=db.url,
        GREENPLAT_BROKER_URL=str(settings.broker_url),
        GREENPLAT_QUEUE_PREFIX=settings.queue_prefix,
        GREENPLAT_SMTP_HOST="127.0.0.1",
        GREENPLAT_SMTP_PORT=str(settings.smtp_port),
        GREENPLAT_SMTP_TLS="none",
    )
    queue = f"{settings.queue_prefix}index"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "greenplat.core.queue", "worker", "-Q", queue]
        + ["--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = make_celery(settings)
    try:
        while not app.control.ping(timeout=1):
            time.sleep(0.5)
        _requeue(db)
        before = counter.received
        started = time.perf_counter()
        enqueue_deliver(app, settings)
        while counter.received - before < count:
            time.sleep(0.05)
        return count / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(60)
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    counter, port = Counter(), _port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with bench_database() as (base, db):
            settings = base.model_copy(
                update={
                    "database_url": db.url,
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                    "smtp_tls": "none",
                    "broker_url": args.broker,
                    "queue_prefix": f"bench{uuid.uuid4().hex[:8]}-",
                }
            )
            users, problem = _world(db, args.count)
            made, bare = creation(db, users, problem)
            print(
                f"notifications created, {args.count}, one per transaction (cores {os.cpu_count()})"
            )
            print(f"  notify()        {made:8.1f} /s")
            print(f"  bare INSERT     {bare:8.1f} /s   ratio {made / bare:.2f}")
            raw = smtp_baseline(port, args.count)
            print(f"e-mails sent, {args.count}, one worker, SMTP on loopback")
            print(f"  bare smtplib    {raw:8.1f} /s")
            local = in_process(db, settings)
            print(f"  in-process      {local:8.1f} /s   ratio {local / raw:.2f}")
            worker = celery_worker(db, settings, counter, args.count)
            print(f"  celery worker   {worker:8.1f} /s   ratio {worker / raw:.2f}")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
