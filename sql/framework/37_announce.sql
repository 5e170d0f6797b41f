{#
  run_job announces each run's start, every batch and its end with pg_notify on one channel
  (the manifest's notify_channel), a JSON payload each; a notification is delivered when
  its transaction commits, so a listener (`deployer watch`, the dashboard) sees a batch
  exactly when its work is visible.
#}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.announce(
    p_event  text,
    p_job    text,
    p_exec   bigint,
    p_fields jsonb DEFAULT '{}'
)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* One run announcement: {"event", "job", "execution_id", "at", ...fields}. Text
       fields are cut to 1000 characters so a payload stays under pg_notify's 8000 bytes. */
    SELECT pg_catalog.pg_notify(
        {{ notify_channel | literal }},
        (pg_catalog.jsonb_build_object('event', p_event, 'job', p_job, 'execution_id', p_exec,
                                       'at', pg_catalog.clock_timestamp())
         OPERATOR(pg_catalog.||) coalesce((
             SELECT pg_catalog.jsonb_object_agg(f.key, CASE WHEN pg_catalog.jsonb_typeof(f.value) = 'string'
                                                           THEN pg_catalog.to_jsonb(pg_catalog.left(f.value OPERATOR(pg_catalog.#>>) '{}', 1000))
                                                           ELSE f.value END)
               FROM pg_catalog.jsonb_each(p_fields) AS f), '{}'::jsonb))::text)
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.announce(text, text, bigint, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.announce(text, text, bigint, jsonb) IS
    'Sends one run announcement (start, batch, end, skipped) as JSON on the job set''s notify channel';
