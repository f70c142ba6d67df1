-- What enterprises and experts did with a match: who, what, when (and why, for a decline).
-- It feeds the rules (declined pairs, experts' open requests) and the statistics.
CREATE TABLE match_feedback (
    id              bigserial PRIMARY KEY,
    problem_id      bigint NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    expert_id       bigint REFERENCES experts (id) ON DELETE CASCADE,
    achievement_id  bigint REFERENCES achievements (id) ON DELETE CASCADE,
    action          text NOT NULL
                    CHECK (action IN ('viewed', 'interested', 'declined', 'contacted', 'deal',
                                      'invited')),
    reason          text,
    actor_id        integer REFERENCES users (id) ON DELETE SET NULL,
    actor_role      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- A match pairs a problem with exactly one expert or one achievement.
    CHECK (num_nonnulls(expert_id, achievement_id) = 1),
    -- A decline without a reason teaches nobody anything.
    CHECK (action <> 'declined' OR length(btrim(coalesce(reason, ''))) > 0)
);
CREATE INDEX match_feedback_problem_idx ON match_feedback (problem_id);
CREATE INDEX match_feedback_expert_idx ON match_feedback (expert_id) WHERE expert_id IS NOT NULL;
CREATE INDEX match_feedback_achievement_idx ON match_feedback (achievement_id)
    WHERE achievement_id IS NOT NULL;
CREATE INDEX match_feedback_declined_idx ON match_feedback (problem_id, expert_id, achievement_id)
    WHERE action = 'declined';
