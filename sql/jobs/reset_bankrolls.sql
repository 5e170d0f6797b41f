{#
  reset_bankrolls (docs/rules.md: The jobs): once per week, every bankroll starts again from its weekly
  deposit. Idempotent per week, so it can be scheduled hourly and still reset once, at
  the first run after Monday 00:00 in `timezone`.
  Variables: app_schema, jobs_schema, timezone, base_bankroll, referral_bonus.
#}
{% from "macros/job_function.sql" import job_function with context %}
{% from "macros/select_apply.sql" import select_apply %}
{% from "macros/job_result.sql" import job_result %}
{% set js = jobs_schema | ident %}
{% set app = app_schema | ident %}
{% set declare %}
    v_week_start timestamptz := {{ js }}.week_start(p_now, {{ timezone | literal }});
    v_ids        uuid[];
    v_users      bigint;
{% endset %}
{% call job_function("reset_bankrolls", declare) %}
{% call select_apply('users', app ~ '.bankrolls',
        't.last_reset IS NULL OR t.last_reset < v_week_start', [('user_id', 'uuid')], pk='user_id') %}
        due AS (
            SELECT b.user_id, b.last_reset, b.balance, b.weekly_deposit, b.created_at,
                   {{ base_bankroll | integer }} + {{ referral_bonus | integer }} * coalesce(u.referral_count, 0) AS deposit,
                   {{ referral_bonus | integer }} * coalesce(u.referral_count, 0) AS bonus
              FROM c
              JOIN {{ app }}.bankrolls AS b ON b.user_id = c.user_id
              JOIN {{ app }}.users AS u ON u.id = b.user_id
             WHERE b.last_reset IS NULL OR b.last_reset < v_week_start
{% if not citus %}
               FOR UPDATE OF b
{% endif %}
        ), {{ 'week_of' if citus else 'week' }} AS (
            -- The finished week, from the bets placed since the last reset.
            SELECT d.user_id,
                   count(x.id) AS bets,
                   count(x.id) FILTER (WHERE x.status = 'won') AS wins,
                   count(x.id) FILTER (WHERE x.status = 'lost') AS losses,
                   coalesce(sum(x.actual_win) FILTER (WHERE x.status IN ('won', 'lost', 'push')), 0) AS net
              FROM due AS d
              LEFT JOIN {{ app }}.bets AS x
                ON x.user_id = d.user_id AND (d.last_reset IS NULL OR x.created_at >= d.last_reset)
             GROUP BY d.user_id
{% if citus %}
        ), week AS (
            SELECT g.*, pg_catalog.jsonb_build_object(
                       'week_start', pg_catalog.date_trunc('week',
                           pg_catalog.timezone({{ timezone | literal }}, coalesce(d.last_reset, d.created_at)))::date,
                       'bets', g.bets, 'wins', g.wins, 'losses', g.losses, 'net', g.net) AS entry
              FROM week_of AS g JOIN due AS d USING (user_id)
{% endif %}
        ), w AS (
        UPDATE {{ app }}.bankrolls AS b
           SET balance = d.deposit,
               weekly_deposit = d.deposit,
               referral_bonus = d.bonus,
               total_wagered = 0, total_won = 0,
               win_count = 0, loss_count = 0, push_count = 0,
               biggest_win = 0, biggest_loss = 0,
               season_high = d.deposit, season_low = d.deposit,
               last_reset = p_now,
               reset_count = coalesce(b.reset_count, 0) + 1,
               stats_metadata = pg_catalog.jsonb_set(
                   CASE WHEN pg_catalog.jsonb_typeof(b.stats_metadata) = 'object' THEN b.stats_metadata ELSE '{}'::jsonb END,
                   '{weeklyHistory}',
                   CASE WHEN pg_catalog.jsonb_typeof(b.stats_metadata -> 'weeklyHistory') = 'array'
                        THEN b.stats_metadata -> 'weeklyHistory' ELSE '[]'::jsonb END
{% if not citus %}
                   || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                          'week_start', pg_catalog.date_trunc('week',
                              pg_catalog.timezone({{ timezone | literal }}, coalesce(d.last_reset, d.created_at)))::date,
                          'start_balance', d.weekly_deposit,
                          'end_balance', d.balance,
                          'bets', k.bets, 'wins', k.wins, 'losses', k.losses, 'net', k.net))),
{% else %}
                   {#- Citus: no STABLE function of a column in a distributed UPDATE's SET; the
                       week's entry is built by the `week` CTE, its balances taken here from the
                       row as the UPDATE locks it (an array || an object appends the object). #}
                   || pg_catalog.jsonb_set(pg_catalog.jsonb_set(k.entry,
                          '{start_balance}', coalesce(b.weekly_deposit::text, 'null')::jsonb),
                          '{end_balance}', coalesce(b.balance::text, 'null')::jsonb)),
{% endif %}
               updated_at = p_now
          FROM due AS d
          JOIN week AS k USING (user_id)
         WHERE b.user_id = d.user_id
{% if citus %}
           -- Citus locks no rows by SELECT across shards: the UPDATE rechecks the rule on
           -- the row as it is when it locks it, so a bankroll another run reset is left alone.
           AND (b.last_reset IS NULL OR b.last_reset < v_week_start)
{% endif %}
        RETURNING b.user_id)
{% endcall %}
    v_users := v_n;

    -- Pending bets of the users just reset (v_ids) are cancelled without refund: the
    -- balance was reset.
    IF p_dry_run THEN
        SELECT count(*) INTO v_n
          FROM pg_catalog.unnest(v_ids) AS r(user_id)
          JOIN {{ app }}.bets AS x ON x.user_id = r.user_id AND x.status = 'pending';
    ELSE
        UPDATE {{ app }}.bets AS x
           SET status = 'cancelled', actual_win = 0, settled_at = p_now
          FROM pg_catalog.unnest(v_ids) AS r(user_id)
         WHERE x.user_id = r.user_id AND x.status = 'pending';
        GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    v_details := v_details || pg_catalog.jsonb_build_object('bets_cancelled', v_n);

    IF NOT p_dry_run THEN
        INSERT INTO {{ app }}.notifications (user_id, type, data, created_at)
        SELECT b.user_id, 'system',
               pg_catalog.jsonb_build_object('kind', 'weekly_reset', 'week_start', v_week_start, 'balance', b.balance),
               p_now
          FROM pg_catalog.unnest(v_ids) AS r(user_id)
          JOIN {{ app }}.bankrolls AS b ON b.user_id = r.user_id;
    END IF;
    v_details := v_details || pg_catalog.jsonb_build_object('notifications', v_users);

{{ job_result('v_users') }}
{% endcall %}
