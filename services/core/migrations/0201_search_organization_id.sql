-- The index decides "may read in full" by organization id like the database, not by name.
ALTER TABLE search_documents ADD COLUMN organization_id integer;
UPDATE search_documents d SET organization_id = p.organization_id
    FROM problems p WHERE d.library = 'problems' AND p.id = d.record_id;
ALTER TABLE search_documents DROP COLUMN organization;
