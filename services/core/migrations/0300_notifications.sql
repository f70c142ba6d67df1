-- In-app notifications, each user's choice of e-mail per kind, and the e-mail outbox.
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('recommendation', 'invitation', 'answer', 'message',
                                              'review', 'queue', 'deal')),
    problem_id  bigint REFERENCES problems (id) ON DELETE CASCADE,
    -- What the text fills in; never a confidential field or a message body.
    params      jsonb NOT NULL DEFAULT '{}',
    link        text NOT NULL,
    -- 'immediate' or 'digest': an e-mail is still to be written (at once, or in the daily
    -- digest); 'queued': it is in the outbox; 'none': in-app only.
    mail        text NOT NULL DEFAULT 'none'
                CHECK (mail IN ('none', 'immediate', 'digest', 'queued')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_digest_idx ON notifications (user_id) WHERE mail = 'digest';

CREATE TABLE notification_preferences (
    user_id  integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     text NOT NULL,
    email    text NOT NULL CHECK (email IN ('off', 'immediate', 'digest')),
    PRIMARY KEY (user_id, kind)
);

-- Every e-mail is a row first: a worker claims due rows (FOR UPDATE SKIP LOCKED), sends, and
-- marks them sent in the same transaction; failures wait with backoff and stay visible.
CREATE TABLE email_outbox (
    id               bigserial PRIMARY KEY,
    user_id          integer REFERENCES users (id) ON DELETE SET NULL,
    to_address       text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';
