"""E-mail through the outbox: write rows after the commit, send each once, retry failures.

A notification that asks for e-mail becomes an outbox row (queue_immediate, queue_digests),
written in the recipient's language. send_due() claims a small batch of due rows with
FOR UPDATE SKIP LOCKED, hands each to SMTP and marks it sent in the same transaction, so two
workers never send the same row. A crash after the SMTP server accepted a message but before
the commit leaves its row pending, and it is sent again: we choose at-least-once over
at-most-once (a lost notice is worse than a repeated one), and every resend carries the same
Message-ID (greenplat-mail-<id>@...) so mail clients and servers can recognise the duplicate.
A failure waits with exponential backoff; after mail_max_attempts the row is 'failed' and the
admin page (/admin/mail) shows it with its error and a button to try again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import defaultdict
from email.message import EmailMessage
from email.utils import formatdate

from greenplat.core.db import Connection, Database
from greenplat.core.notifications import texts
from greenplat.core.permissions import Principal, require_any
from greenplat.core.settings import Settings

log = logging.getLogger(__name__)
BACKOFF_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# Rows claimed, sent and marked per transaction: a crash resends at most this many.
BATCH_SIZE = 10


def _enqueue(conn: Connection, user: dict, subject: str, body: str) -> None:
    conn.execute(
        "INSERT INTO email_outbox (user_id, to_address, subject, body) VALUES (%s, %s, %s, %s)",
        (user["user_id"], user["email"], subject, body),
    )


def queue_mail(
    conn: Connection, *, user_id: int, to_address: str, subject: str, body: str, secret: bool
) -> None:
    """An e-mail of the platform's own (a reset link) into the outbox, sent after the commit.

    secret=True: the body is blanked once sent, so the outbox keeps no usable link.
    """
    conn.execute(
        "INSERT INTO email_outbox (user_id, to_address, subject, body, ephemeral)"
        " VALUES (%s, %s, %s, %s, %s)",
        (user_id, to_address, subject, body, secret),
    )
    conn.execute("SELECT pg_notify('greenplat_mail', '')")


_SENT_SECRET = "(removed once sent: it held a single-use link)"
_PENDING = (
    "SELECT n.id, n.user_id, n.kind, n.params, n.link, u.email, u.language FROM notifications n"
    " JOIN users u ON u.id = n.user_id WHERE n.mail = %s AND u.email IS NOT NULL"
)


def queue_immediate(conn: Connection, settings: Settings) -> int:
    """One outbox row per notification that asked for an e-mail at once."""
    rows = conn.execute(
        _PENDING + " ORDER BY n.id FOR UPDATE OF n SKIP LOCKED", ("immediate",)
    ).fetchall()
    for row in rows:
        line = texts.line(row["kind"], row["params"], row["language"])
        subject, body = texts.mail([line], settings.public_url + row["link"], row["language"])
        _enqueue(conn, row, subject, body)
    _mark_queued(conn, [r["id"] for r in rows])
    return len(rows)


def queue_digests(conn: Connection, settings: Settings) -> int:
    """One digest per user whose oldest waiting notification is a day old."""
    rows = conn.execute(
        _PENDING + " AND n.user_id IN (SELECT user_id FROM notifications WHERE mail = 'digest'"
        " GROUP BY user_id HAVING min(created_at) <= now() - interval '1 day')"
        " ORDER BY n.user_id, n.id FOR UPDATE OF n SKIP LOCKED",
        ("digest",),
    ).fetchall()
    by_user: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_user[row["user_id"]].append(row)
    for items in by_user.values():
        language = items[0]["language"]
        lines = [texts.line(r["kind"], r["params"], language) for r in items]
        link = settings.public_url + "/notifications"
        subject, body = texts.mail(lines, link, language, digest=True)
        _enqueue(conn, items[0], subject, body)
    _mark_queued(conn, [r["id"] for r in rows])
    return len(by_user)


def _mark_queued(conn: Connection, ids: list[int]) -> None:
    conn.execute("UPDATE notifications SET mail = 'queued' WHERE id = ANY(%s)", (ids,))


class Smtp:
    """One SMTP connection for a batch of messages, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host or "", s.smtp_port, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.smtp_host or "", s.smtp_port, timeout=30)
            if s.smtp_tls == "starttls":
                client.starttls(context=ssl.create_default_context())
        if s.smtp_user:
            client.login(s.smtp_user, s.smtp_password or "")
        return client

    def send(self, row: dict) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = row["to_address"]
        message["Subject"] = row["subject"]
        message["Date"] = formatdate(localtime=True)
        domain = self.settings.smtp_from.rsplit("@", 1)[-1].strip(">") or "greenplat.local"
        message["Message-ID"] = f"<greenplat-mail-{row['id']}@{domain}>"
        message.set_content(row["body"])
        if self.client is None:
            self.client = self._open()
        self.client.send_message(message)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except smtplib.SMTPException:
                self.client.close()
            self.client = None


