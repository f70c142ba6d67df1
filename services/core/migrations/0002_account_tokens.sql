-- Signing in clears a user's expired tokens and changing a password drops all of them:
-- both look tokens up by user.
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
