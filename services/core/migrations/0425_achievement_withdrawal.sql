-- An expert (or the staff who manage it) withdraws an achievement: it stays for the audit
-- trail and its owners, but leaves search, matching, exports and the public pages.
ALTER TABLE achievements
    ADD COLUMN status text NOT NULL DEFAULT 'published'
        CHECK (status IN ('published', 'withdrawn')),
    ADD COLUMN withdrawn_at timestamptz;

-- The downloadable error report of an import: which field a rejected row failed on, and the
-- row's values as the file held them.
ALTER TABLE import_rejections
    ADD COLUMN field text,
    ADD COLUMN original jsonb;
