{#
  cleanup (docs/rules.md: The jobs, Boundaries, The runner): keeps the database small and the run history honest.

  Phases, each in key order, continuing from batch to batch:
    notifications     deleted when created more than notifications_after (30 days) ago
    executions        jobs.job_executions rows that finished more than executions_after
                      (30 days) ago (by executed_at; `running` rows are never deleted)
    cron_run_details  pg_cron's cron.job_run_details rows started more than
                      cron_history_after (30 days) ago, when the `cron` schema is in this
                      database and this role may delete from it; otherwise 0 and a NOTICE
                      (pg_cron often lives in another database: prune it there)
    reactions         reactions on soft-deleted posts (SnapBet's trigger lowers each post's
                      reaction_count); the posts walked are those soft-deleted since the
                      previous complete run's latest deleted_at less soft_delete_lag, or all
                      of them on the first run: older ones were cleaned then, and hard
                      deletes cascade to whatever is left
    chats             group chats without members, created more than empty_chat_grace
                      (1 hour) ago: a chat the app has just created gets its members first.
                      SnapBet deletes a chat when its last member leaves (its trigger
                      cleanup_empty_chats); what is left for the job is mostly a group that
                      never got members. The chats looked at are those that can have become
                      due since the previous complete run's moment less soft_delete_lag:
                      created so that their grace ended since (or without created_at), or
                      with a last_message_at since, which SnapBet's chat_member_removal_trigger
                      moves on every removal from a group ("<name> left the group", through
                      update_chat_last_message_time). All of them on a first run, or when
                      those two triggers are not both enabled (a NOTICE says so). A removal
                      that fires no trigger (session_replication_role = replica) leaves no
                      trace: dropping the chats_seen key of cleanup's jobs.job_state row makes
                      the next run look at every group chat
    abandoned         `running` runs whose backend is gone (jobs.backend_alive), marked
                      `abandoned`
  "Older than N" is strict (docs/rules.md: Boundaries): created_at < p_now - N.
  Variables: app_schema, jobs_schema, the intervals above.
#}
{% from "macros/job_function.sql" import job_function, app_plans with context %}
{% from "macros/select_apply.sql" import select_apply %}
{% from "macros/hard_delete.sql" import hard_delete, range_delete with context %}
{% from "macros/take.sql" import take %}
{% from "macros/position.sql" import position, walk %}
{% from "macros/mark.sql" import mark_window, mark_advance, moment_window, moment_advance with context %}
{% from "macros/job_result.sql" import job_result %}
{% set app = app_schema | ident %}
{% set js = jobs_schema | ident %}
{% set declare %}
    v_ids        uuid[];
    v_runs       bigint[];
    v_notif_cut  timestamptz := p_now - {{ notifications_after | interval }};
    v_exec_cut   timestamptz := p_now - {{ executions_after | interval }};
    v_cron_cut   timestamptz := p_now - {{ cron_history_after | interval }};
    v_chat_cut   timestamptz := p_now - {{ empty_chat_grace | interval }};
    v_chats      timestamptz;
    v_since      timestamptz;
    v_through    timestamptz;
    v_from_run   bigint      := {{ position('cron_run_details', 'bigint') }};
    v_cron       boolean;
    v_cron_runs  regclass    := pg_catalog.to_regclass('cron.job_run_details');
{% if citus %}
    v_messages   uuid[]      := '{}'::uuid[];
{% else %}
    v_found      bigint;
{% endif %}
{% endset %}
{% call job_function("cleanup", declare) %}
{{ range_delete('notifications', app ~ '.notifications', 't.created_at < v_notif_cut',
                [('created_at', 'timestamptz'), ('id', 'uuid')]) }}

{{ range_delete('executions', js ~ '.job_executions', "t.executed_at < v_exec_cut AND t.status <> 'running'",
                [('executed_at', 'timestamptz'), ('id', 'bigint')], ids='v_runs') }}

    -- pg_cron's history, by runid (it grows with start_time), through dynamic SQL: the table
    -- exists only where pg_cron is installed.
    v_cron := v_cron_runs IS NOT NULL
              AND pg_catalog.has_table_privilege(v_cron_runs,
                                                 CASE WHEN p_dry_run THEN 'SELECT' ELSE 'SELECT, DELETE' END);
    IF NOT v_cron AND NOT v_after ? 'cron_run_details' THEN
        RAISE NOTICE 'cleanup: no cron.job_run_details to prune in this database (pg_cron lives elsewhere or this role may not delete from it)';
        v_after := v_after || '{"cron_run_details": "done"}'::jsonb;
    END IF;
{% call take('cron_run_details', 'v_runs', 'bigint') %}
SELECT r.runid FROM {{ js }}.cron_history_before(v_cron_cut, v_from_run, v_left) AS r (runid)
{% endcall %}
    IF NOT p_dry_run AND v_seen > 0 THEN
        -- The table is named by the regclass found above, not by a constant: plpgsql_check
        -- reads format() with constant arguments, and would look wherever the job is linted
        -- for a table only pg_cron's databases have.
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE runid = ANY ($1)', v_cron_runs)
          USING v_runs;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    ELSE
        v_n := v_seen;
    END IF;
    v_details := v_details || pg_catalog.jsonb_build_object('cron_run_details', v_n);

    -- Reactions on soft-deleted posts, post by post in (deleted_at, id) order, in the run's
    -- window of soft-deleted posts.
{{ mark_window('cleanup', 'reactions_through', soft_delete_lag,
               'SELECT pg_catalog.max(p.deleted_at) FROM ' ~ app ~ '.posts AS p WHERE p.deleted_at IS NOT NULL') }}
{% call walk('reactions', 'v_ids') %}
        WITH c AS (
            SELECT p.deleted_at, p.id
              FROM {{ app }}.posts AS p
             WHERE p.deleted_at IS NOT NULL
               AND (v_since IS NULL OR p.deleted_at > v_since)
               AND (v_after -> 'reactions' IS NULL
                    OR (p.deleted_at, p.id) > ({{ position('reactions', 'timestamptz', 0) }},
                                               {{ position('reactions', 'uuid', 1) }}))
{% if citus %}
               AND EXISTS (SELECT FROM {{ app }}.reactions AS r WHERE r.post_id = p.id)
{% else %}
               -- a probe per post, not a semi-join: without statistics (a restore) the planner
               -- took the reactions' post ids as ~200 and hashed every reaction each batch
               AND (SELECT true FROM {{ app }}.reactions AS r WHERE r.post_id = p.id LIMIT 1)
{% endif %}
             ORDER BY p.deleted_at, p.id
             LIMIT v_left)
        SELECT coalesce(pg_catalog.array_agg(c.id ORDER BY c.deleted_at, c.id), '{}'), pg_catalog.count(*),
               (SELECT pg_catalog.jsonb_build_array(l.deleted_at, l.id)
                  FROM c AS l ORDER BY l.deleted_at DESC, l.id DESC LIMIT 1)
          INTO v_ids, v_seen, v_last
          FROM c;
{% endcall %}
    IF p_dry_run THEN
        SELECT pg_catalog.count(*) INTO v_n FROM {{ app }}.reactions AS r WHERE r.post_id = ANY (v_ids);
    ELSE
        -- SnapBet's trigger on reactions runs a statement per deleted row.
{% call app_plans(8) %}
{% if citus %}
        DELETE FROM {{ app }}.reactions AS r
         USING {{ app }}.posts AS p
         WHERE r.post_id = ANY (v_ids) AND p.id = r.post_id AND p.deleted_at IS NOT NULL;
        GET DIAGNOSTICS v_n = ROW_COUNT;
{% else %}
        -- The batch's posts' reactions found by probes (OFFSET 0) and deleted where they
        -- were found (by ctid, rechecked on their post): as a join, each batch hashed every
        -- soft-deleted post; by key, each reaction cost a second index descent and a second
        -- look at its post (bench/README.md: cleanup). A reaction the app changed while the
        -- delete waited for it has its new version elsewhere, which a TID scan skips: those
        -- few are deleted by their post next, if it is still soft-deleted.
        WITH f AS MATERIALIZED (
                SELECT x.tid, u.post_id
                  FROM pg_catalog.unnest(v_ids) AS u (post_id)
                 CROSS JOIN LATERAL (SELECT y.ctid AS tid FROM {{ app }}.reactions AS y
                                      WHERE y.post_id = u.post_id OFFSET 0) AS x
                 WHERE (SELECT p.deleted_at IS NOT NULL FROM {{ app }}.posts AS p WHERE p.id = u.post_id)),
             d AS (
                DELETE FROM {{ app }}.reactions AS r
                 USING f
                 WHERE r.ctid = f.tid AND r.post_id = f.post_id
                RETURNING 1)
        SELECT (SELECT pg_catalog.count(*) FROM f), pg_catalog.count(*) INTO v_found, v_n FROM d;
        IF v_n < v_found THEN
            DELETE FROM {{ app }}.reactions AS r
             WHERE r.post_id = ANY (v_ids)
               AND (SELECT p.deleted_at IS NOT NULL FROM {{ app }}.posts AS p WHERE p.id = r.post_id);
            GET DIAGNOSTICS v_found = ROW_COUNT;
            v_n := v_n + v_found;
        END IF;
{% endif %}
{% endcall %}
    END IF;
    v_details := v_details || pg_catalog.jsonb_build_object('reactions', v_n);

{% set empty_chat = "t.chat_type = 'group' AND coalesce(t.created_at, '-infinity') < v_chat_cut
         AND NOT EXISTS (SELECT FROM " ~ app ~ ".chat_members AS m WHERE m.chat_id = t.id)" %}
    -- Group chats that can have become due since the previous complete run (v_chats: its
    -- moment less the lag; NULL: every group chat).
{% call moment_window('cleanup', 'chats_seen', soft_delete_lag, 'v_chats') %}
        IF v_chats IS NOT NULL AND NOT (
               -- SnapBet's triggers: a removal from a group writes a message, which moves the
               -- chat's last_message_at (enabled AFTER row triggers: DELETE, INSERT)
               EXISTS (SELECT FROM pg_catalog.pg_trigger AS g
                        WHERE g.tgrelid = {{ (app ~ '.chat_members') | literal }}::regclass
                          AND g.tgname = 'chat_member_removal_trigger'
                          AND g.tgenabled IN ('O', 'A') AND g.tgtype & 75 = 9)
               AND EXISTS (SELECT FROM pg_catalog.pg_trigger AS g
                            WHERE g.tgrelid = {{ (app ~ '.messages') | literal }}::regclass
                              AND g.tgname = 'update_chat_last_message_time'
                              AND g.tgenabled IN ('O', 'A') AND g.tgtype & 71 = 5)) THEN
            RAISE NOTICE 'cleanup: SnapBet''s triggers chat_member_removal_trigger and update_chat_last_message_time, which move a group chat''s last_message_at when a member leaves, are not both enabled; every group chat is looked at';
            v_chats := NULL;
        END IF;
{% endcall %}
{% set chats_source = "(SELECT t.* FROM " ~ app ~ ".chats AS t
                WHERE t.chat_type = 'group'
                  AND (v_chats IS NULL OR t.last_message_at > v_chats OR t.created_at IS NULL
                       OR t.created_at >= v_chats - " ~ (empty_chat_grace | interval) ~ "))" %}
{% if citus %}
    -- Citus: message_reads has no foreign key to messages there (docs/citus.md). The
    -- messages of the chats that may go now are noted, and the reads of those the cascade
    -- took are deleted after, as the cascade takes them on one node.
    IF NOT p_dry_run THEN
        v_messages := ARRAY(SELECT m.id FROM {{ app }}.messages AS m
                             WHERE m.chat_id IN (SELECT t.id FROM {{ chats_source }} AS t WHERE {{ empty_chat }}));
    END IF;
{% endif %}
{% if citus %}
{{ hard_delete('chats', app ~ '.chats', empty_chat, [('id', 'uuid')], source=chats_source) }}
{% else %}
    -- The chats' messages and members go by SnapBet's ON DELETE CASCADE, a statement per
    -- deleted chat and table.
{% call app_plans() %}
{{ hard_delete('chats', app ~ '.chats', empty_chat, [('id', 'uuid')], source=chats_source) }}
{% endcall %}
{% endif %}
{% if citus %}
    IF NOT p_dry_run AND v_messages <> '{}' THEN
        DELETE FROM {{ app }}.message_reads AS r
         WHERE r.message_id = ANY (v_messages)
           AND r.message_id NOT IN (SELECT m.id FROM {{ app }}.messages AS m WHERE m.id = ANY (v_messages));
    END IF;
{% endif %}

{% set gone = "t.status = 'running' AND NOT " ~ js ~ ".backend_alive(t.backend_pid, t.backend_start, t.executed_at)" %}
{% call select_apply('abandoned', js ~ '.job_executions', gone, [('id', 'bigint')], ids='v_runs') %}
        w AS (
            UPDATE {{ js }}.job_executions AS t
               SET status = 'abandoned', success = false, finished_at = p_now,
                   message = pg_catalog.format('abandoned: its backend (pid %s) ended without finishing the run',
                                               t.backend_pid),
                   duration_ms = (EXTRACT(EPOCH FROM p_now - t.executed_at) * 1000)::bigint
              FROM c
             WHERE t.id = c.id AND {{ gone }}
            RETURNING t.id)
{% endcall %}

{{ mark_advance('cleanup', 'reactions_through') }}
{{ moment_advance('cleanup', 'chats_seen') }}
{{ job_result('(SELECT sum(value::bigint) FROM pg_catalog.jsonb_each_text(v_details))') }}
{% endcall %}

{#
  cron.job_run_details' runs that started before p_before, after runid p_after, at most
  p_limit, in runid order: none where that table is not in this database. Dynamic SQL, so
  the job compiles and runs without pg_cron.
#}
CREATE OR REPLACE FUNCTION {{ js }}.cron_history_before(p_before timestamptz, p_after bigint, p_limit bigint)
RETURNS SETOF bigint
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- Named by this value, not a constant, so that plpgsql_check (which reads format() with
    -- constant arguments) does not look for it where pg_cron is not.
    v_runs regclass := pg_catalog.to_regclass('cron.job_run_details');
BEGIN
    /* pg_cron's run ids older than p_before (by start_time), after p_after, at most p_limit. */
    IF v_runs IS NULL OR NOT pg_catalog.has_table_privilege(v_runs, 'SELECT') THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT d.runid FROM %s AS d
          WHERE d.start_time < $1 AND ($2 IS NULL OR d.runid > $2)
          ORDER BY d.runid LIMIT $3', v_runs)
        USING p_before, p_after, p_limit;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_history_before(timestamptz, bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_history_before(timestamptz, bigint, bigint) IS
    'pg_cron run ids started before a moment (cleanup''s retention), in runid order; none without pg_cron here';
