-- How to reach an account, and in which language to write to it. Contact details are shown to
-- the other side of a match only after consent (see 0221_contact_disclosures.sql).
ALTER TABLE users
    ADD COLUMN email    text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
    ADD COLUMN phone    text CHECK (phone IS NULL OR length(phone) <= 40),
    ADD COLUMN language text NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en'));
