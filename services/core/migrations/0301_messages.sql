-- One thread per (problem, expert) between the enterprise and the expert; the sub-center of
-- the problem's region may read and join it.
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    problem_id  bigint NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    expert_id   bigint NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    author_id   integer REFERENCES users (id) ON DELETE SET NULL,
    author_role text NOT NULL,
    body        text NOT NULL CHECK (length(btrim(body)) > 0 AND length(body) <= 5000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_thread_idx ON messages (problem_id, expert_id, created_at);
