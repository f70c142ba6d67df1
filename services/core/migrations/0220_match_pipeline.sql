-- The match pipeline: one feedback row per (problem, expert or achievement, action), so the
-- current stage of a pair is its latest stage action and parallel posts cannot store twice.
-- Invitations carry a note, interest a proposal, deals their contract kind, amount and date.
ALTER TABLE match_feedback DROP CONSTRAINT IF EXISTS match_feedback_action_check;
ALTER TABLE match_feedback ADD CONSTRAINT match_feedback_action_check
    CHECK (action IN ('viewed', 'invited', 'interested', 'declined', 'contacted', 'negotiating',
                      'deal'));
ALTER TABLE match_feedback
    ADD COLUMN note               text,
    ADD COLUMN proposal_approach  text,
    ADD COLUMN proposal_timeframe text,
    ADD COLUMN proposal_cost      text,
    ADD COLUMN contract_kind      text
        CHECK (contract_kind IN ('development', 'transfer', 'consulting', 'service')),
    ADD COLUMN amount_wan         numeric(14, 2) CHECK (amount_wan >= 0),
    ADD COLUMN deal_date          date;

-- Earlier versions stored repeats; keep the first of each before the index forbids them.
DELETE FROM match_feedback f USING match_feedback g
 WHERE f.problem_id = g.problem_id AND f.action = g.action
   AND f.expert_id IS NOT DISTINCT FROM g.expert_id
   AND f.achievement_id IS NOT DISTINCT FROM g.achievement_id
   AND (g.created_at, g.id) < (f.created_at, f.id);
CREATE UNIQUE INDEX match_feedback_expert_once ON match_feedback (problem_id, expert_id, action)
    WHERE expert_id IS NOT NULL;
CREATE UNIQUE INDEX match_feedback_achievement_once
    ON match_feedback (problem_id, achievement_id, action) WHERE achievement_id IS NOT NULL;
UPDATE match_feedback SET deal_date = created_at::date WHERE action = 'deal';
