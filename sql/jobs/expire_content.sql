{#
  expire_content (docs/rules.md: The jobs): soft-delete what has expired, then hard-delete what was
  soft-deleted long ago. Each rule is written once, in a soft_delete / select_apply call,
  and serves the dry run (count) and the real run (write) alike.

  Each phase reads the rows that can be due, not the table (bench/README.md:
  cost_follows_work): content and outcome posts, stories and messages by expiry (indexes on
  expires_at of live rows); rows to hard-delete by deleted_at. A pick is due by its game, so
  the picks phases start from what can have become due since the previous complete run,
  whose moment is a high-water mark (macros/mark.sql, key checked_through; none: everything,
  as on a first run), less `lag`:
    picks       live picks of the bets of games that started in (mark - lag - pick_grace,
                now - pick_grace], but for the games the previous complete run walked (v_walked
                and before) unchanged since: each game is walked once its pick_grace is over,
                and again once it changes within the lag;
    late_picks  live picks created since v_fresh whose game is not walked by this run: a
                pick shared after its game was walked;
    lost_picks  live picks without a bet (so without a game), by expiry.
  and their comments:
    comments       live comments of the posts deleted in the window (below), walked by the
                   post's deleted_at, the post and the comment, but for the late ones;
    late_comments  the late ones: live comments created since v_fresh and unseen (below),
                   whose post is deleted, by created_at: a comment written after its post
                   was deleted, or after the previous complete run looked at it. The two
                   phases part by the comment, which stays late once it is (a row's version
                   only gets newer), not by its post, which a comment's deletion rewrites
                   (SnapBet's comment count). They wait until the run's posts and picks
                   phases are done, so that the posts they look at are all deleted.
  What the previous complete run could see it looked at, so a window sets it aside (a run
  right after another costs next to nothing, bench/README.md: cost_follows_work):
    - a row written before every transaction in progress as that run began (its horizon,
      the xmin of its first snapshot: a transaction, or a subtransaction of one, then
      running or started since has a number at least that; pg_catalog.age() compares it to
      a row's xmin within one transaction). Only from this server's run: after a restore
      onto another, the numbers start anew (the postmaster's start tells);
    - a pick or comment stamped before v_fresh: the start of the oldest transaction open in
      the database as that run began, or that run's mark if earlier (pg_stat_activity, which
      shows other roles' transactions only to pg_read_all_stats; without it, or with a
      prepared transaction, which has no backend to show, mark - lag). A row written since
      is stamped by its writer's transaction, at its start or later: SnapBet's posts and
      comments take created_at's default, now(), and the app never sets it.
  A live pick of a game that started before the window was created before the previous
  complete run looked at its game (it looked at every game that had started by then), and was
  then deleted; a transaction that commits up to `lag` after its rows' created_at (or a game
  moved back by less than `lag`) is still seen. The comments phase's window is the posts
  deleted: by this run (v_post_ids; a dry run deletes none); since mark - lag, by the app or
  by runs that did not complete (older ones were looked at then, and a hard delete cascades
  to whatever is left). The posts the previous complete run deleted (their deleted_at is its
  now, kept as `deleted_at` in the state: v_own) are not in it: that run deleted their
  comments, and one written since is found by late_comments. (A real run drops that
  key as it starts and only a complete one records it; a run at the same now that deletes
  posts itself does not set them aside.) What a window cannot
  see: a pick or post restored (deleted_at back to NULL), a pick moved to another bet or a
  bet to another game, a game moved back by more than `lag`, a row inserted with a NULL
  created_at, a pick or comment stamped before its writer began (an import of old rows),
  committed after a complete run, a comment
  stamped more than `lag` before it commits on a post the previous complete run deleted, and
  the old comments of a post the app deleted at that run's now to the microsecond; dropping the
  mark (DELETE FROM jobs.job_state WHERE job_name = 'expire_content') makes the next run look
  at everything. A run stopped by p_limit or its time budget leaves the mark, so the next run
  looks at the same windows. Every candidate is checked by the rule itself, as docs/rules.md
  says it, and again by the write. Citus sets nothing aside (its nodes number their own
  transactions): v_fresh is mark - lag there.
  Variables: app_schema, jobs_schema, pick_grace, hard_delete_after.
#}
{% from "macros/job_function.sql" import job_function, app_plans with context %}
{% from "macros/soft_delete.sql" import soft_delete with context %}
{% from "macros/hard_delete.sql" import hard_delete with context %}
{% from "macros/mark.sql" import mark_window, mark_advance with context %}
{% from "macros/heap_pass.sql" import heap_locals with context %}
{% from "macros/job_result.sql" import job_result %}
{% from "macros/position.sql" import position %}
{% set app = app_schema | ident %}
{# How far before the mark a run looks again: longer than the job's time budget and the app's transactions. #}
{% set lag = '1 hour' %}
{% set by_expiry = [('expires_at', 'timestamptz'), ('id', 'uuid')] %}
{# A row whose version the previous complete run could already see (written by a transaction
   older than every one running as that run began: its horizon, v_old its age in this
   transaction) was looked at by that run; a window checks the others. Not on Citus, whose
   nodes each number their own transactions. #}
{% macro unseen(alias) %}{% if not citus %} AND NOT coalesce(pg_catalog.age({{ alias }}.xmin) > v_old, false){% endif %}{% endmacro %}
{# A late comment: created since v_fresh and unseen, late_comments' (a NULL created_at is not;
   its source says the same as `c.created_at > v_fresh`, which idx_comments_created_at serves). #}
{% macro late(alias) %}(coalesce({{ alias }}.created_at > v_fresh, false){{ unseen(alias) }}){% endmacro %}
{% set uuid_min = "'00000000-0000-0000-0000-000000000000'" %}
{% set uuid_max = "'ffffffff-ffff-ffff-ffff-ffffffffffff'" %}
{% set at_post = "coalesce(" ~ position('comments', 'timestamptz', 0) ~ ", '-infinity'), coalesce("
                 ~ position('comments', 'uuid', 1) ~ ", " ~ uuid_min ~ ")" %}
{% set at_comment = at_post ~ ", coalesce(" ~ position('comments', 'uuid', 2) ~ ", " ~ uuid_min ~ ")" %}
{# A post (deleted at `gone`) with a comment the comments phase has still to take. #}
{% macro comments_left(gone, post) %}EXISTS (SELECT FROM {{ app }}.comments AS c
                                WHERE c.post_id = {{ post }} AND c.deleted_at IS NULL AND NOT {{ late('c') }}
                                  AND ({{ gone }}, {{ post }}, c.id) > ({{ at_comment }})){% endmacro %}
{# A comment is due when its post is deleted (or, dry, to be deleted by this run). Its post is
   found by key: as EXISTS (… WHERE p.id = t.post_id AND p.deleted_at IS NOT NULL), the
   planner could walk jobset_posts_soft_deleted_idx, whose predicate that is, for every
   comment (Citus keeps the EXISTS, which it runs on each shard). #}
{% if citus %}
{% set comment_rule = 't.deleted_at IS NULL AND EXISTS (
             SELECT 1 FROM ' ~ app ~ '.posts AS p
              WHERE p.id = t.post_id AND (p.deleted_at IS NOT NULL OR p.id = ANY (v_post_ids)))' %}
{% else %}
{% set comment_rule = 't.deleted_at IS NULL AND coalesce((
             SELECT p.deleted_at IS NOT NULL OR p.id = ANY (v_post_ids)
               FROM ' ~ app ~ '.posts AS p WHERE p.id = t.post_id), false)' %}
{% endif %}
{% set declare %}
    v_cutoff    timestamptz := p_now - {{ hard_delete_after | interval }};
    v_pick_cut  timestamptz := p_now - {{ pick_grace | interval }};
    v_since     timestamptz;
    v_through   timestamptz;
    v_games     timestamptz;
    v_own       timestamptz;
    v_state     jsonb;
    v_mine      jsonb;
    v_next      bigint;
    v_old       integer;
    v_walked    timestamptz;
    v_fresh     timestamptz;
    v_ids       uuid[];
    v_post_ids  uuid[]      := '{}'::uuid[];
    v_picks     bigint      := 0;
{% if citus %}
    v_started   uuid[]      := '{}'::uuid[];
{% endif %}
    v_hard      bigint      := 0;
    v_comments  bigint      := 0;
    v_gone      timestamptz[];
    v_posts     uuid[];
    v_sort      text;
    v_room      bigint;
{{ heap_locals() }}
{% endset %}
{% if citus %}
{#
  Citus: posts and bets are distributed by other keys (docs/citus.md), so a pick's bet is not
  looked up row by row from the post. A phase first collects, set-based, the bets of the
  live picks whose game started at least pick_grace ago among those it may delete (v_started,
  from its source); a pick is due when its bet is among them, or, without a bet, when it
  has expired. (One node's rule falls back on expires_at for a bet_id naming no bet too; its
  foreign key never lets that be.)
#}
{% set pick_rule = "t.deleted_at IS NULL AND t.post_type = 'pick' AND CASE WHEN t.bet_id IS NULL
             THEN t.expires_at <= p_now ELSE t.bet_id = ANY (v_started) END" %}
{% else %}
{% set pick_rule = "t.deleted_at IS NULL AND t.post_type = 'pick' AND coalesce(
             (SELECT g.commence_time <= v_pick_cut
                FROM " ~ app ~ ".bets AS b JOIN " ~ app ~ ".games AS g ON g.id = b.game_id
               WHERE b.id = t.bet_id),
             t.expires_at <= p_now)" %}
{% endif %}
{% if citus %}
{# Citus: bets and posts are not co-located; one side becomes an intermediate result
   (OFFSET 0) that every shard of the other joins by its index, instead of repartitioning
   both tables for every batch. #}
{% set picks_source = "(SELECT p.*, s.commence_time
                 FROM (SELECT b.id, g.commence_time
                         FROM " ~ app ~ ".games AS g
                         JOIN " ~ app ~ ".bets AS b ON b.game_id = g.id
                        WHERE g.commence_time <= v_pick_cut AND (v_games IS NULL OR g.commence_time > v_games)
                       OFFSET 0) AS s
                 JOIN " ~ app ~ ".posts AS p ON p.bet_id = s.id AND p.post_type = 'pick' AND p.deleted_at IS NULL)" %}
{% set late_source = "(SELECT p.*
                 FROM " ~ app ~ ".posts AS p
                 JOIN (SELECT b.id
                         FROM (SELECT p.bet_id FROM " ~ app ~ ".posts AS p
                                WHERE p.post_type = 'pick' AND p.deleted_at IS NULL AND p.created_at > v_since
                               OFFSET 0) AS q
                         JOIN " ~ app ~ ".bets AS b ON b.id = q.bet_id
                         JOIN " ~ app ~ ".games AS g ON g.id = b.game_id
                        WHERE g.commence_time <= v_games OFFSET 0) AS s ON s.id = p.bet_id
                WHERE p.post_type = 'pick' AND p.deleted_at IS NULL AND p.created_at > v_since)" %}
{% else %}
{# A game the previous complete run walked: started by its moment less pick_grace, and unchanged
   since (it looked at every live pick of its bets then). #}
{% set walked = "coalesce(g.commence_time <= v_walked AND pg_catalog.age(g.xmin) > v_old, false)" %}
{% set picks_source = "(SELECT p.*, g.commence_time
                 FROM " ~ app ~ ".games AS g
                 JOIN " ~ app ~ ".bets AS b ON b.game_id = g.id
                 JOIN " ~ app ~ ".posts AS p ON p.bet_id = b.id AND p.post_type = 'pick' AND p.deleted_at IS NULL
                WHERE g.commence_time <= v_pick_cut AND (v_games IS NULL OR g.commence_time > v_games)
                  AND NOT " ~ walked ~ ")" %}
{% set late_source = "(SELECT p.*
                 FROM " ~ app ~ ".posts AS p
                 JOIN " ~ app ~ ".bets AS b ON b.id = p.bet_id
                 JOIN " ~ app ~ ".games AS g ON g.id = b.game_id
                WHERE p.post_type = 'pick' AND p.deleted_at IS NULL AND p.created_at > v_fresh" ~ unseen('p') ~ "
                  AND (g.commence_time <= v_games OR " ~ walked ~ ")
               OFFSET 0)" %}
{% endif %}
{% call job_function("expire_content", declare) %}
{# The mark is the run's now, but never later than the clock: a real run given a later
   --now must not let the runs after it skip what became due meanwhile (an earlier mark
   only makes a run look at more). #}
{{ mark_window('expire_content', 'checked_through', lag, 'SELECT LEAST(p_now, pg_catalog.now())') }}
    -- Games that started after v_games are walked by the picks phase (NULL: every game).
    v_games := v_since - {{ pick_grace | interval }};
    -- Read by the first batch from the previous complete run's state, carried in `next`:
    -- `own`, the deleted_at it gave the posts it deleted (its now), whose comments it deleted
    -- itself; `skip`, its horizon, valid while the server runs since it took it (another
    -- server, as after a restore, numbers its transactions anew); `walked`, the start of the
    -- last game it walked; `fresh`, from when picks and comments can be unseen by it. A real
    -- run drops `deleted_at` at once and only a complete one records it again (a run stopped
    -- before its comments phase leaves posts with its now whose comments are still to be
    -- looked at), and sets its own horizon aside as `pending` (with its now, `at`), which it
    -- records with its mark if it completes (macros/mark.sql: not behind the mark, whose run saw more).
    IF NOT v_after ? 'own' THEN
        SELECT s.state INTO v_state FROM {{ jobs_schema | ident }}.job_state AS s
         WHERE s.job_name = 'expire_content';
        v_after := v_after || pg_catalog.jsonb_build_object(
            'own', v_state -> 'deleted_at',
            'skip', CASE WHEN (v_state ->> 'started')::timestamptz = pg_catalog.pg_postmaster_start_time()
                         THEN v_state -> 'horizon' END,
            'walked', (v_state ->> 'checked_through')::timestamptz - {{ pick_grace | interval }},
            'fresh', CASE WHEN v_state ->> 'quiet' IS NOT NULL THEN
                         GREATEST(v_since, LEAST((v_state ->> 'checked_through')::timestamptz,
                                                 (v_state ->> 'quiet')::timestamptz) - interval '1 microsecond') END);
        IF NOT p_dry_run THEN
{% if not citus %}
            v_mine := pg_catalog.jsonb_build_object(
                'at', p_now,
                'horizon', pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint,
                'started', pg_catalog.pg_postmaster_start_time(),
                'quiet', CASE WHEN pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')
                               AND NOT EXISTS (SELECT FROM pg_catalog.pg_prepared_xacts AS x
                                                WHERE x.database = pg_catalog.current_database()) THEN (
                    SELECT LEAST(pg_catalog.min(a.xact_start), pg_catalog.clock_timestamp())
                      FROM pg_catalog.pg_stat_activity AS a
                     WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid()
                       AND a.backend_type <> 'autovacuum worker') END);
{% endif %}
            -- Beside the pending horizon of a run at the same now that has not completed (a
            -- direct call beside a scheduled run), the older of each, so that whichever of the
            -- two completes records no more than both could see; another run's is replaced.
            INSERT INTO {{ jobs_schema | ident }}.job_state AS s (job_name, state, updated_at)
            VALUES ('expire_content', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('pending', v_mine)), p_now)
            ON CONFLICT (job_name) DO UPDATE SET state = s.state - 'deleted_at' - 'pending' || CASE
                WHEN v_mine IS NULL THEN '{}'::jsonb
                WHEN (s.state #>> '{pending,at}')::timestamptz = p_now
                 AND (s.state #>> '{pending,started}')::timestamptz = pg_catalog.pg_postmaster_start_time()
                THEN pg_catalog.jsonb_build_object('pending', v_mine || pg_catalog.jsonb_build_object(
                    'horizon', LEAST((s.state #>> '{pending,horizon}')::bigint, (v_mine ->> 'horizon')::bigint),
                    'quiet', CASE WHEN s.state #>> '{pending,quiet}' IS NOT NULL AND v_mine ->> 'quiet' IS NOT NULL
                                  THEN LEAST((s.state #>> '{pending,quiet}')::timestamptz,
                                             (v_mine ->> 'quiet')::timestamptz) END))
                ELSE pg_catalog.jsonb_build_object('pending', v_mine) END;
        END IF;
    END IF;
{% if not citus %}
    -- The previous run's horizon as an age in this transaction (pg_catalog.age() of a row's
    -- xmin counts from the same transaction): unset if the horizon is not from this
    -- server's past or too old to compare.
    v_old := NULL;
    IF v_since IS NOT NULL AND v_after ->> 'skip' IS NOT NULL THEN
        v_next := pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint;
        IF (v_after ->> 'skip')::bigint BETWEEN v_next - 1073741824 AND v_next THEN
            v_old := pg_catalog.age((((v_after ->> 'skip')::bigint % 4294967296)::text)::xid);
            v_walked := (v_after ->> 'walked')::timestamptz;
        END IF;
    END IF;
{% endif %}
    v_own := CASE WHEN v_since IS NOT NULL THEN (v_after ->> 'own')::timestamptz END;
    v_fresh := coalesce((v_after ->> 'fresh')::timestamptz, v_since);

{{ soft_delete('posts', app ~ '.posts',
        "t.deleted_at IS NULL AND t.post_type IN ('content', 'outcome') AND t.expires_at <= p_now",
        by_expiry, heap=true) }}
    v_post_ids := v_post_ids || v_ids;

{% for key, at, source in [('picks', 'commence_time', picks_source), ('late_picks', 'created_at', late_source)] %}
{% if citus %}
    v_started := ARRAY(SELECT s.bet_id FROM {{ source }} AS s);
{% endif %}
{{ soft_delete(key, app ~ '.posts', pick_rule, [(at, 'timestamptz'), ('id', 'uuid')], record=false, source=source) }}
    v_post_ids := v_post_ids || v_ids;
    v_picks := v_picks + v_n;

{% endfor %}
{{ soft_delete('lost_picks', app ~ '.posts', pick_rule, by_expiry, record=false,
        source="(SELECT p.*
                 FROM " ~ app ~ ".posts AS p
                WHERE p.post_type = 'pick' AND p.deleted_at IS NULL AND p.bet_id IS NULL AND p.expires_at <= p_now)") }}
    v_post_ids := v_post_ids || v_ids;
    v_picks := v_picks + v_n;
    v_details := v_details || pg_catalog.jsonb_build_object('picks', v_picks);
    -- Posts this run deletes (or, dry, would) carry its now: at the previous complete run's
    -- now, that stamp no longer tells that run's posts apart (from this batch on).
    IF pg_catalog.cardinality(v_post_ids) > 0 THEN
        v_after := v_after || '{"stamped": true}'::jsonb;
    END IF;
    IF v_own = p_now AND v_after ? 'stamped' THEN
        v_own := NULL;
    END IF;

{{ soft_delete('stories', app ~ '.stories', 't.deleted_at IS NULL AND t.expires_at <= p_now', by_expiry,
               heap=true) }}

{{ soft_delete('messages', app ~ '.messages', 't.deleted_at IS NULL AND t.expires_at <= p_now', by_expiry,
               heap=true) }}

    -- The comments wait for the posts: a batch whose posts or picks phases are not done (a
    -- pass over the heap stops at its pages' end, short of its limit) leaves them to a later
    -- batch, which sees every post this run deletes before it walks their comments.
    IF v_left IS DISTINCT FROM 0 AND NOT coalesce(
{% for key in ['posts', 'picks', 'late_picks', 'lost_picks'] %}
            {{ 'AND ' if not loop.first }}v_after -> {{ key | literal }} OPERATOR(pg_catalog.=) '"done"'::jsonb
{% endfor %}
            , false) THEN
        v_left := 0;
        v_more := true;
    END IF;

{% if citus %}
    -- A dry run has deleted no post, so it also counts comments of the posts it would delete.
    -- OFFSET 0 keeps the batch's position out of the probe of each post's comments: as an
    -- index condition beside post_id = p.id, (post_id, id) > position scanned the index from
    -- the position to its end for every post before it. The posts deleted since, but for
    -- those stamped v_own, are two ranges of deleted_at (a filter would read each entry it skips).
    -- Posts before the batch's position are done: their comments are not looked up again.
{{ soft_delete('comments', app ~ '.comments', comment_rule, [('post_id', 'uuid'), ('id', 'uuid')],
        source='(SELECT c.*
                 FROM ' ~ app ~ '.comments AS c
                WHERE c.deleted_at IS NULL
                  AND c.post_id IN (SELECT u.id FROM (SELECT p.id FROM ' ~ app ~ '.posts AS p
                                     WHERE p.deleted_at IS NOT NULL AND (v_since IS NULL OR p.deleted_at > v_since)
                                       AND (v_own IS NULL OR p.deleted_at < v_own)
                                    UNION ALL
                                    SELECT p.id FROM ' ~ app ~ '.posts AS p WHERE p.deleted_at > v_own
                                    UNION ALL
                                    SELECT pg_catalog.unnest(v_post_ids)
                                    UNION ALL
                                    SELECT n.post_id
                                      FROM ' ~ app ~ '.comments AS n JOIN ' ~ app ~ '.posts AS p ON p.id = n.post_id
                                     WHERE n.deleted_at IS NULL AND n.created_at > v_fresh AND p.deleted_at IS NOT NULL) AS u (id)
                                     WHERE ' ~ position('comments', 'uuid') ~ ' IS NULL OR u.id >= ' ~ position('comments', 'uuid') ~ '))') }}
{% else %}
    -- Comments of the posts deleted in the window, walked by the post's deleted_at (`gone`),
    -- the post and the comment, but for the late ones (created since v_fresh and unseen: a
    -- row's version only grows newer, so a comment stays late once it is), which
    -- late_comments takes after. A batch first takes the posts it can reach: from its
    -- position on, at most v_left of those with such comments left, in the order of
    -- jobset_posts_soft_deleted_idx, from each range of deleted_at in turn: the posts deleted
    -- at this run's now if that is before the window (a --now before it), then the window but
    -- for the posts stamped v_own (two ranges, as a filter would read each entry it skips). A
    -- dry run has deleted no post: the posts it would delete count as deleted at its now.
    -- Then it takes their comments, in a second statement. Every post taken had a comment to
    -- take, so the batch's comments are among theirs; fewer than v_left comments taken means
    -- all of theirs were, and the phase goes on after the last post taken unless fewer than
    -- v_left posts were left. (In one statement, the planner sorted all the window's posts
    -- for every batch: 150 ms a batch at 10M, bench/README.md.) A range's scan starts at one
    -- row comparison, the position or the range's start (`<> lower` makes the start
    -- exclusive): beside a second lower bound on deleted_at the index scan may start at
    -- either, and from -infinity it read every soft-deleted post before the window.
    v_gone := '{}';
    v_posts := '{}';
    v_room := NULL;
    IF v_after -> 'comments' IS DISTINCT FROM '"done"'::jsonb AND v_left IS DISTINCT FROM 0 THEN
        v_room := v_left;
        -- Without sorts: the window's posts are mostly deleted since the statistics were
        -- taken, so the planner, expecting a few, would read and sort all of them for every
        -- batch rather than walk the index in order and stop at the limit.
        v_sort := pg_catalog.current_setting('enable_sort');
        PERFORM pg_catalog.set_config('enable_sort', 'off', true);
{% for lower, upper in [("CASE WHEN p_now <= v_since THEN p_now - interval '1 microsecond' END", "p_now + interval '1 microsecond'"),
                        ("coalesce(v_since, '-infinity')", "coalesce(v_own, 'infinity')"),
                        ("CASE WHEN v_own IS NOT NULL THEN GREATEST(v_own, v_since) END", "'infinity'")] %}
{% set from = 'CASE WHEN ' ~ position('comments', 'timestamptz', 0) ~ ' >= ' ~ lower ~ ' THEN ' %}
        SELECT v_gone || coalesce(pg_catalog.array_agg(q.deleted_at ORDER BY q.deleted_at, q.id), '{}'),
               v_posts || coalesce(pg_catalog.array_agg(q.id ORDER BY q.deleted_at, q.id), '{}')
          INTO v_gone, v_posts
          FROM (SELECT p.deleted_at, p.id FROM {{ app }}.posts AS p
                 WHERE (p.deleted_at, p.id) >= ({{ from }}{{ position('comments', 'timestamptz', 0) }} ELSE {{ lower }} END,
                                               {{ from }}{{ position('comments', 'uuid', 1) }} ELSE {{ uuid_max }} END)
                   AND p.deleted_at <> {{ lower }} AND p.deleted_at < {{ upper }}{{ unseen('p') }}
                   AND {{ comments_left('p.deleted_at', 'p.id') }}
                 ORDER BY p.deleted_at, p.id
                 LIMIT v_left - pg_catalog.cardinality(v_posts)) AS q;
{% endfor %}
        PERFORM pg_catalog.set_config('enable_sort', v_sort, true);
        IF p_dry_run THEN
            SELECT coalesce(pg_catalog.array_agg(q.gone ORDER BY q.gone, q.id), '{}'),
                   coalesce(pg_catalog.array_agg(q.id ORDER BY q.gone, q.id), '{}')
              INTO v_gone, v_posts
              FROM (SELECT q.gone, q.id
                      FROM (SELECT x.gone, x.id FROM ROWS FROM (pg_catalog.unnest(v_gone), pg_catalog.unnest(v_posts)) AS x (gone, id)
                            UNION ALL
                            SELECT p_now, x.id FROM pg_catalog.unnest(v_post_ids) AS x (id)
                             WHERE (p_now, x.id) >= ({{ at_post }})
                               AND {{ comments_left('p_now', 'x.id') }}) AS q
                     ORDER BY q.gone, q.id
                     LIMIT v_left) AS q;
        END IF;
    END IF;
    -- SnapBet's two triggers on comments run a statement per comment deleted; the batch's
    -- candidates are the comments of the posts just taken, whatever its position.
{% call app_plans() %}
{{ soft_delete('comments', app ~ '.comments', comment_rule,
        [('gone', 'timestamptz'), ('post_id', 'uuid'), ('id', 'uuid')], record=false,
        source='(SELECT c.*, p.gone
                 FROM ROWS FROM (pg_catalog.unnest(v_gone), pg_catalog.unnest(v_posts)) AS p (gone, id)
                 JOIN ' ~ app ~ '.comments AS c ON c.post_id = p.id AND c.deleted_at IS NULL AND NOT ' ~ late('c') ~ ')') }}
{% endcall %}
    v_comments := v_n;
    IF v_room > 0 AND v_after -> 'comments' OPERATOR(pg_catalog.=) '"done"'::jsonb
       AND pg_catalog.cardinality(v_posts) >= v_room THEN
        v_after := v_after || pg_catalog.jsonb_build_object('comments', pg_catalog.jsonb_build_array(
            v_gone[v_room], v_posts[v_room], {{ uuid_max }}));
        v_more := true;
        v_left := 0;
    END IF;

    -- Comments created since v_fresh and unseen whose post is deleted: written after the
    -- post was deleted or after the previous complete run looked at it; walked by
    -- created_at (idx_comments_created_at).
{{ soft_delete('late_comments', app ~ '.comments', comment_rule, [('created_at', 'timestamptz'), ('id', 'uuid')],
        record=false,
        source='(SELECT c.* FROM ' ~ app ~ '.comments AS c
                WHERE c.deleted_at IS NULL AND c.created_at > v_fresh' ~ unseen('c') ~ ')') }}
    v_comments := v_comments + v_n;
    v_details := v_details || pg_catalog.jsonb_build_object('comments', v_comments);
{% endif %}

    -- Hard deletes, comments first so that each row is counted once: deleting a post
    -- cascades to its remaining comments, reactions and pick actions.
{% for table in ['comments', 'posts', 'stories', 'messages'] %}
{{ hard_delete('hard_deleted ' ~ table, app ~ '.' ~ (table | ident), 't.deleted_at < v_cutoff',
               [('deleted_at', 'timestamptz'), ('id', 'uuid')], record=false, heap=true) }}
    v_hard := v_hard + v_n;
{% if citus and table == 'messages' %}
    -- Citus: message_reads has no foreign key to messages there (docs/citus.md); the reads
    -- of the messages just deleted go with them, as the cascade takes them on one node.
    IF NOT p_dry_run AND v_n > 0 THEN
        DELETE FROM {{ app }}.message_reads AS r WHERE r.message_id = ANY (v_ids);
    END IF;
{% endif %}
{% endfor %}
    v_details := v_details || pg_catalog.jsonb_build_object('hard_deleted', v_hard);

{{ mark_advance('expire_content', 'checked_through', also="pg_catalog.jsonb_build_object('deleted_at', p_now)",
                 pending='pending') }}
{{ job_result('(SELECT sum(value::bigint) FROM pg_catalog.jsonb_each_text(v_details))') }}
{% endcall %}
