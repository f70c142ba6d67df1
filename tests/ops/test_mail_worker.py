"""E-mail sent by a real Celery worker (Redis, RabbitMQ) through an SMTP server on loopback."""

from __future__ import annotations

import uuid

from greenplat.core.notifications.tasks import enqueue_deliver
from greenplat.core.queue import make_celery


def test_a_worker_delivers_notification_e_mail_once(
    ops_db, ops_settings, broker, spawn_worker, smtp_server, poll
):
    inbox, port = smtp_server
    address = f"owner-{uuid.uuid4().hex[:6]}@example.test"
    with ops_db.session() as conn:
        user = conn.execute(
            "INSERT INTO users (username, password_hash, role, email, language)"
            " VALUES (%s, 'x', 'enterprise', %s, 'en') RETURNING id",
            (address, address),
        ).fetchone()
        problem = conn.execute(
            "INSERT INTO problems (external_id, title, description, status)"
            " VALUES (%s, 'Kiln heat recovery', 'd', 'approved') RETURNING id",
            (f"P-{uuid.uuid4().hex[:6]}",),
        ).fetchone()
        conn.execute(
            "INSERT INTO notifications (user_id, kind, problem_id, params, link, mail)"
            " VALUES (%s, 'deal', %s, %s, '/problems/1', 'immediate')",
            (user["id"], problem["id"], '{"title": "Kiln heat recovery"}'),
        )
    settings = ops_settings.model_copy(
        update={"broker_url": broker.url, "queue_prefix": broker.prefix}
    )
    smtp = {
        "GREENPLAT_SMTP_HOST": "127.0.0.1",
        "GREENPLAT_SMTP_PORT": str(port),
        "GREENPLAT_SMTP_TLS": "none",
    }
    worker = spawn_worker(settings, broker, "mail", "index", smtp)
    app = make_celery(settings)
    enqueue_deliver(app, settings)
    enqueue_deliver(app, settings)  # a second wake-up finds nothing left to send
    poll(lambda: inbox.to(address), 90, "the e-mail", explain=worker.tail)
    poll(
        lambda: sum("succeeded" in r.get("message", "") for r in worker.records()) >= 2,
        60,
        "both tasks",
        explain=worker.tail,
    )
    (message,) = inbox.to(address)
    assert message["Subject"] == "A deal was recorded on “Kiln heat recovery”"
    with ops_db.session() as conn:
        row = conn.execute(
            "SELECT status, attempts FROM email_outbox WHERE to_address = %s", (address,)
        ).fetchone()
    assert (row["status"], row["attempts"]) == ("sent", 1)
