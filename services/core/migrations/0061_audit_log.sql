-- Who did what to which record and when. Append-only: the triggers below refuse UPDATE,
-- DELETE and TRUNCATE for every role, owner and superuser included; REVOKE adds the same for
-- any non-owner role a deployment connects as.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id     integer,
    actor        text NOT NULL DEFAULT 'system',
    actor_role   text,
    action       text NOT NULL,
    library      text,
    record_id    bigint,
    external_id  text,
    region       text,
    rows         integer,
    detail       jsonb NOT NULL DEFAULT '{}',
    request_id   text
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_region_idx ON audit_log (region, at DESC);
CREATE INDEX audit_log_record_idx ON audit_log (library, record_id);

CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- The acting account, set per transaction by greenplat.core.audit.service.set_actor.
CREATE FUNCTION audit_actor(name text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('greenplat.' || name, true), '')
$$;

-- Every change of a record, whichever code path made it. The detail names the changed
-- fields, never their values: a confidential problem's text does not spread into the log.
CREATE FUNCTION audit_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec      jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
    old_rec  jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) ELSE '{}' END;
    fields   jsonb := '[]';
    detail   jsonb;
    verb     text := lower(TG_OP);
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_agg(n.key ORDER BY n.key), '[]') INTO fields
          FROM jsonb_each(rec) n
         WHERE n.key <> 'updated_at' AND n.value IS DISTINCT FROM old_rec -> n.key;
        IF fields = '[]' THEN
            RETURN NULL;
        END IF;
    END IF;
    detail := jsonb_build_object('fields', fields);
    IF TG_TABLE_NAME = 'users' AND fields ? 'role' THEN
        verb := 'role_change';
        detail := detail || jsonb_build_object('from', old_rec ->> 'role', 'to', rec ->> 'role');
    END IF;
    IF TG_TABLE_NAME = 'problems' AND fields ? 'status' THEN
        detail := detail || jsonb_build_object('from', old_rec ->> 'status', 'to', rec ->> 'status');
    END IF;
    INSERT INTO audit_log (actor_id, actor, actor_role, action, library, record_id,
                           external_id, region, detail, request_id)
    VALUES (audit_actor('actor_id')::integer, coalesce(audit_actor('actor'), 'system'),
            audit_actor('actor_role'), verb, TG_TABLE_NAME, (rec ->> 'id')::bigint,
            coalesce(rec ->> 'external_id', rec ->> 'username', rec ->> 'code'),
            CASE WHEN TG_TABLE_NAME = 'regions' THEN rec ->> 'name' ELSE rec ->> 'region' END,
            detail, audit_actor('request_id'));
    RETURN NULL;
END $$;

CREATE TRIGGER problems_audit AFTER INSERT OR UPDATE OR DELETE ON problems
    FOR EACH ROW EXECUTE FUNCTION audit_record_change();
CREATE TRIGGER achievements_audit AFTER INSERT OR UPDATE OR DELETE ON achievements
    FOR EACH ROW EXECUTE FUNCTION audit_record_change();
CREATE TRIGGER experts_audit AFTER INSERT OR UPDATE OR DELETE ON experts
    FOR EACH ROW EXECUTE FUNCTION audit_record_change();
CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION audit_record_change();
CREATE TRIGGER regions_audit AFTER INSERT OR UPDATE OR DELETE ON regions
    FOR EACH ROW EXECUTE FUNCTION audit_record_change();
