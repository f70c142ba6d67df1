-- Aliases admins add to the shipped reference lists (reference/data/*.json): "苏南" -> 江苏省.
CREATE TABLE reference_aliases (
    kind        text NOT NULL CHECK (kind IN ('region', 'industry', 'discipline')),
    alias_key   text NOT NULL,
    alias       text NOT NULL,
    canonical   text NOT NULL,
    created_by  integer REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, alias_key)
);
