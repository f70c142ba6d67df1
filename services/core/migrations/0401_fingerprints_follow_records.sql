-- A deleted problem or achievement takes its near-duplicate fingerprint and the pairs it was
-- part of with it. The tables name records of two libraries, so a foreign key cannot: a
-- trigger on each library does what ON DELETE CASCADE would.
CREATE FUNCTION forget_duplicate_traces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_fingerprints WHERE library = TG_TABLE_NAME AND record_id = OLD.id;
    DELETE FROM duplicate_pairs
     WHERE library = TG_TABLE_NAME AND (record_id = OLD.id OR other_id = OLD.id);
    RETURN NULL;
END $$;

CREATE TRIGGER problems_forget_duplicates AFTER DELETE ON problems
    FOR EACH ROW EXECUTE FUNCTION forget_duplicate_traces();
CREATE TRIGGER achievements_forget_duplicates AFTER DELETE ON achievements
    FOR EACH ROW EXECUTE FUNCTION forget_duplicate_traces();

-- What earlier deletions left behind.
DELETE FROM record_fingerprints f
 WHERE (f.library = 'problems' AND NOT EXISTS (SELECT 1 FROM problems r WHERE r.id = f.record_id))
    OR (f.library = 'achievements'
        AND NOT EXISTS (SELECT 1 FROM achievements r WHERE r.id = f.record_id));
DELETE FROM duplicate_pairs d
 WHERE (d.library = 'problems' AND NOT EXISTS (SELECT 1 FROM problems r WHERE r.id = d.record_id)
        OR d.library = 'problems' AND NOT EXISTS (SELECT 1 FROM problems r WHERE r.id = d.other_id))
    OR (d.library = 'achievements'
        AND (NOT EXISTS (SELECT 1 FROM achievements r WHERE r.id = d.record_id)
             OR NOT EXISTS (SELECT 1 FROM achievements r WHERE r.id = d.other_id)));
