{#
  What others made this week tailing and fading each author's picks (docs/rules.md:
  rollup_stats' tail_profit_generated and fade_profit_generated, calculate_badges'
  riding_wave and fade_god): for the users in `ids`, one row per author with such a settled
  (won or lost) tail or fade, as user_id, tails, fades (the net of each kind; NULL when
  there is none of that kind). The body of a CTE; needs v_week_start and v_week_end.

  One node: by key from the batch's users, then from each pick (LATERAL, OFFSET 0, so each
  stays a probe). Joined otherwise, it was planned as a scan of every pick action or post for
  every batch, and without statistics (bench/README.md: unanalyzed) as the week's pick
  actions joined to every post of the batch (calculate_badges: 1,000 times over), or as the
  week's 54,638 pick actions each looked up by bet and post, 270,000 buffer reads a batch
  whatever its size (rollup_stats on the demo seed of 100,000 users: 14× its analyzed time).
  Citus (docs/citus.md): no per-user LATERAL probes across shards; the batch's users' tails
  and fades (posts and pick actions co-located by the post) become an intermediate result
  (OFFSET 0), which every shard of bets joins by id. Import with context.
#}
{% set app = app_schema | ident %}
{% macro followed(ids) -%}
{% if citus %}
            SELECT f.user_id,
                   pg_catalog.sum(x.actual_win) FILTER (WHERE f.action_type = 'tail') AS tails,
                   pg_catalog.sum(x.actual_win) FILTER (WHERE f.action_type = 'fade') AS fades
              FROM (SELECT p.user_id, a.action_type, a.resulting_bet_id
                      FROM {{ app }}.posts AS p
                      JOIN {{ app }}.pick_actions AS a ON a.post_id = p.id
                     WHERE p.user_id = ANY ({{ ids }}) AND p.post_type = 'pick' AND a.user_id <> p.user_id
                       AND a.created_at >= v_week_start AND a.created_at < v_week_end
                    OFFSET 0) AS f
              JOIN {{ app }}.bets AS x ON x.id = f.resulting_bet_id
             WHERE x.status IN ('won', 'lost')
             GROUP BY f.user_id
{%- else %}
            SELECT p.user_id,
                   pg_catalog.sum(f.actual_win) FILTER (WHERE f.action_type = 'tail') AS tails,
                   pg_catalog.sum(f.actual_win) FILTER (WHERE f.action_type = 'fade') AS fades
              FROM pg_catalog.unnest({{ ids }}) AS u (user_id)
             CROSS JOIN LATERAL (SELECT p.id, p.user_id FROM {{ app }}.posts AS p
                                  WHERE p.user_id = u.user_id AND p.post_type = 'pick' OFFSET 0) AS p
             CROSS JOIN LATERAL (
                    SELECT a.action_type, x.actual_win
                      FROM {{ app }}.pick_actions AS a
                      JOIN {{ app }}.bets AS x ON x.id = a.resulting_bet_id
                     WHERE a.post_id = p.id AND a.user_id <> p.user_id
                       AND a.created_at >= v_week_start AND a.created_at < v_week_end
                       AND x.status IN ('won', 'lost') OFFSET 0) AS f
             GROUP BY p.user_id
{%- endif %}
{%- endmacro %}
{#
  settled_since(since): the users whose figures a settlement after `since` can have changed
  (rollup_stats' due rules a and b, calculate_badges' incremental runs): the bettors of the
  bets graded (won, lost, push) after it, and the authors of the picks whose tail or fade
  bet was settled (won or lost) after it. SELECTs of one column, user_id, joined by UNION,
  to be one branch of the caller's UNION.
#}
{% macro settled_since(since) -%}
SELECT b.user_id
                          FROM {{ app }}.bets AS b
                         WHERE b.settled_at > {{ since }} AND b.status IN ('won', 'lost', 'push')
                        UNION
{% if citus %}
                        SELECT p.user_id
                          FROM (SELECT b.id FROM {{ app }}.bets AS b
                                 WHERE b.settled_at > {{ since }} AND b.status IN ('won', 'lost') OFFSET 0) AS b
                          JOIN {{ app }}.pick_actions AS a ON a.resulting_bet_id = b.id
                          JOIN {{ app }}.posts AS p ON p.id = a.post_id
{% else %}
                        SELECT p.user_id
                          FROM {{ app }}.bets AS b
                          JOIN {{ app }}.pick_actions AS a ON a.resulting_bet_id = b.id
                          JOIN {{ app }}.posts AS p ON p.id = a.post_id
                         WHERE b.settled_at > {{ since }} AND b.status IN ('won', 'lost')
{% endif %}
{%- endmacro %}
