-- Organizations are records: accounts and problems point at them by id, never by name.
-- Joining an existing organization is a request its members or its sub-center approve;
-- an organization registered by sign-up starts unverified until its sub-center verifies it.
ALTER TABLE organizations
    ADD COLUMN verified     boolean NOT NULL DEFAULT false,
    ADD COLUMN verified_by  integer REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN verified_at  timestamptz;

-- Every name a record or an account used becomes an organization (existing ones were set up
-- by staff, imports or the demo data, so they count as verified).
INSERT INTO organizations (name, kind, region)
    SELECT DISTINCT ON (organization) organization, 'enterprise', region FROM problems
    WHERE organization IS NOT NULL ORDER BY organization, id
    ON CONFLICT (name) DO NOTHING;
INSERT INTO organizations (name, kind, region)
    SELECT DISTINCT ON (organization) organization,
           CASE WHEN role = 'enterprise' THEN 'enterprise' ELSE 'other' END, region
    FROM users WHERE organization IS NOT NULL ORDER BY organization, id
    ON CONFLICT (name) DO NOTHING;
UPDATE organizations SET verified = true, verified_at = now();

ALTER TABLE users ADD COLUMN organization_id integer REFERENCES organizations (id) ON DELETE SET NULL;
CREATE INDEX users_organization_idx ON users (organization_id);
ALTER TABLE problems ADD COLUMN organization_id integer
    REFERENCES organizations (id) ON DELETE SET NULL;
CREATE INDEX problems_organization_id_idx ON problems (organization_id);
UPDATE problems p SET organization_id = o.id FROM organizations o WHERE o.name = p.organization;

CREATE TABLE organization_requests (
    id               serial PRIMARY KEY,
    organization_id  integer NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by       integer REFERENCES users (id) ON DELETE SET NULL,
    decided_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organization_requests_pending_idx
    ON organization_requests (user_id) WHERE status = 'pending';
CREATE INDEX organization_requests_org_idx ON organization_requests (organization_id, status);

-- Staff accounts and the first enterprise account of each organization keep their
-- membership; a later enterprise account that merely typed the same name at sign-up (the
-- takeover this migration closes) waits for approval like a new request.
WITH ranked AS (
    SELECT u.id, o.id AS org_id, u.role,
           row_number() OVER (PARTITION BY o.id, u.role = 'enterprise' ORDER BY u.id) AS n
    FROM users u JOIN organizations o ON o.name = u.organization
)
UPDATE users u SET organization_id = r.org_id FROM ranked r
    WHERE r.id = u.id AND (r.role <> 'enterprise' OR r.n = 1);
INSERT INTO organization_requests (organization_id, user_id)
    SELECT o.id, u.id FROM users u JOIN organizations o ON o.name = u.organization
    WHERE u.organization_id IS NULL;

ALTER TABLE users DROP COLUMN organization;
