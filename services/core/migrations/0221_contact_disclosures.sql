-- The moment both sides of a match may see each other's contact details: when the expert said
-- 有意向 (also on accepting an invitation). One row per pair; the first consent counts.
CREATE TABLE contact_disclosures (
    problem_id    bigint NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    expert_id     bigint NOT NULL REFERENCES experts (id) ON DELETE CASCADE,
    feedback_id   bigint REFERENCES match_feedback (id) ON DELETE SET NULL,
    disclosed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (problem_id, expert_id)
);
