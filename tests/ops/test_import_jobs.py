"""With a broker, an import job runs on a Celery worker (queue "import"), not in the API."""

from __future__ import annotations

import uuid

from greenplat.core.accounts import service as accounts
from greenplat.core.interchange import jobs
from greenplat.core.interchange.reading import Limits
from greenplat.core.interchange.tasks import ImportRunner


def test_an_import_job_runs_on_a_celery_worker(
    ops_settings, ops_db, broker, spawn_worker, poll, tmp_path
):
    settings = ops_settings.model_copy(
        update={"broker_url": broker.url, "queue_prefix": broker.prefix}
    )
    worker = spawn_worker(settings, broker, f"import-{broker.prefix}", "import")
    tag = uuid.uuid4().hex[:8]
    upload = tmp_path / "experts.csv"
    upload.write_text(
        "external_id,name\n" + "".join(f"E-W{tag}-{i},专家{i}\n" for i in range(30)) + ",无编号\n",
        encoding="utf-8",
    )
    with ops_db.session() as conn:
        user = accounts.create_user(
            conn=conn, username=f"importer-{tag}", password="long-enough-1", role="platform_admin"
        )
        me = accounts.principal_for_user(conn=conn, user_id=user.id)
        job = jobs.create(
            conn=conn,
            principal=me,
            library="experts",
            mode="library",
            path=upload,
            file_name=upload.name,
            limits=Limits.of(settings),
        )
    ImportRunner(settings, ops_db).start(job.id)

    def finished():
        with ops_db.session() as conn:
            found = jobs.get_or_raise(conn=conn, principal=me, job_id=job.id)
        return found if found.finished else None

    done = poll(finished, 120, "the worker to run the import job", explain=worker.tail)
    assert (done.status, done.created, done.rejected) == ("done", 30, 1)
    assert any(
        "run_import" in r.get("message", "") or "run_import" in str(r) for r in worker.records()
    )
    with ops_db.session() as conn:
        stored = conn.execute(
            "SELECT count(*) AS n FROM experts WHERE external_id LIKE %s", (f"E-W{tag}-%",)
        ).fetchone()["n"]
        content = conn.execute(
            "SELECT content FROM import_jobs WHERE id = %s", (job.id,)
        ).fetchone()["content"]
    assert stored == 30 and content is None  # the stored file is dropped once read
