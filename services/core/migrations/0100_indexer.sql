-- The indexer: embedding cache, the PostgreSQL search backend's documents, active models.

-- Passage vectors by model and text hash; the dimension varies by model, hence bare vector.
CREATE TABLE embedding_cache (
    model        text NOT NULL,
    text_sha256  bytea NOT NULL,
    embedding    vector NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, text_sha256)
);

-- One row per indexed record: its terms (jieba-segmented, weighted) and the fields searches
-- filter on. Vectors live in one table per (model, library), created when a model is first
-- used (see greenplat.indexer.pgbackend), because a vector column has a fixed dimension.
CREATE TABLE search_documents (
    library       text NOT NULL CHECK (library IN ('problems', 'achievements', 'experts')),
    record_id     bigint NOT NULL,
    external_id   text NOT NULL,
    title         text NOT NULL DEFAULT '',
    lexemes       tsvector NOT NULL,
    region        text,
    industry      text,
    disciplines   text[] NOT NULL DEFAULT '{}',
    status        text,
    kind          text,
    confidential  boolean NOT NULL DEFAULT false,
    organization  text,
    owner_id      integer,
    expert_ids    text[] NOT NULL DEFAULT '{}',
    models        text[] NOT NULL DEFAULT '{}',
    content_hash  text NOT NULL,
    indexed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (library, record_id)
);
CREATE INDEX search_documents_lexemes_idx ON search_documents USING gin (lexemes);
CREATE INDEX search_documents_region_idx ON search_documents (library, region);
CREATE INDEX search_documents_status_idx ON search_documents (library, status);

-- Models whose vector tables exist, with their dimension (a changed dimension rebuilds them).
CREATE TABLE search_models (
    model       text PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    dim         integer NOT NULL CHECK (dim > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Failed rows wait until available_at; status reports them.
CREATE INDEX outbox_failed_idx ON outbox (id) WHERE processed_at IS NULL AND attempts > 0;
