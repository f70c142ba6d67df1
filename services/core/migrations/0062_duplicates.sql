-- Near-duplicate detection (greenplat.core.duplicates): MinHash fingerprints with LSH bands,
-- the pairs found, and merges. A merged record points at the one it was merged into; the
-- statistics count only records that were not merged away.
CREATE TABLE record_fingerprints (
    library       text NOT NULL CHECK (library IN ('problems', 'achievements')),
    record_id     bigint NOT NULL,
    organization  text NOT NULL,
    exact_key     text NOT NULL,
    -- A record updated after its fingerprint was computed is fingerprinted anew.
    computed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    bands         bigint[] NOT NULL,
    signature     bigint[] NOT NULL,
    PRIMARY KEY (library, record_id)
);
CREATE INDEX record_fingerprints_org_idx ON record_fingerprints (library, organization);
CREATE INDEX record_fingerprints_key_idx ON record_fingerprints (library, exact_key);
CREATE INDEX record_fingerprints_bands_idx ON record_fingerprints USING gin (bands);

CREATE TABLE duplicate_pairs (
    library     text NOT NULL CHECK (library IN ('problems', 'achievements')),
    record_id   bigint NOT NULL,
    other_id    bigint NOT NULL,
    score       real NOT NULL,
    status      text NOT NULL DEFAULT 'suspected'
                CHECK (status IN ('suspected', 'merged', 'distinct')),
    decided_by  integer REFERENCES users (id) ON DELETE SET NULL,
    decided_at  timestamptz,
    found_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (library, record_id, other_id),
    CHECK (record_id <> other_id)
);
CREATE INDEX duplicate_pairs_status_idx ON duplicate_pairs (library, status);

ALTER TABLE problems ADD COLUMN merged_into bigint REFERENCES problems (id) ON DELETE SET NULL;
ALTER TABLE achievements ADD COLUMN merged_into bigint
    REFERENCES achievements (id) ON DELETE SET NULL;
