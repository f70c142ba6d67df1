-- Users see a record's external id, never its internal number: the links and the fallback id
-- of notifications stored before now name problems and experts by their external ids, quoted
-- as one URL path segment (greenplat.core.links.segment).
CREATE FUNCTION pg_temp.url_segment(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(string_agg(
        CASE WHEN c ~ '^[A-Za-z0-9_.~-]$' THEN c
             ELSE upper(regexp_replace(encode(convert_to(c, 'UTF8'), 'hex'), '(..)', '%\1', 'g'))
        END, '' ORDER BY i), '')
    FROM regexp_split_to_table(value, '') WITH ORDINALITY AS s(c, i)
$$;

-- /problems/{id} and /problems/{id}#pair-{expert id}
UPDATE notifications n
   SET link = '/problems/' || pg_temp.url_segment(p.external_id) || coalesce(
       '#pair-' || (SELECT pg_temp.url_segment(e.external_id) FROM experts e
                     WHERE e.id = substring(n.link FROM '#pair-(\d+)$')::bigint), '')
  FROM problems p
 WHERE n.link ~ '^/problems/\d+(#pair-\d+)?$'
   AND p.id = substring(n.link FROM '^/problems/(\d+)')::bigint;

-- /expert/inbox#p{id}, /expert/invitations#p{id}, /subcenter/review#p{id}
UPDATE notifications n
   SET link = substring(n.link FROM '^([^#]*)#p') || '#p' || pg_temp.url_segment(p.external_id)
  FROM problems p
 WHERE n.link ~ '^/[a-z/]+#p\d+$'
   AND p.id = substring(n.link FROM '#p(\d+)$')::bigint;

-- /messages/{problem id}/{expert id}
UPDATE notifications n
   SET link = '/messages/' || pg_temp.url_segment(p.external_id) || '/'
              || pg_temp.url_segment(e.external_id)
  FROM problems p, experts e
 WHERE n.link ~ '^/messages/\d+/\d+$'
   AND p.id = substring(n.link FROM '^/messages/(\d+)/')::bigint
   AND e.id = substring(n.link FROM '/(\d+)$')::bigint;

-- The id shown to a reader who may not see the problem's title.
UPDATE notifications n
   SET params = n.params || jsonb_build_object('problem_id', p.external_id)
  FROM problems p
 WHERE p.id = n.problem_id AND jsonb_typeof(n.params -> 'problem_id') = 'number';
