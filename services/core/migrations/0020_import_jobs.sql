-- Imports run as jobs: the uploaded file waits here for a worker (or a thread), progress is
-- counted as batches commit, and every rejected row is kept for the paged report.
CREATE TABLE import_jobs (
    id           bigserial PRIMARY KEY,
    library      text NOT NULL CHECK (library IN ('problems', 'achievements', 'experts')),
    mode         text NOT NULL DEFAULT 'library' CHECK (mode IN ('library', 'own_achievements')),
    file_name    text NOT NULL,
    content      bytea,
    -- NULL: started by the command line (platform-admin rights).
    user_id      integer REFERENCES users (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed')),
    rows_read    integer NOT NULL DEFAULT 0,
    created      integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    rejected     integer NOT NULL DEFAULT 0,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX import_jobs_user ON import_jobs (user_id, id DESC);

CREATE TABLE import_rejections (
    job_id  bigint NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    line    integer NOT NULL,
    reason  text NOT NULL,
    PRIMARY KEY (job_id, line)
);
