-- What a match scores experts by (their works' authors, titles, disciplines, years and status,
-- and the stored vectors of works and profiles) may be kept in a process's memory
-- (greenplat.indexer.evidence). Each transaction that changes any of it takes the next
-- version when it commits and notes what it changed under that version; a process that sees
-- the version move forgets those records. Meanwhile the changing transaction itself reads
-- around the memory (greenplat.evidence_dirty).
--
-- The epoch tells one database's versions from another's (a process may be handed either).
CREATE TABLE evidence_version (
    single  boolean PRIMARY KEY DEFAULT true CHECK (single),
    epoch   uuid NOT NULL DEFAULT gen_random_uuid(),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO evidence_version (single) VALUES (true);

-- record_id NULL: the whole library changed (TRUNCATE). authors: a work's authors before and
-- after, whose lists of works changed with it.
CREATE TABLE evidence_changes (
    version   bigint NOT NULL,
    library   text NOT NULL,
    record_id bigint,
    authors   text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX evidence_changes_version_idx ON evidence_changes (version);

-- Right away, per statement: this transaction's reads differ from what was committed.
CREATE FUNCTION evidence_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('greenplat.evidence_dirty', 'on', true);
    RETURN NULL;
END $$;

-- This transaction's version: the next one, taken by its first change at commit. The version
-- row stays locked from then until the commit, so versions follow the order of commits and a
-- reader that sees version v sees every change noted under v or before. Changes noted long
-- ago are dropped (a process that far behind forgets everything instead).
CREATE FUNCTION evidence_commit_version() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken bigint := nullif(current_setting('greenplat.evidence_version', true), '')::bigint;
BEGIN
    IF taken IS NULL THEN
        UPDATE evidence_version SET version = version + 1 RETURNING version INTO taken;
        PERFORM set_config('greenplat.evidence_version', taken::text, true);
        DELETE FROM evidence_changes WHERE version < taken - 10000;
    END IF;
    RETURN taken;
END $$;

-- At commit (a deferred row trigger): note the record. TG_ARGV[0] names the library of a
-- vector table (whose rows are keyed by record_id); the achievements table has none. Past
-- 50,000 records in one transaction (a bulk load), one note says "everything" instead: a
-- process forgets all it kept (greenplat.indexer.evidence.MAX_CHANGES).
CREATE FUNCTION evidence_committed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken bigint := evidence_commit_version();
    noted integer := coalesce(nullif(current_setting('greenplat.evidence_noted', true), ''), '0')::integer;
BEGIN
    IF noted > 50000 THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('greenplat.evidence_noted', (noted + 1)::text, true);
    IF noted = 50000 THEN
        INSERT INTO evidence_changes (version, library) VALUES (taken, 'achievements');
    ELSIF TG_NARGS > 0 THEN
        INSERT INTO evidence_changes (version, library, record_id)
        VALUES (taken, TG_ARGV[0],
                CASE WHEN TG_OP = 'DELETE' THEN OLD.record_id ELSE NEW.record_id END);
    ELSE
        INSERT INTO evidence_changes (version, library, record_id, authors)
        VALUES (taken, 'achievements',
                CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
                (CASE WHEN TG_OP = 'INSERT' THEN '{}' ELSE OLD.expert_ids END)
                || (CASE WHEN TG_OP = 'DELETE' THEN '{}' ELSE NEW.expert_ids END));
    END IF;
    RETURN NULL;
END $$;

-- TRUNCATE has no row triggers: the whole library is noted at once (it locks the table
-- against every reader until its commit anyway).
CREATE FUNCTION evidence_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evidence_changes (version, library)
    VALUES (evidence_commit_version(), coalesce(TG_ARGV[0], 'achievements'));
    RETURN NULL;
END $$;

-- The triggers on a table of evidence: `library` for a vector table (NULL: achievements),
-- `columns` the columns whose updates count (NULL: every column). The search backend calls
-- this for each vector table it creates, one per model and library.
CREATE FUNCTION evidence_watch(target regclass, library text DEFAULT NULL, columns text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    events text := 'INSERT OR DELETE OR UPDATE' || coalesce(' OF ' || columns, '');
    prefix text := left(replace(target::text, '"', ''), 40);
    args text := coalesce(quote_literal(library), '');
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = target
               AND tgname = prefix || '_evidence_changed') THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TRIGGER %I AFTER %s OR TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION evidence_changed()',
                   prefix || '_evidence_changed', events, target);
    EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER %s ON %s'
                   ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW'
                   ' EXECUTE FUNCTION evidence_committed(%s)',
                   prefix || '_evidence_committed', events, target, args);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION evidence_truncated(%s)',
                   prefix || '_evidence_truncated', target, args);
END $$;

SELECT evidence_watch('achievements', NULL, 'title, discipline, year, expert_ids, status');
