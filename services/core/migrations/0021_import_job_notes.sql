-- What an import job noticed in the rows it stored or refused, besides rejections: values mapped
-- to their reference names, values not in the reference lists, suspected duplicates. The job's
-- page tallies them.
CREATE TABLE import_job_notes (
    job_id  bigint NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    kind    text NOT NULL CHECK (kind IN ('mapped', 'unknown', 'duplicate')),
    line    integer NOT NULL,
    note    jsonb NOT NULL
);
CREATE INDEX import_job_notes_job ON import_job_notes (job_id, kind, line);
