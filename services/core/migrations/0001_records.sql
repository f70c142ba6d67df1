-- The three libraries, their regions, organizations, accounts and the outbox.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE regions (
    id              serial PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    name            text NOT NULL UNIQUE,
    subcenter_name  text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organizations (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    kind        text NOT NULL DEFAULT 'other'
                CHECK (kind IN ('enterprise', 'university', 'institute', 'other')),
    region      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE experts (
    id            bigserial PRIMARY KEY,
    external_id   text NOT NULL UNIQUE,
    name          text NOT NULL,
    organization  text,
    title         text,
    disciplines   text[] NOT NULL DEFAULT '{}',
    keywords      text[] NOT NULL DEFAULT '{}',
    bio           text,
    region        text,
    capacity      integer CHECK (capacity IS NULL OR capacity >= 0),
    extra         jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX experts_region_idx ON experts (region);
CREATE INDEX experts_disciplines_idx ON experts USING gin (disciplines);

CREATE TABLE users (
    id             serial PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    display_name   text NOT NULL DEFAULT '',
    role           text NOT NULL
                   CHECK (role IN ('enterprise', 'expert', 'subcenter_admin', 'platform_admin')),
    region         text REFERENCES regions (name) ON UPDATE CASCADE,
    organization   text,
    expert_id      bigint REFERENCES experts (id) ON DELETE SET NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- A sub-center admin without a region could approve anywhere: refuse it.
    CHECK (role <> 'subcenter_admin' OR region IS NOT NULL)
);

CREATE TABLE api_tokens (
    token_hash  text PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE TABLE problems (
    id             bigserial PRIMARY KEY,
    external_id    text NOT NULL UNIQUE,
    title          text NOT NULL,
    description    text NOT NULL,
    keywords       text[] NOT NULL DEFAULT '{}',
    industry       text,
    region         text,
    organization   text,
    budget_wan     numeric(14, 2) CHECK (budget_wan IS NULL OR budget_wan >= 0),
    deadline       date,
    status         text NOT NULL DEFAULT 'draft'
                   CHECK (status IN ('draft', 'submitted', 'approved', 'returned', 'matched',
                                     'closed')),
    confidential   boolean NOT NULL DEFAULT false,
    review_comment text,
    owner_id       integer REFERENCES users (id) ON DELETE SET NULL,
    extra          jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    submitted_at   timestamptz,
    approved_at    timestamptz,
    closed_at      timestamptz
);
CREATE INDEX problems_status_idx ON problems (status);
CREATE INDEX problems_region_idx ON problems (region);
CREATE INDEX problems_industry_idx ON problems (industry);
CREATE INDEX problems_organization_idx ON problems (organization);

-- Every status change with who made it and why: the review trail and the statistics.
CREATE TABLE problem_events (
    id           bigserial PRIMARY KEY,
    problem_id   bigint NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    from_status  text,
    to_status    text NOT NULL,
    actor_id     integer REFERENCES users (id) ON DELETE SET NULL,
    comment      text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX problem_events_problem_idx ON problem_events (problem_id);

CREATE TABLE achievements (
    id            bigserial PRIMARY KEY,
    external_id   text NOT NULL UNIQUE,
    title         text NOT NULL,
    abstract      text NOT NULL,
    keywords      text[] NOT NULL DEFAULT '{}',
    kind          text NOT NULL DEFAULT 'other'
                  CHECK (kind IN ('paper', 'patent', 'software', 'technology', 'standard',
                                  'other')),
    discipline    text,
    year          integer CHECK (year IS NULL OR year BETWEEN 1900 AND 2200),
    organization  text,
    -- External ids, not foreign keys: an import may name authors that arrive later.
    expert_ids    text[] NOT NULL DEFAULT '{}',
    extra         jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX achievements_expert_ids_idx ON achievements USING gin (expert_ids);
CREATE INDEX achievements_discipline_idx ON achievements (discipline);

-- Written in the same transaction as the change it announces; the indexer drains it.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    library       text NOT NULL CHECK (library IN ('problems', 'achievements', 'experts')),
    record_id     bigint NOT NULL,
    op            text NOT NULL CHECK (op IN ('upsert', 'delete')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    available_at  timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE processed_at IS NULL;
