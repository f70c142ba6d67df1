-- The portal's first day: sessions the account page lists and revokes, password reset links,
-- experts who sign themselves up, and the notice of their review.

-- A session is an api_tokens row. id names it on the account page (never the token's hash);
-- last_used_at is refreshed at most every few minutes; user_agent is the browser that signed in.
ALTER TABLE api_tokens
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN user_agent text CHECK (user_agent IS NULL OR length(user_agent) <= 300);

-- Password reset links: only a SHA-256 of the token is stored; a link works once, until
-- expires_at. Requests are counted in signin_attempts (action 'reset').
CREATE TABLE password_resets (
    token_hash  text PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- An expert who signed up: the profile it asked for waits here for the sub-center of its
-- region, so a pending expert is in no list, search or match. Approval creates the experts row.
CREATE TABLE expert_applications (
    id            bigserial PRIMARY KEY,
    user_id       integer NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    organization  text,
    title         text,
    disciplines   text[] NOT NULL DEFAULT '{}',
    keywords      text[] NOT NULL DEFAULT '{}',
    bio           text,
    region        text NOT NULL REFERENCES regions (name) ON UPDATE CASCADE,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'rejected')),
    reason        text,
    reviewed_by   integer REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at   timestamptz,
    expert_id     bigint REFERENCES experts (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX expert_applications_pending_idx ON expert_applications (region)
    WHERE status = 'pending';

-- 'account': news about one's own account (the review of an expert's sign-up).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('recommendation', 'invitation', 'answer', 'message', 'review', 'queue',
                    'deal', 'account'));

-- An e-mail carrying a secret (a reset link): its body is blanked once sent, so the outbox
-- keeps no usable link.
ALTER TABLE email_outbox ADD COLUMN ephemeral boolean NOT NULL DEFAULT false;