def _failed(conn: Connection, row: dict, error: Exception, max_attempts: int) -> None:
    attempts = row["attempts"] + 1
    delay = min(BACKOFF_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS)
    conn.execute(
        "UPDATE email_outbox SET attempts = %s, last_error = %s,"
        " status = CASE WHEN %s >= %s THEN 'failed' ELSE 'pending' END,"
        " next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
        (attempts, str(error)[:500], attempts, max_attempts, delay, row["id"]),
    )
    log.warning("e-mail %s failed (attempt %d): %s", row["id"], attempts, error)


def _send_batch(conn: Connection, smtp: Smtp, max_attempts: int) -> tuple[int, int]:
    """Claim a few due rows, send each, mark each; committed together by the caller."""
    rows = conn.execute(
        "SELECT * FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()"
        " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (BATCH_SIZE,),
    ).fetchall()
    sent = []
    for row in rows:
        try:
            smtp.send(row)
            sent.append(row["id"])
        except (OSError, smtplib.SMTPException) as error:
            smtp.close()
            _failed(conn, row, error, max_attempts)
    conn.execute(
        "UPDATE email_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1,"
        " body = CASE WHEN ephemeral THEN %s ELSE body END WHERE id = ANY(%s)",
        (_SENT_SECRET, sent),
    )
    return len(sent), len(rows) - len(sent)


def send_due(db: Database, settings: Settings, *, limit: int = 5000) -> tuple[int, int]:
    """Send due outbox rows, a batch per transaction; returns (sent, failed)."""
    sent = failed = 0
    smtp = Smtp(settings)
    try:
        while sent + failed < limit:
            with db.session() as conn:
                ok, bad = _send_batch(conn, smtp, settings.mail_max_attempts)
            sent, failed = sent + ok, failed + bad
            if ok + bad < BATCH_SIZE:
                break
    finally:
        smtp.close()
    return sent, failed


def deliver(db: Database, settings: Settings) -> tuple[int, int]:
    """Write the e-mails notifications asked for, then send what is due."""
    if not settings.smtp_host:
        return 0, 0
    with db.session() as conn:
        queue_immediate(conn, settings)
        queue_digests(conn, settings)
    return send_due(db, settings)


def retry(*, conn: Connection, principal: Principal, outbox_id: int) -> bool:
    """Put a failed e-mail back in the queue (the admin page's button)."""
    require_any(principal, "user", "manage")
    row = conn.execute(
        "UPDATE email_outbox SET status = 'pending', attempts = 0, next_attempt_at = now()"
        " WHERE id = %s AND status = 'failed' RETURNING id",
        (outbox_id,),
    ).fetchone()
    conn.execute("SELECT pg_notify('greenplat_mail', '')")
    return row is not None


def list_outbox(
    *, conn: Connection, principal: Principal, status: str | None = None, limit: int = 200
) -> list[dict]:
    """E-mails of the outbox for the admins' page, failed and waiting first."""
    require_any(principal, "user", "manage")
    return conn.execute(
        "SELECT id, to_address, subject, status, attempts, last_error, next_attempt_at,"
        " created_at, sent_at FROM email_outbox WHERE (%s::text IS NULL OR status = %s)"
        " ORDER BY (status = 'sent'), id DESC LIMIT %s",
        (status, status, limit),
    ).fetchall()
