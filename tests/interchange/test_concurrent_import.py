"""Two imports of one file at once: the second waits for the first and writes no second event."""

from __future__ import annotations

import threading
import time

from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.permissions import SYSTEM


def test_concurrent_imports_of_one_record_write_one_import_event(db, build):
    external_id = f"P-C{build.uid()}"
    rows = [Row(1, {"external_id": external_id, "title": "并发", "description": "d"})]
    reports = []

    def second_import() -> None:
        with db.session() as conn:
            reports.append(
                interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
            )

    with db.session() as conn:
        first = interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
        other = threading.Thread(target=second_import)
        other.start()
        time.sleep(0.5)
        assert other.is_alive(), "the second import should wait for the first to commit"
    other.join(30)
    assert (first.created, reports[0].created, reports[0].updated) == (1, 0, 1)
    with db.session() as conn:
        events = conn.execute(
            "SELECT e.to_status FROM problem_events e JOIN problems p ON p.id = e.problem_id "
            "WHERE p.external_id = %s",
            (external_id,),
        ).fetchall()
    assert [e["to_status"] for e in events] == ["approved"]
