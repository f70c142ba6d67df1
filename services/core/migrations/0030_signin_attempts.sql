-- Sign-in and sign-up attempts, counted in a sliding window per account and per address.
-- Kept in PostgreSQL so every API worker and process sees the same counts.
CREATE TABLE signin_attempts (
    id bigserial PRIMARY KEY,
    action text NOT NULL,
    account text,
    address text NOT NULL,
    failed boolean NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signin_attempts_account_idx ON signin_attempts (action, account, at) WHERE failed;
CREATE INDEX signin_attempts_address_idx ON signin_attempts (action, address, at);
CREATE INDEX signin_attempts_at_idx ON signin_attempts (at);
