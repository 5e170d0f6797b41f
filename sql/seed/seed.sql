{#
  Demo data for the SnapBet reference schema (sql/app/), generated set-based inside the
  database. deployer/seed.py renders this template and runs it in one transaction.

  Variables:
    app_schema, storage_schema  where the app's tables and storage.objects live
    users                       how many users to create (>= 1)
    seed                        any 64-bit integer; the same (users, seed, now) gives the same data
    now                         ISO-8601 timestamp every time is relative to, or None for now()
    timezone                    optional (default UTC): weeks start Monday 00:00 there (docs/rules.md: The week)

  Determinism: no random() and no row-order dependence. Every random choice is a hash of
  (seed, a stream number, the row's number), through the macros below, and so is every UUID.
  Stream numbers are unique across the template so that two choices never share a hash.

  The shape of the data (what a job run at `now` finds to do):
    games      four sports over [now - 21 days, now + 5 days]: scheduled, live, completed (with
               scores), a few cancelled; completed/cancelled games of the last 12 hours and a
               few older ones are not settled yet, so their bets are still pending.
    bets       ~7 per user plus tails and fades of pick posts; graded by the settle_games rules.
               A bet placed before its owner's last_reset whose game was not settled by then
               was cancelled by that reset (no refund), as reset_bankrolls does.
    bankrolls  computed from the bets, so conservation (docs/rules.md: Money) holds for every user; ~77 % were
               reset this week, ~20 % last week, ~3 % never (work for reset_bankrolls).
    posts, stories, messages expire; of the expired ones ~60 % are already soft-deleted (some
               more than 30 days ago), the rest wait for expire_content.
    storage.objects  one row per media URL, plus ~5 % orphans older than 7 days and a few newer.

  SnapBet's triggers (sql/app/95_triggers.sql) are paused while the rows go in: every user
  trigger of the filled tables is disabled (ALTER TABLE … DISABLE TRIGGER; the seed refuses
  to start when it does not own a table with an enabled trigger) and put back, each in the
  mode it had (enabled, ALWAYS, REPLICA; a disabled one stays disabled), once the rows are
  in, all in the seed's one transaction. Instead, the seed writes what the triggers would have written
  had every row gone in one at a time, at its own time, through them (now() being the event's
  time), as the app wrote them: a comment is written live and soft-deleted later, every bet's
  stake leaves the balance when the bet is placed and its return comes back when it settles
  (docs/rules.md: Money), a weekly reset sets the balance and its high and low to the new deposit.
  tests/test_seed.py replays the rows through the real triggers and compares. So:
    posts.comment_count    2 per comment, less 1 per soft-deleted comment: SnapBet counts
                           each new comment twice (update_comment_count_trigger and
                           update_post_comment_count_trigger both add 1) and a soft delete
                           once (only the second sees it)
    posts.reaction_count, tail_count, fade_count, stories.view_count, users.referral_count
                           the rows counted
    chats.last_message_at  the latest message's created_at (deleted or not)
    users.updated_at       the user's last referral of someone else, else created_at
    bankrolls.season_high / season_low
                           the highest / lowest balance since the last reset (or since the
                           bankroll was created, at the weekly deposit, when never reset),
                           the deposit included
    bankrolls.updated_at   the last of: creation, last reset, a placing or a settling since
#}
{% set app = app_schema | ident %}
{% set storage = storage_schema | ident %}
{% set cdn = 'https://cdn.snapbet.invalid/storage/v1/object/public/' %}
{# Sizes derived from `users`, each rendered through the literal filter. #}
{% set n_users = users | literal %}
{% set n_other_users = (users - 1) | literal %}
{% set n_games = ([40, users // 25] | max) | literal %}
{% set n_dm_chats = (users // 2) | literal %}
{% set n_chats = (users // 2 + ([1, users // 20] | max)) | literal %}
{% set n_messages = (5 * users) | literal %}
{% set n_old_orphans = ([2, users * 3 // 10] | max) | literal %}
{% set n_orphans = (([2, users * 3 // 10] | max) + ([1, users // 10] | max)) | literal %}
{# the largest step that keeps the 1st .. 3rd user after someone distinct from them #}
{% set step_3 = ([1, (users - 1) // 3] | max) | literal %}
{#
  Randomness. hashint8extended(key, stream_seed) is Postgres's own 64-bit integer hash: fast,
  immutable, the same on every platform. Each stream's seed is itself a hash of (stream, seed),
  which the planner folds into a constant. Keys must stay below 2^32 (they do for 30 million
  users) because the hash folds the two halves of a bigint together.
#}
{% macro hash(key, stream) -%}
hashint8extended(({{ key }})::bigint, hashint8extended({{ stream }}, {{ seed | literal }}))
{%- endmacro %}
{# A number in [0, 1) drawn by hashing (seed, stream, key). #}
{% macro unit(key, stream) -%}
(({{ hash(key, stream) }} & 9007199254740991)::float8 / 9007199254740992.0)
{%- endmacro %}
{# An integer in [0, n) drawn the same way; n must be >= 1. #}
{% macro pick(key, stream, n) -%}
((({{ hash(key, stream) }} & 2147483647) % ({{ n }}))::integer)
{%- endmacro %}
{# The UUID of row number `key` of a kind of row: two 64-bit hashes from the kind's own streams. #}
{% set kinds = {'user': 1, 'referral': 2, 'bet': 3, 'tail': 4, 'pick': 5, 'outcome': 6,
                'content': 7, 'pick_action': 8, 'comment': 9, 'reaction': 10, 'story': 11,
                'story_view': 12, 'chat': 13, 'message': 14, 'notification': 15, 'orphan': 16,
                'sweep': 17} %}
{% macro uid(kind, key) -%}
encode(int8send({{ hash(key, 2000 + 2 * kinds[kind]) }}) || int8send({{ hash(key, 2001 + 2 * kinds[kind]) }}), 'hex')::uuid
{%- endmacro %}
{# Every 50th user (user 1 first) is a power user: 14 bets, all on this week's games placed
   shortly before the start, every one shared as a pick; the badges have someone to rank. #}
{% macro is_power(n) -%}
(({{ n }}) % 50 = 1)
{%- endmacro %}
{# Every 50th user from user 2 sweeps the week's Sunday: see the sweepers' bets below. #}
{% macro is_sweeper(n) -%}
(({{ n }}) % 50 = 2)
{%- endmacro %}
{# Games 13, 14 and 15 (and every 40th after each) are NFL games at noon of the seed's
   week's Sunday in the configured time zone, so that once they are over sunday_sweep can
   have holders; they never end in a tie. #}
{% macro is_sunday_game(g) -%}
(({{ g }}) % 40 IN (13, 14, 15))
{%- endmacro %}
{# The user k places after user n when spreading distinct users over a post, chat or story. #}
{% macro nth_user(n, k) -%}
((({{ n }}) - 1 + ({{ k }})) % {{ n_users }} + 1)
{%- endmacro %}
{#
  Grade raw bets (the caller's SELECT) and add them to seed_bets. This is the one place the
  settle_games rules of docs/rules.md: The jobs, Boundaries live in the seed: spread from the bet's own side, total
  over/under, moneyline by points; won pays potential_win, lost costs the stake, push and
  cancelled pay 0. The caller supplies key, id, user_n, g, bet_type, is_home, is_over, line,
  odds, stake, created_at, is_tail, is_fade, original_pick_id.
#}
{% macro insert_graded_bets() -%}
INSERT INTO seed_bets
SELECT r.key, r.id, r.user_n, r.g, r.bet_type, r.is_home, r.is_over, r.line, r.odds, r.stake,
       w.potential_win, r.created_at, r.is_tail, r.is_fade, r.original_pick_id, o.status,
       CASE o.status
           WHEN 'pending' THEN NULL
           WHEN 'won' THEN w.potential_win
           WHEN 'lost' THEN -r.stake
           ELSE 0
       END AS actual_win,
       CASE WHEN o.status <> 'pending' THEN o.settled_at END AS settled_at
  FROM ({{ caller() }}) r
  JOIN seed_games g ON g.g = r.g
  JOIN seed_users u ON u.n = r.user_n  -- noqa: AL04
 CROSS JOIN LATERAL (
        SELECT CASE WHEN r.odds < 0 THEN r.stake * 100 / -r.odds
                    ELSE r.stake * r.odds / 100 END AS potential_win,
               CASE r.bet_type
                   WHEN 'spread' THEN CASE WHEN r.is_home THEN g.home_score - g.away_score
                                           ELSE g.away_score - g.home_score END + r.line
                   WHEN 'total' THEN CASE WHEN r.is_over THEN g.home_score + g.away_score - r.line
                                          ELSE r.line - (g.home_score + g.away_score) END
                   ELSE CASE WHEN r.is_home THEN g.home_score - g.away_score
                             ELSE g.away_score - g.home_score END
               END AS margin,
               u.last_reset IS NOT NULL AND r.created_at < u.last_reset
                   AND (NOT g.settled OR g.settle_time > u.last_reset) AS cancelled_by_reset
       ) w
 CROSS JOIN LATERAL (
        SELECT CASE
                   WHEN w.cancelled_by_reset THEN 'cancelled'
                   WHEN NOT g.settled THEN 'pending'
                   WHEN g.status = 'cancelled' THEN 'cancelled'
                   WHEN w.margin > 0 THEN 'won'
                   WHEN w.margin < 0 THEN 'lost'
                   ELSE 'push'
               END AS status,
               CASE WHEN w.cancelled_by_reset THEN u.last_reset ELSE g.settle_time END AS settled_at
       ) o
{%- endmacro %}
-- SnapBet demo data for {{ n_users }} users, seed {{ seed | literal }}.
SET LOCAL synchronous_commit = off;
SET LOCAL statement_timeout = 0;
SET LOCAL work_mem = '64MB';
SET LOCAL maintenance_work_mem = '256MB';
-- Day arithmetic and truncation in UTC whatever the session's time zone, so the data only
-- depends on (users, seed, now); every name below is schema-qualified or a temp table.
SET LOCAL timezone = 'UTC';
SET LOCAL search_path = pg_catalog, pg_temp;
-- JIT would compile the large expressions below anew for every statement: it costs more
-- than it saves (about 8 s of 40 at 100000 users).
SET LOCAL jit = off;
-- Nothing below calls random(); setseed() only makes any future use of it repeatable too.
SELECT setseed((hashint8extended({{ seed | literal }}, 0) & 2147483647)::float8 / 2147483647.0);

{% set week_zone = timezone | default('UTC') %}
-- now, and the Mondays 00:00 (in the configured time zone) that start its week and the one
-- before (docs/rules.md: The week).
CREATE TEMP TABLE seed_clock ON COMMIT DROP AS
SELECT t.now,
       date_trunc('week', t.now AT TIME ZONE {{ week_zone | literal }})
           AT TIME ZONE {{ week_zone | literal }} AS week_start,
       (date_trunc('week', t.now AT TIME ZONE {{ week_zone | literal }}) - interval '7 days')
           AT TIME ZONE {{ week_zone | literal }} AS previous_week_start
  FROM (SELECT {% if now is none %}now(){% else %}{{ now | literal }}::timestamptz{% endif %} AS now) t;
ANALYZE seed_clock;

{# (key in the returned counts, schema, table) of every table the seed fills #}
{% set filled = [('users', app_schema, 'users'), ('referrals', app_schema, 'referrals'),
                 ('bankrolls', app_schema, 'bankrolls'), ('games', app_schema, 'games'),
                 ('bets', app_schema, 'bets'), ('posts', app_schema, 'posts'),
                 ('pick_actions', app_schema, 'pick_actions'), ('comments', app_schema, 'comments'),
                 ('reactions', app_schema, 'reactions'), ('stories', app_schema, 'stories'),
                 ('story_views', app_schema, 'story_views'), ('chats', app_schema, 'chats'),
                 ('chat_members', app_schema, 'chat_members'), ('messages', app_schema, 'messages'),
                 ('message_reads', app_schema, 'message_reads'),
                 ('notifications', app_schema, 'notifications'),
                 ('storage.objects', storage_schema, 'objects')] %}
CREATE TEMP TABLE seed_tables ON COMMIT DROP AS
SELECT v.ord, v.key, format('%I.%I', v.schema_name, v.table_name)::regclass AS rel
  FROM (VALUES
{% for key, schema_name, table_name in filled %}
        ({{ loop.index }}, {{ key | literal }}, {{ schema_name | literal }}, {{ table_name | literal }}){{ ',' if not loop.last }}
{% endfor %}
       ) AS v(ord, key, schema_name, table_name);

{% macro row_counts() -%}
{% for key, schema_name, table_name in filled %}
SELECT {{ key | literal }} AS key, count(*) AS n FROM {{ schema_name | ident }}.{{ table_name | ident }}{{ ' UNION ALL' if not loop.last }}
{% endfor %}
{%- endmacro %}
CREATE TEMP TABLE seed_counts_before ON COMMIT DROP AS
{{ row_counts() }};

-- Load like pg_restore does: the filled tables' primary keys and unique constraints
-- (phase 0), their secondary indexes (those that back no constraint; phase 1) and the
-- foreign keys from or to them (phase 2) are dropped here and re-created, from their own
-- definitions, once the rows are in: an index is built once from all its rows instead of
-- row by row (a third of the load at 100,000 users), and re-adding a key or a foreign key
-- checks every row at once. Anything on a table the current role does not own stays, and
-- so does a key that a foreign key of such a table, or the replica identity, needs. The
-- tables' user triggers are paused (phase 3; see the header), each to be put back in the
-- mode it had. All of it is one transaction: a failure anywhere leaves the schema as it was.
DO $owner$
DECLARE
    v_tables text;
BEGIN
    /* A trigger left to fire would count the rows a second time: refuse to seed when one
       cannot be paused. */
    SELECT string_agg(DISTINCT t.tgrelid::regclass::text, ', ') INTO v_tables
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
     WHERE t.tgrelid IN (SELECT rel FROM seed_tables)
       AND NOT t.tgisinternal
       AND t.tgenabled <> 'D'
       AND NOT pg_has_role(c.relowner, 'USAGE');
    IF v_tables IS NOT NULL THEN
        RAISE EXCEPTION 'the seed pauses the triggers of the tables it fills and must own them: %', v_tables
              USING ERRCODE = '42501';
    END IF;
END
$owner$;

CREATE TEMP TABLE seed_deferred ON COMMIT DROP AS
SELECT 0 AS phase, k.conrelid::regclass::text AS rel, quote_ident(k.conname) AS name,
       pg_get_constraintdef(k.oid) AS definition, obj_description(k.oid, 'pg_constraint') AS comment
  FROM pg_constraint k
  JOIN pg_class t ON t.oid = k.conrelid
 WHERE k.contype IN ('p', 'u')
   AND k.conrelid IN (SELECT s.rel FROM seed_tables AS s)
   AND pg_has_role(t.relowner, 'USAGE')
   AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = k.conindid AND i.indisreplident)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint f JOIN pg_class ft ON ft.oid = f.conrelid
                    WHERE f.contype = 'f' AND f.conindid = k.conindid
                      AND NOT pg_has_role(ft.relowner, 'USAGE'))
UNION ALL
SELECT 1, i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
       obj_description(i.indexrelid, 'pg_class')
  FROM pg_index i
  JOIN pg_class t ON t.oid = i.indrelid
 WHERE i.indrelid IN (SELECT s.rel FROM seed_tables AS s)
   AND pg_has_role(t.relowner, 'USAGE')
   AND i.indisvalid
   AND NOT i.indisreplident
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
UNION ALL
SELECT 2, k.conrelid::regclass::text, quote_ident(k.conname), pg_get_constraintdef(k.oid),
       obj_description(k.oid, 'pg_constraint')
  FROM pg_constraint k
  JOIN pg_class t ON t.oid = k.conrelid
 WHERE k.contype = 'f'
   AND (k.conrelid IN (SELECT s.rel FROM seed_tables AS s) OR k.confrelid IN (SELECT s.rel FROM seed_tables AS s))
   AND pg_has_role(t.relowner, 'USAGE')
UNION ALL
SELECT 3, g.tgrelid::regclass::text, quote_ident(g.tgname),
       CASE g.tgenabled WHEN 'A' THEN 'ENABLE ALWAYS TRIGGER'
                        WHEN 'R' THEN 'ENABLE REPLICA TRIGGER'
                        ELSE 'ENABLE TRIGGER' END,
       NULL
  FROM pg_trigger g
 WHERE g.tgrelid IN (SELECT s.rel FROM seed_tables AS s)
   AND NOT g.tgisinternal
   AND g.tgenabled <> 'D';

DO $defer$
DECLARE
    v_object record;
BEGIN
    /* Pause and drop what seed_deferred lists: triggers first, then foreign keys, then
       indexes, then the keys the foreign keys needed. */
    FOR v_object IN SELECT * FROM seed_deferred ORDER BY phase DESC, rel, name LOOP
        IF v_object.phase = 3 THEN
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %s', v_object.rel, v_object.name);
        ELSIF v_object.phase IN (0, 2) THEN
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %s', v_object.rel, v_object.name);
        ELSE
            EXECUTE format('DROP INDEX %s', v_object.name);
        END IF;
    END LOOP;
END
$defer$;

-- Users. User n joined before user n + 1 (all at least 50 days ago); ~10 % were referred by
-- an earlier user; about half have an avatar; ~77 % were reset this week, ~20 % last week,
-- ~3 % never.
CREATE TEMP TABLE seed_users ON COMMIT DROP AS
SELECT n,
       {{ uid('user', 'n') }} AS id,
       (ARRAY['sharp', 'lucky', 'chalky', 'degen', 'cold', 'hot', 'steady', 'wild', 'quiet',
              'bold', 'late', 'early', 'lone', 'big', 'tiny', 'prime'])[1 + {{ pick('n', 10, 16) }}]
       || '_' ||
       (ARRAY['wolf', 'hawk', 'bettor', 'capper', 'fader', 'tailer', 'whale', 'shark', 'fox',
              'bull', 'bear', 'tiger', 'owl', 'mule', 'ace', 'dog'])[1 + {{ pick('n', 11, 16) }}]
       || '_' || n AS username,
       {{ unit('n', 12) }} < 0.5 AS has_avatar,
       c.now - interval '50 days'
             - interval '365 days' * (({{ n_users }} - n)::float8 / {{ n_users }})
             - interval '1 minute' * {{ pick('n', 13, 1440) }} AS created_at,
       CASE WHEN {{ pick('n', 14, 100) }} < 77 THEN c.week_start
            WHEN {{ pick('n', 14, 100) }} < 97 THEN c.previous_week_start
       END AS last_reset,
       CASE WHEN n > 1 AND {{ unit('n', 15) }} < 0.10 THEN 1 + {{ pick('n', 16, 'n - 1') }}
       END AS referrer_n
  FROM generate_series(1, {{ n_users }}) n
 CROSS JOIN seed_clock c;
ANALYZE seed_users;

-- What SnapBet's trigger_update_referral_count leaves on a referrer: the count, and (through
-- update_users_updated_at) updated_at = the time of the last referral (that user's creation).
CREATE TEMP TABLE seed_referral_counts ON COMMIT DROP AS
SELECT referrer_n AS n, count(*)::integer AS referral_count, max(created_at) AS last_referral_at
  FROM seed_users
 WHERE referrer_n IS NOT NULL
 GROUP BY referrer_n;
ANALYZE seed_referral_counts;

INSERT INTO {{ app }}.users
       (id, email, username, avatar_url, referral_count, is_mock, created_at, updated_at)
SELECT u.id,
       u.username || '@example.com',
       u.username,
       CASE WHEN u.has_avatar THEN {{ (cdn ~ 'avatars/') | literal }} || u.id || '.jpg' END,
       coalesce(rc.referral_count, 0),
       true,
       u.created_at,
       greatest(u.created_at, rc.last_referral_at)
  FROM seed_users u
  LEFT JOIN seed_referral_counts rc ON rc.n = u.n;

INSERT INTO {{ app }}.referrals (id, referrer_id, referred_id, code, created_at)
SELECT {{ uid('referral', 'u.n') }},
       {{ uid('user', 'u.referrer_n') }},
       u.id,
       upper(substr(md5({{ seed | literal }} || ':code:' || u.referrer_n), 1, 6)),
       u.created_at
  FROM seed_users u
 WHERE u.referrer_n IS NOT NULL;

-- Games: four sports, ~80 % over the last 21 days (more of them recently), ~20 % over the
-- next 5 days. NFL plays on Sundays (UTC). A game that started within 3 hours is live; older
-- ones are completed (~2 % cancelled). Every 30th game is forced live and every 25th
-- cancelled, so even the smallest seed has both. Completed and cancelled games of the last
-- 12 hours, ~3 % of the others and every 50th game (cancelled within the last day) are not
-- settled yet: their bets are still pending. Lines and odds per game; a favourite's
-- moneyline is -110 .. -300. Three games in every 40 are the week's Sunday NFL games.
CREATE TEMP TABLE seed_games ON COMMIT DROP AS
WITH sports (sport_no, sport, sport_title, teams, score_base, score_range, spread_steps,
             total_base, total_steps) AS (
    VALUES
    (1, 'americanfootball_nfl', 'NFL',
     ARRAY['Kansas City Chiefs', 'Buffalo Bills', 'Philadelphia Eagles', 'San Francisco 49ers',
           'Dallas Cowboys', 'Baltimore Ravens', 'Detroit Lions', 'Green Bay Packers',
           'Miami Dolphins', 'Cincinnati Bengals', 'Los Angeles Rams', 'Pittsburgh Steelers',
           'New York Jets', 'Seattle Seahawks', 'Minnesota Vikings', 'Houston Texans'],
     6, 33, 20, 37.0, 36),
    (2, 'basketball_nba', 'NBA',
     ARRAY['Boston Celtics', 'Denver Nuggets', 'Milwaukee Bucks', 'Los Angeles Lakers',
           'Golden State Warriors', 'Phoenix Suns', 'Miami Heat', 'New York Knicks',
           'Dallas Mavericks', 'Philadelphia 76ers', 'Oklahoma City Thunder',
           'Minnesota Timberwolves', 'Cleveland Cavaliers', 'Sacramento Kings',
           'Indiana Pacers', 'Orlando Magic'],
     90, 40, 28, 205.0, 68),
    (3, 'baseball_mlb', 'MLB',
     ARRAY['Los Angeles Dodgers', 'New York Yankees', 'Atlanta Braves', 'Houston Astros',
           'Philadelphia Phillies', 'Baltimore Orioles', 'Texas Rangers', 'Tampa Bay Rays',
           'Seattle Mariners', 'Toronto Blue Jays', 'Chicago Cubs', 'Boston Red Sox',
           'San Diego Padres', 'Milwaukee Brewers', 'Minnesota Twins', 'St. Louis Cardinals'],
     0, 11, 0, 7.0, 8),
    (4, 'icehockey_nhl', 'NHL',
     ARRAY['Boston Bruins', 'Colorado Avalanche', 'Edmonton Oilers', 'Florida Panthers',
           'New York Rangers', 'Dallas Stars', 'Vegas Golden Knights', 'Carolina Hurricanes',
           'Toronto Maple Leafs', 'Tampa Bay Lightning', 'Vancouver Canucks', 'Winnipeg Jets',
           'New Jersey Devils', 'Los Angeles Kings', 'Nashville Predators', 'Seattle Kraken'],
     0, 7, 0, 5.5, 3)
),
drawn AS (
    SELECT g,
           CASE WHEN {{ is_sunday_game('g') }} THEN 1
                WHEN {{ pick('g', 40, 100) }} < 25 THEN 1
                WHEN {{ pick('g', 40, 100) }} < 55 THEN 2
                WHEN {{ pick('g', 40, 100) }} < 80 THEN 3
                ELSE 4 END AS sport_no,
           1 + {{ pick('g', 41, 16) }} AS home_no,
           CASE WHEN g % 30 = 11 THEN 'live' WHEN g % 25 = 7 THEN 'cancelled'
                WHEN {{ is_sunday_game('g') }} THEN 'sunday' END AS forced,
           CASE WHEN {{ is_sunday_game('g') }}
                THEN ((c.week_start AT TIME ZONE {{ week_zone | literal }}) + interval '6 days 12 hours')
                     AT TIME ZONE {{ week_zone | literal }}
                WHEN g % 30 = 11
                THEN c.now - interval '5 minutes' - interval '170 minutes' * {{ unit('g', 42) }}
                WHEN g % 50 = 7
                THEN c.now - interval '4 hours' - interval '20 hours' * {{ unit('g', 42) }}
                WHEN g % 25 = 7
                THEN c.now - interval '1 day' - interval '19 days' * {{ unit('g', 42) }}
                WHEN {{ unit('g', 55) }} < 0.2
                THEN c.now + interval '5 days' * {{ unit('g', 42) }}
                ELSE c.now - interval '21 days' * {{ unit('g', 42) }} ^ 1.5
           END AS rough_time,
           c.now, c.week_start
      FROM generate_series(1, {{ n_games }}) g
     CROSS JOIN seed_clock c
),
timed AS (
    SELECT d.g, d.now, d.week_start, d.forced, s.*,
           s.teams[d.home_no] AS home_team,
           s.teams[1 + (d.home_no + {{ pick('d.g', 43, 15) }}) % 16] AS away_team,
           CASE WHEN d.forced IS NOT NULL
                THEN date_trunc('minute', d.rough_time)
                WHEN s.sport_no = 1
                THEN date_trunc('week', d.rough_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                     + (ARRAY[interval '6 days 17 hours', interval '6 days 17 hours',
                              interval '6 days 20 hours 25 minutes',
                              interval '7 days 20 minutes'])[1 + {{ pick('d.g', 44, 4) }}]
                ELSE date_trunc('hour', d.rough_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                     + interval '5 minutes' * {{ pick('d.g', 45, 12) }}
           END AS commence_time
      FROM drawn d
      JOIN sports s USING (sport_no)
),
statused AS (
    SELECT t.*,
           CASE WHEN t.forced = 'cancelled' THEN 'cancelled'
                WHEN t.commence_time > t.now THEN 'scheduled'
                WHEN t.commence_time > t.now - interval '3 hours' THEN 'live'
                WHEN {{ unit('t.g', 46) }} < 0.02 AND t.forced IS NULL THEN 'cancelled'
                ELSE 'completed' END AS status
      FROM timed t
)
SELECT s.g,
       md5({{ seed | literal }} || ':game:' || s.g) AS id,
       s.sport, s.sport_title, s.home_team, s.away_team, s.commence_time, s.status,
       CASE WHEN s.status = 'completed' THEN s.score_base + {{ pick('s.g', 47, 's.score_range') }}
                 + CASE WHEN (s.sport_no <> 1 OR s.forced = 'sunday')
                         AND {{ pick('s.g', 47, 's.score_range') }} = {{ pick('s.g', 48, 's.score_range') }}
                        THEN 1 ELSE 0 END
       END AS home_score,
       CASE WHEN s.status = 'completed' THEN s.score_base + {{ pick('s.g', 48, 's.score_range') }}
       END AS away_score,
       s.status IN ('completed', 'cancelled')
           AND s.commence_time <= s.now - interval '12 hours'
           AND {{ unit('s.g', 49) }} >= 0.03
           AND s.g % 50 <> 7 AS settled,
       CASE WHEN s.status = 'completed'
            THEN s.commence_time + interval '3 hours' + interval '2 hours' * {{ unit('s.g', 50) }}
            ELSE s.commence_time + interval '30 minutes' + interval '1 hour' * {{ unit('s.g', 50) }}
       END AS settle_time,
       {# the home side's spread: -x when home is favoured; MLB and NHL use the 1.5 run/puck line #}
       CASE WHEN {{ unit('s.g', 51) }} < 0.6 THEN -1 ELSE 1 END
           * CASE WHEN s.spread_steps = 0 THEN 1.5
                  ELSE 0.5 * (1 + {{ pick('s.g', 52, 'greatest(1, s.spread_steps)') }}) END AS spread_home,
       s.total_base + 0.5 * {{ pick('s.g', 53, 's.total_steps') }} AS total_line,
       CASE WHEN {{ unit('s.g', 51) }} < 0.6 THEN ml.favourite ELSE ml.underdog END AS ml_home,
       CASE WHEN {{ unit('s.g', 51) }} < 0.6 THEN ml.underdog ELSE ml.favourite END AS ml_away,
       s.commence_time >= s.week_start AND s.commence_time <= s.now AS this_week_started
  FROM statused s
 CROSS JOIN LATERAL (
        SELECT -(110 + 10 * {{ pick('s.g', 54, 20) }}) AS favourite,
               greatest(100, 90 + 10 * {{ pick('s.g', 54, 20) }}) AS underdog
       ) ml;
ANALYZE seed_games;

INSERT INTO {{ app }}.games
       (id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score, status)
SELECT id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score,
       status::{{ app }}.game_status
  FROM seed_games;

-- Bets. Every user places 0 .. 14 bets (500 .. 5000 cents each) up to 36 hours before the
-- game starts (power users: 14, on games of this week that have started, up to 6 hours
-- before); tails and fades of pick posts are added below, at most 6 per user, so no user
-- ever stakes more than 100000 cents since a reset and no balance goes negative.
CREATE TEMP TABLE seed_bets (
    key               bigint  NOT NULL,
    id                uuid    NOT NULL,
    user_n            integer NOT NULL,
    g                 integer NOT NULL,
    bet_type          text    NOT NULL,
    is_home           boolean NOT NULL,
    is_over           boolean NOT NULL,
    line              numeric,
    odds              integer NOT NULL,
    stake             integer NOT NULL,
    potential_win     integer NOT NULL,
    created_at        timestamptz NOT NULL,
    is_tail           boolean NOT NULL,
    is_fade           boolean NOT NULL,
    original_pick_id  uuid,
    status            text    NOT NULL,
    actual_win        integer,
    settled_at        timestamptz
) ON COMMIT DROP;

{% call insert_graded_bets() %}
SELECT k.key,
       {{ uid('bet', 'k.key') }} AS id,
       k.user_n,
       ga.g,
       t.bet_type,
       t.is_home,
       t.is_over,
       CASE t.bet_type
           WHEN 'spread' THEN CASE WHEN t.is_home THEN ga.spread_home ELSE -ga.spread_home END
           WHEN 'total' THEN ga.total_line
       END AS line,
       CASE WHEN t.bet_type = 'moneyline'
            THEN CASE WHEN t.is_home THEN ga.ml_home ELSE ga.ml_away END
            ELSE (ARRAY[-110, -110, -110, -110, -105, -115, -120])[1 + {{ pick('k.key', 84, 7) }}]
       END AS odds,
       500 * (1 + {{ pick('k.key', 85, 10) }}) AS stake,
       date_trunc('second', least(c.now, ga.commence_time) - interval '5 minutes'
                            - CASE WHEN k.power THEN interval '6 hours' ELSE interval '36 hours' END
                              * {{ unit('k.key', 86) }}) AS created_at,
       false AS is_tail,
       false AS is_fade,
       NULL::uuid AS original_pick_id
  FROM (SELECT k.*,
               CASE WHEN k.power AND h.games IS NOT NULL
                    THEN h.games[1 + {{ pick('k.key', 88, 'cardinality(h.games)') }}]
                    ELSE 1 + {{ pick('k.key', 81, n_games) }}
                         - CASE WHEN {{ is_sweeper('k.user_n') }}
                                 AND {{ is_sunday_game('1 + ' ~ pick('k.key', 81, n_games)) }}
                                THEN 3 ELSE 0 END  -- a sweeper's other bets avoid the Sunday games
               END AS g
          FROM (SELECT u.n AS user_n, u.n::bigint * 16 + j AS key, {{ is_power('u.n') }} AS power
                  FROM seed_users u
                 CROSS JOIN LATERAL generate_series(
                     1, CASE WHEN {{ is_power('u.n') }} THEN 14 WHEN {{ is_sweeper('u.n') }} THEN 8
                             ELSE {{ pick('u.n', 80, 15) }} END) j) k
         CROSS JOIN (SELECT array_agg(g ORDER BY g) AS games
                       FROM seed_games WHERE this_week_started) h) k
  JOIN seed_games ga ON ga.g = k.g
 CROSS JOIN seed_clock c
 CROSS JOIN LATERAL (
        SELECT CASE WHEN {{ pick('k.key', 82, 100) }} < 45 THEN 'spread'
                    WHEN {{ pick('k.key', 82, 100) }} < 75 THEN 'total'
                    ELSE 'moneyline' END AS bet_type,
               {{ unit('k.key', 83) }} < 0.5 AS is_home,
               {{ unit('k.key', 87) }} < 0.55 AS is_over
       ) t
{% endcall %};

-- Sunday sweepers back the winner (moneyline, 500 cents) of the week's first Sunday NFL games
-- that have started, at most 4 (the badge needs 3; the Sunday games grow with the users, 3 in
-- every 40 games), placed that Sunday morning before kickoff. With at most 8 other bets they
-- stay within the 100000 cents a week allows, and k <= 4 keeps each key (and id) its own.
{% call insert_graded_bets() %}
SELECT -(u.n::bigint * 4 + ga.k) AS key,
       {{ uid('sweep', 'u.n::bigint * 4 + ga.k') }} AS id,
       u.n AS user_n,
       ga.g,
       'moneyline' AS bet_type,
       coalesce(ga.home_score > ga.away_score, true) AS is_home,
       false AS is_over,
       NULL::numeric AS line,
       CASE WHEN coalesce(ga.home_score > ga.away_score, true) THEN ga.ml_home ELSE ga.ml_away END AS odds,
       500 AS stake,
       date_trunc('second', ga.commence_time - interval '5 minutes'
                            - interval '5 hours' * {{ unit('u.n::bigint * 4 + ga.k', 89) }}) AS created_at,
       false AS is_tail,
       false AS is_fade,
       NULL::uuid AS original_pick_id
  FROM seed_users u
  JOIN (SELECT g.*, row_number() OVER (ORDER BY g.g) AS k
          FROM seed_games g CROSS JOIN seed_clock c
         WHERE {{ is_sunday_game('g.g') }} AND g.commence_time <= c.now AND g.commence_time >= c.week_start) ga
    ON ga.k <= 4
 WHERE {{ is_sweeper('u.n') }}
{% endcall %};
ANALYZE seed_bets;

-- Posts, numbered by post_no: picks share ~17 % of the bets (all of a power user's), posted
-- a few minutes after the bet; outcomes ~15 % of the won, lost and pushed bets (within 6
-- hours of settling); every user has 0 .. 2 content posts over the last 45 days. Posts live
-- 24 hours; a pick also expires 3 hours after its game starts. ~60 % of the expired posts
-- are already soft-deleted, up to 2 hours after expiring. ~15 % of the media are videos
-- with a thumbnail.
CREATE TEMP TABLE seed_posts ON COMMIT DROP AS
WITH numbered AS (
    SELECT row_number() OVER (ORDER BY s.kind_no, s.key) AS post_no, s.*
      FROM (
            SELECT 1 AS kind_no, b.key, 'pick' AS post_type, {{ uid('pick', 'b.key') }} AS id,
                   b.user_n, b.id AS bet_id, NULL::uuid AS settled_bet_id, b.g,
                   b.created_at + interval '1 minute' * (1 + {{ pick('b.key', 120, 4) }}) AS created_at
              FROM seed_bets b
             WHERE {{ unit('b.key', 121) }} < 0.17 OR {{ is_power('b.user_n') }}
            UNION ALL
            SELECT 2, o.key, 'outcome', {{ uid('outcome', 'o.key') }}, o.user_n, NULL, o.id, o.g,
                   o.created_at
              FROM (SELECT b.key, b.user_n, b.id, b.g,
                           b.settled_at + interval '6 hours' * {{ unit('b.key', 122) }} AS created_at
                      FROM seed_bets b
                     WHERE b.status IN ('won', 'lost', 'push')
                       AND {{ unit('b.key', 123) }} < 0.15) o
             CROSS JOIN seed_clock c
             WHERE o.created_at <= c.now
            UNION ALL
            SELECT 3, k.key, 'content', {{ uid('content', 'k.key') }}, k.user_n, NULL, NULL, NULL,
                   c.now - interval '45 days' * {{ unit('k.key', 124) }} ^ 2
              FROM (SELECT u.n AS user_n, u.n::bigint * 4 + j AS key
                      FROM seed_users u
                     CROSS JOIN LATERAL generate_series(1, {{ pick('u.n', 125, 3) }}) j) k
             CROSS JOIN seed_clock c
           ) s
),
expiring AS (
    SELECT p.*,
           {{ uid('user', 'p.user_n') }} AS user_id,
           p.created_at + interval '24 hours' AS expires_at,
           CASE WHEN p.post_type = 'pick'
                THEN least(p.created_at + interval '24 hours', ga.commence_time + interval '3 hours')
                ELSE p.created_at + interval '24 hours'
           END + interval '2 hours' * {{ unit('p.post_no', 130) }} AS deleted_if_done,
           {{ unit('p.post_no', 132) }} < 0.15 AS is_video,
           c.now
      FROM numbered p
      LEFT JOIN seed_games ga ON ga.g = p.g
     CROSS JOIN seed_clock c
)
SELECT e.post_no, e.post_type, e.id, e.user_n, e.user_id, e.bet_id, e.settled_bet_id,
       e.created_at, e.expires_at,
       CASE WHEN e.deleted_if_done <= e.now AND {{ unit('e.post_no', 131) }} < 0.6
            THEN e.deleted_if_done END AS deleted_at,
       e.user_id || '/' || e.id || CASE WHEN e.is_video THEN '.mp4' ELSE '.jpg' END AS media_name,
       CASE WHEN e.is_video THEN e.user_id || '/' || e.id || '_thumb.jpg' END AS thumbnail_name,
       CASE e.post_type
           WHEN 'pick' THEN (ARRAY['Lock it in 🔒', 'Hammer time', 'Free money tonight',
                                   'Tail me or fade me', 'Max confidence'])[1 + {{ pick('e.post_no', 133, 5) }}]
           WHEN 'outcome' THEN (ARRAY['Cashed 💰', 'Bad beat...', 'Called it', 'On to the next one',
                                      'Never in doubt'])[1 + {{ pick('e.post_no', 133, 5) }}]
           ELSE (ARRAY['Game day', 'Sweating this one', 'Who else is watching?', NULL,
                       'Weekend plans 🏈'])[1 + {{ pick('e.post_no', 133, 5) }}]
       END AS caption,
       CASE WHEN e.post_type = 'pick' AND {{ unit('e.post_no', 134) }} < 0.35
            THEN least(1 + {{ pick('e.post_no', 135, 3) }}, {{ n_other_users }}) ELSE 0
       END AS n_actions,
       1 + {{ pick('e.post_no', 136, step_3) }} AS action_step,
       least({{ pick('e.post_no', 137, 4) }}, {{ n_other_users }}) AS n_reactions,
       1 + {{ pick('e.post_no', 138, step_3) }} AS reaction_step,
       {{ pick('e.post_no', 139, 3) }} AS n_comments
  FROM expiring e;
ANALYZE seed_posts;

-- Tails and fades: ~35 % of the picks get 1 .. 3 (65 % tails), from distinct other users,
-- placed between the post and the game's start; at most 6 per user.
CREATE TEMP TABLE seed_actions ON COMMIT DROP AS
SELECT a.key, a.post_id, a.post_no, a.author_n, a.original_bet_id, a.user_n, a.action_type,
       a.created_at
  FROM (
        SELECT k.key, k.post_id, k.post_no, k.author_n, k.bet_id AS original_bet_id,
               {{ nth_user('k.author_n', 'k.j * k.action_step') }} AS user_n,
               CASE WHEN {{ unit('k.key', 160) }} < 0.65 THEN 'tail' ELSE 'fade' END AS action_type,
               date_trunc('second', k.created_at + (least(c.now, ga.commence_time) - k.created_at)
                                   * 0.9 * {{ unit('k.key', 161) }}) AS created_at,
               row_number() OVER (PARTITION BY {{ nth_user('k.author_n', 'k.j * k.action_step') }}
                                  ORDER BY k.key) AS nth_of_user
          FROM (SELECT p.post_no::bigint * 4 + j AS key, j, p.id AS post_id, p.post_no,
                       p.user_n AS author_n, p.bet_id, p.created_at, p.action_step
                  FROM seed_posts p
                 CROSS JOIN LATERAL generate_series(1, p.n_actions) j
                 WHERE p.post_type = 'pick') k
          JOIN seed_bets ob ON ob.id = k.bet_id
          JOIN seed_games ga ON ga.g = ob.g
         CROSS JOIN seed_clock c
       ) a
 WHERE a.nth_of_user <= 6
   AND NOT {{ is_sweeper('a.user_n') }};  -- a sweeper's Sunday bets are only the sweep
ANALYZE seed_actions;

{% call insert_graded_bets() %}
SELECT a.key,
       {{ uid('tail', 'a.key') }} AS id,
       a.user_n,
       ob.g,
       ob.bet_type,
       CASE WHEN a.action_type = 'tail' THEN ob.is_home ELSE NOT ob.is_home END AS is_home,
       CASE WHEN a.action_type = 'tail' THEN ob.is_over ELSE NOT ob.is_over END AS is_over,
       CASE WHEN a.action_type = 'fade' AND ob.bet_type = 'spread' THEN -ob.line ELSE ob.line END AS line,
       CASE WHEN a.action_type = 'tail' THEN ob.odds
            WHEN ob.bet_type = 'moneyline' THEN CASE WHEN ob.is_home THEN ga.ml_away ELSE ga.ml_home END
            ELSE -110
       END AS odds,
       500 * (1 + {{ pick('a.key', 162, 10) }}) AS stake,
       a.created_at,
       a.action_type = 'tail' AS is_tail,
       a.action_type = 'fade' AS is_fade,
       a.post_id AS original_pick_id
  FROM seed_actions a
  JOIN seed_bets ob ON ob.id = a.original_bet_id
  JOIN seed_games ga ON ga.g = ob.g
{% endcall %};
ANALYZE seed_bets;

INSERT INTO {{ app }}.bets
       (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, actual_win,
        status, created_at, settled_at, expires_at, is_tail, is_fade, original_pick_id)
SELECT b.id,
       {{ uid('user', 'b.user_n') }},
       g.id,  -- noqa: AL08
       b.bet_type::{{ app }}.bet_type,
       CASE b.bet_type
           WHEN 'spread' THEN jsonb_build_object(
               'team', CASE WHEN b.is_home THEN g.home_team ELSE g.away_team END,
               'line', trim_scale(b.line))
           WHEN 'total' THEN jsonb_build_object(
               'total_type', CASE WHEN b.is_over THEN 'over' ELSE 'under' END,
               'line', trim_scale(b.line))
           ELSE jsonb_build_object('team', CASE WHEN b.is_home THEN g.home_team ELSE g.away_team END)
       END,
       b.stake, b.odds, b.potential_win, b.actual_win,
       b.status::{{ app }}.bet_status,
       b.created_at, b.settled_at, g.commence_time, b.is_tail, b.is_fade, b.original_pick_id
  FROM seed_bets b
  JOIN seed_games g ON g.g = b.g;

-- Bankrolls, computed from the bets so that conservation (docs/rules.md: Money) holds:
-- balance = weekly_deposit - stakes since last_reset + (stake + actual_win) of those settled.
-- season_high / season_low and updated_at are what SnapBet's triggers leave (see the
-- header): the balance starts at the deposit (at the last reset, or at creation), each
-- placing takes its stake off and each settling gives stake + actual_win back, one bet at a
-- time in time order (at the same instant, by bet id, a placing before its settling).
WITH since_reset AS MATERIALIZED (
    SELECT b.*
      FROM seed_bets b
      JOIN seed_users bu ON bu.n = b.user_n
     WHERE bu.last_reset IS NULL OR b.created_at >= bu.last_reset
),
totals AS (
    SELECT b.user_n,
           sum(b.stake) AS wagered,
           sum(b.stake + b.actual_win) FILTER (WHERE b.status <> 'pending') AS returned,
           sum(b.potential_win) FILTER (WHERE b.status = 'won') AS won,
           count(*) FILTER (WHERE b.status = 'won') AS wins,
           count(*) FILTER (WHERE b.status = 'lost') AS losses,
           count(*) FILTER (WHERE b.status = 'push') AS pushes,
           max(b.potential_win) FILTER (WHERE b.status = 'won') AS biggest_win,
           max(b.stake) FILTER (WHERE b.status = 'lost') AS biggest_loss
      FROM since_reset b
     GROUP BY b.user_n
),
path AS (
    -- The balance after each placing and settling, relative to the deposit.
    SELECT e.user_n, max(e.moved) AS highest, min(e.moved) AS lowest, max(e.at) AS last_at
      FROM (SELECT v.user_n, v.at,
                   sum(v.delta) OVER (PARTITION BY v.user_n ORDER BY v.at, v.id, v.step
                                      ROWS UNBOUNDED PRECEDING) AS moved
              FROM (SELECT user_n, created_at AS at, id, 1 AS step, -stake AS delta FROM since_reset
                    UNION ALL
                    SELECT user_n, settled_at, id, 2, stake + actual_win FROM since_reset
                     WHERE status <> 'pending') v) e
     GROUP BY e.user_n
)
INSERT INTO {{ app }}.bankrolls
       (user_id, balance, total_wagered, total_won, win_count, loss_count, push_count,
        biggest_win, biggest_loss, season_high, season_low, last_reset, reset_count,
        stats_metadata, referral_bonus, weekly_deposit, created_at, updated_at)
SELECT u.id,
       d.weekly_deposit - coalesce(a.wagered, 0) + coalesce(a.returned, 0),
       coalesce(a.wagered, 0),
       coalesce(a.won, 0),
       coalesce(a.wins, 0),
       coalesce(a.losses, 0),
       coalesce(a.pushes, 0),
       coalesce(a.biggest_win, 0),
       coalesce(a.biggest_loss, 0),
       d.weekly_deposit + greatest(0, p.highest),
       d.weekly_deposit + least(0, p.lowest),
       u.last_reset,
       CASE WHEN u.last_reset IS NULL THEN 0
            ELSE greatest(0, floor(extract(epoch FROM u.last_reset - u.created_at) / 604800))::integer
       END,
       '{}'::jsonb,
       d.referral_bonus,
       d.weekly_deposit,
       u.created_at,
       greatest(u.created_at, u.last_reset, p.last_at)
  FROM seed_users u
  LEFT JOIN seed_referral_counts rc ON rc.n = u.n
 CROSS JOIN LATERAL (
        SELECT 10000 * coalesce(rc.referral_count, 0) AS referral_bonus,
               100000 + 10000 * coalesce(rc.referral_count, 0) AS weekly_deposit
       ) d
  LEFT JOIN totals a ON a.user_n = u.n
  LEFT JOIN path p ON p.user_n = u.n;

-- Comments: 0 .. 2 per post while it is visible. Half of those on soft-deleted posts were
-- soft-deleted with their post (the other half wait for expire_content); ~3 % of the others
-- were deleted by their author.
CREATE TEMP TABLE seed_comments ON COMMIT DROP AS
SELECT x.key, x.id, x.post_id, x.user_n, x.content, x.created_at,
       CASE WHEN x.post_deleted_at IS NOT NULL
            THEN CASE WHEN {{ unit('x.key', 202) }} < 0.5
                       AND x.post_deleted_at + interval '1 hour' * {{ unit('x.key', 203) }} <= x.now
                      THEN x.post_deleted_at + interval '1 hour' * {{ unit('x.key', 203) }} END
            WHEN {{ unit('x.key', 204) }} < 0.03
            THEN least(x.now, x.created_at + interval '10 minutes')
       END AS deleted_at
  FROM (
        SELECT k.key,
               {{ uid('comment', 'k.key') }} AS id,
               k.post_id,
               1 + {{ pick('k.key', 200, n_users) }} AS user_n,
               (ARRAY['Lets gooo', 'No way this hits', 'Tailing 🔥', 'Fading this all day',
                      'What a game', 'Respect the sweat', 'Book it', 'Ouch'])[1 + {{ pick('k.key', 205, 8) }}]
                   AS content,
               k.post_created_at
                   + (least(c.now, k.expires_at, coalesce(k.post_deleted_at, 'infinity')) - k.post_created_at)
                   * {{ unit('k.key', 201) }} AS created_at,
               k.post_deleted_at,
               c.now
          FROM (SELECT p.post_no::bigint * 4 + j AS key, p.id AS post_id, p.created_at AS post_created_at,
                       p.expires_at, p.deleted_at AS post_deleted_at
                  FROM seed_posts p
                 CROSS JOIN LATERAL generate_series(1, p.n_comments) j) k
         CROSS JOIN seed_clock c
       ) x;
ANALYZE seed_comments;

INSERT INTO {{ app }}.posts
       (id, user_id, bet_id, settled_bet_id, post_type, media_url, thumbnail_url, caption,
        tail_count, fade_count, reaction_count, comment_count, created_at, expires_at, deleted_at)
SELECT p.id, p.user_id, p.bet_id, p.settled_bet_id, p.post_type,
       {{ (cdn ~ 'posts/') | literal }} || p.media_name,
       {{ (cdn ~ 'posts/') | literal }} || p.thumbnail_name,
       p.caption,
       coalesce(a.tails, 0), coalesce(a.fades, 0), p.n_reactions, coalesce(cm.comment_count, 0),
       p.created_at, p.expires_at, p.deleted_at
  FROM seed_posts p
  LEFT JOIN (SELECT post_id,
                    count(*) FILTER (WHERE action_type = 'tail') AS tails,
                    count(*) FILTER (WHERE action_type = 'fade') AS fades
               FROM seed_actions GROUP BY post_id) a ON a.post_id = p.id
  LEFT JOIN (SELECT post_id,
                    -- SnapBet's two comment triggers: +2 per comment written, -1 per soft delete
                    2 * count(*) - count(*) FILTER (WHERE deleted_at IS NOT NULL) AS comment_count
               FROM seed_comments GROUP BY post_id) cm ON cm.post_id = p.id;

INSERT INTO {{ app }}.pick_actions (id, post_id, user_id, action_type, resulting_bet_id, created_at)
SELECT {{ uid('pick_action', 'a.key') }},
       a.post_id,
       {{ uid('user', 'a.user_n') }},
       a.action_type::{{ app }}.pick_action,
       {{ uid('tail', 'a.key') }},
       a.created_at
  FROM seed_actions a;

INSERT INTO {{ app }}.comments (id, post_id, user_id, content, created_at, deleted_at)
SELECT id, post_id, {{ uid('user', 'user_n') }}, content, created_at, deleted_at
  FROM seed_comments;

-- Reactions: 0 .. 3 per post from distinct other users while it is visible.
INSERT INTO {{ app }}.reactions (id, post_id, user_id, emoji, created_at)
SELECT {{ uid('reaction', 'k.key') }},
       k.post_id,
       {{ uid('user', nth_user('k.user_n', 'k.j * k.reaction_step')) }},
       (ARRAY['🔥', '😭', '😂', '💀', '💯'])[1 + {{ pick('k.key', 220, 5) }}],
       k.created_at + (least(c.now, k.expires_at, coalesce(k.deleted_at, 'infinity')) - k.created_at)
                      * {{ unit('k.key', 221) }}
  FROM (SELECT p.post_no::bigint * 4 + j AS key, j, p.id AS post_id, p.user_n, p.reaction_step,
               p.created_at, p.expires_at, p.deleted_at
          FROM seed_posts p
         CROSS JOIN LATERAL generate_series(1, p.n_reactions) j) k
 CROSS JOIN seed_clock c;

-- Stories: 0 .. 2 per user over the last 40 days, 24 hours each; ~60 % of the expired ones
-- already soft-deleted. 0 .. 3 distinct other users viewed each.
CREATE TEMP TABLE seed_stories ON COMMIT DROP AS
SELECT s.*,
       s.created_at + interval '24 hours' AS expires_at,
       CASE WHEN s.created_at + interval '24 hours' + interval '2 hours' * {{ unit('s.key', 242) }} <= s.now
             AND {{ unit('s.key', 243) }} < 0.6
            THEN s.created_at + interval '24 hours' + interval '2 hours' * {{ unit('s.key', 242) }}
       END AS deleted_at,
       least({{ pick('s.key', 244, 4) }}, {{ n_other_users }}) AS n_views,
       1 + {{ pick('s.key', 245, step_3) }} AS view_step
  FROM (SELECT k.key, k.user_n,
               {{ uid('story', 'k.key') }} AS id,
               {{ uid('user', 'k.user_n') }} AS user_id,
               c.now - interval '40 days' * {{ unit('k.key', 241) }} ^ 2 AS created_at,
               c.now
          FROM (SELECT u.n AS user_n, u.n::bigint * 4 + j AS key
                  FROM seed_users u
                 CROSS JOIN LATERAL generate_series(1, {{ pick('u.n', 240, 3) }}) j) k
         CROSS JOIN seed_clock c) s;
ANALYZE seed_stories;

INSERT INTO {{ app }}.stories (id, user_id, media_url, created_at, expires_at, deleted_at, view_count)
SELECT id, user_id, {{ (cdn ~ 'stories/') | literal }} || user_id || '/' || id || '.jpg',
       created_at, expires_at, deleted_at, n_views
  FROM seed_stories;

INSERT INTO {{ app }}.story_views (id, story_id, viewer_id, viewed_at)
SELECT {{ uid('story_view', 's.key * 4 + j') }},
       s.id,
       {{ uid('user', nth_user('s.user_n', 'j * s.view_step')) }},
       s.created_at + (least(s.now, s.expires_at, coalesce(s.deleted_at, 'infinity')) - s.created_at)
                      * {{ unit('s.key * 4 + j', 246) }}
  FROM seed_stories s
 CROSS JOIN LATERAL generate_series(1, s.n_views) j;

-- Chats: users / 2 direct messages between two users, users / 20 groups of 3 .. 8 members
-- (the first is the admin); every 12th group (~8 %) has no members left.
CREATE TEMP TABLE seed_chats ON COMMIT DROP AS
SELECT x.*,
       1 + {{ pick('x.c', 274, '(greatest(1, ' ~ n_other_users ~ ' / greatest(1, x.size - 1)))') }} AS step
  FROM (SELECT c AS c,
               {{ uid('chat', 'c') }} AS id,
               CASE WHEN c <= {{ n_dm_chats }} THEN 'dm' ELSE 'group' END AS chat_type,
               CASE WHEN c <= {{ n_dm_chats }} THEN 2
                    WHEN (c - {{ n_dm_chats }}) % 12 = 2 THEN 0
                    ELSE least(3 + {{ pick('c', 271, 6) }}, {{ n_users }})
               END AS size,
               1 + {{ pick('c', 272, n_users) }} AS base_n,
               (ARRAY[24, 24, 24, 24, 6, 168])[1 + {{ pick('c', 273, 6) }}] AS expiration_hours,
               cl.now - interval '45 days' * {{ unit('c', 275) }} - interval '1 hour' AS created_at,
               cl.now
          FROM generate_series(1, {{ n_chats }}) c
         CROSS JOIN seed_clock cl) x;
ANALYZE seed_chats;

INSERT INTO {{ app }}.chats (id, chat_type, name, settings, created_at)
SELECT id,
       chat_type::{{ app }}.chat_type,
       CASE WHEN chat_type = 'group'
            THEN (ARRAY['Sunday Sweats', 'Parlay Pals', 'Degens Only', 'Fade Club', 'Lock of the Week',
                        'Hoops Heads', 'Puck Club', 'Dinger Gang'])[1 + {{ pick('c', 276, 8) }}]
       END,
       jsonb_build_object('expiration_hours', expiration_hours),
       created_at
  FROM seed_chats;

INSERT INTO {{ app }}.chat_members (chat_id, user_id, role, joined_at)
SELECT ch.id,
       {{ uid('user', nth_user('ch.base_n', 'j * ch.step')) }},
       (CASE WHEN ch.chat_type = 'group' AND j = 0 THEN 'admin' ELSE 'member' END)::{{ app }}.chat_role,
       ch.created_at + (ch.now - ch.created_at) * 0.1 * j / 8
  FROM seed_chats ch
 CROSS JOIN LATERAL generate_series(0, ch.size - 1) j;

-- Messages: ~5 per user, by a member of a chat that has members, mostly recent; they live
-- as long as the chat's expiration_hours and ~60 % of the expired ones are soft-deleted;
-- ~15 % carry media. The other members read a message (70 % in a DM, 35 % in a group).
WITH drawn AS (
    SELECT k.key,
           {{ uid('message', 'k.key') }} AS id,
           ch.id AS chat_id, ch.chat_type, ch.size, ch.base_n, ch.step,
           {{ pick('k.key', 301, 'greatest(1, ch.size)') }} AS sender_j,
           ch.now - (ch.now - ch.created_at) * {{ unit('k.key', 302) }} ^ 2 AS created_at,
           ch.expiration_hours,
           ch.now
      FROM generate_series(1, {{ n_messages }}) AS k(key)
      JOIN seed_chats ch ON ch.c = 1 + {{ pick('k.key', 300, n_chats) }}
     WHERE ch.size > 0
),
timed AS MATERIALIZED (
    SELECT d.*, e.expires_at,
           CASE WHEN e.deleted_if_done <= d.now AND {{ unit('d.key', 304) }} < 0.6
                THEN e.deleted_if_done END AS deleted_at,
           {{ unit('d.key', 306) }} < 0.15 AS has_media
      FROM drawn d
     CROSS JOIN LATERAL (
            SELECT d.created_at + interval '1 hour' * d.expiration_hours AS expires_at,
                   d.created_at + interval '1 hour' * d.expiration_hours
                       + interval '2 hours' * {{ unit('d.key', 303) }} AS deleted_if_done
           ) e
),
inserted AS (
    INSERT INTO {{ app }}.messages
           (id, chat_id, sender_id, content, media_url, message_type, created_at, expires_at, deleted_at)
    SELECT t.id, t.chat_id,
           {{ uid('user', nth_user('t.base_n', 't.sender_j * t.step')) }},
           (ARRAY['you on the Chiefs tonight?', 'that line moved', 'tail or fade?', 'lol', 'cashed 💰',
                  'what a bad beat', 'over is free money', 'who you got?', 'gg', 'see you Sunday'])
               [1 + {{ pick('t.key', 305, 10) }}],
           CASE WHEN t.has_media THEN {{ (cdn ~ 'messages/') | literal }} || t.chat_id || '/' || t.id || '.jpg' END,
           CASE WHEN t.has_media THEN 'media' ELSE 'text' END,
           t.created_at, t.expires_at, t.deleted_at
      FROM timed t
)
INSERT INTO {{ app }}.message_reads (message_id, user_id, read_at)
SELECT t.id,
       {{ uid('user', nth_user('t.base_n', 'j * t.step')) }},
       t.created_at + (least(t.now, t.expires_at, coalesce(t.deleted_at, 'infinity')) - t.created_at)
                      * {{ unit('t.key * 8 + j', 308) }}
  FROM timed t
 CROSS JOIN LATERAL generate_series(0, t.size - 1) j
 WHERE j <> t.sender_j
   AND {{ unit('t.key * 8 + j', 307) }} < CASE WHEN t.chat_type = 'dm' THEN 0.7 ELSE 0.35 END;

-- What SnapBet's update_chat_last_message_time leaves, the messages written in time order.
UPDATE {{ app }}.chats ch
   SET last_message_at = m.last_at
  FROM (SELECT chat_id, max(created_at) AS last_at
          FROM {{ app }}.messages GROUP BY chat_id) m
 WHERE m.chat_id = ch.id;

-- Notifications: half of the won and lost bets, every tail and fade (to the pick's author),
-- settled tails and fades (to their bettor), a `system` one per weekly reset, and 0 .. 1
-- social ones per user over the last 45 days. Older than 2 days: 85 % read; newer: 30 %.
INSERT INTO {{ app }}.notifications (id, user_id, type, data, read, read_at, created_at)
SELECT {{ uid('notification', 'n.key') }},
       {{ uid('user', 'n.user_n') }},
       n.type, n.data, r.is_read,
       CASE WHEN r.is_read
            THEN n.created_at + (least(c.now, n.created_at + interval '2 days') - n.created_at)
                                * {{ unit('n.key', 341) }}
       END,
       n.created_at
  FROM (
        SELECT b.key * 8 + 1 AS key, b.user_n, 'bet_' || b.status AS type,
               jsonb_build_object('betId', b.id, 'gameId', g.id, 'amount', b.actual_win) AS data,
               b.settled_at AS created_at
          FROM seed_bets b
          JOIN seed_games g ON g.g = b.g
         WHERE NOT b.is_tail AND NOT b.is_fade
           AND b.status IN ('won', 'lost')
           AND {{ unit('b.key', 350) }} < 0.5
        UNION ALL
        SELECT a.key * 8 + 2, a.author_n, a.action_type,
               jsonb_build_object('postId', a.post_id, 'actorId', {{ uid('user', 'a.user_n') }},
                                  'betId', {{ uid('tail', 'a.key') }}),
               a.created_at
          FROM seed_actions a
        UNION ALL
        SELECT b.key * 8 + 3, b.user_n,
               CASE WHEN b.is_tail THEN 'tail_' ELSE 'fade_' END || b.status,
               jsonb_build_object('betId', b.id, 'postId', b.original_pick_id, 'amount', b.actual_win),
               b.settled_at
          FROM seed_bets b
         WHERE (b.is_tail OR b.is_fade)
           AND b.status IN ('won', 'lost')
        UNION ALL
        SELECT u.n::bigint * 8 + 4, u.n, 'system',
               jsonb_build_object('kind', 'weekly_reset',
                                  'weeklyDeposit', 100000 + 10000 * coalesce(rc.referral_count, 0)),
               u.last_reset
          FROM seed_users u
          LEFT JOIN seed_referral_counts rc ON rc.n = u.n
         WHERE u.last_reset IS NOT NULL
        UNION ALL
        SELECT k.key * 8 + 5, k.user_n,
               (ARRAY['follow', 'message', 'mention', 'milestone'])[1 + {{ pick('k.key', 352, 4) }}],
               jsonb_build_object('actorId', {{ uid('user', '1 + ' ~ pick('k.key', 353, n_users)) }}),
               cl.now - interval '45 days' * {{ unit('k.key', 354) }}
          FROM (SELECT u.n AS user_n, u.n::bigint * 2 + j AS key
                  FROM seed_users u
                 CROSS JOIN LATERAL generate_series(1, {{ pick('u.n', 351, 2) }}) j) k
         CROSS JOIN seed_clock cl
       ) n
 CROSS JOIN seed_clock c
 CROSS JOIN LATERAL (
        SELECT {{ unit('n.key', 340) }}
               < CASE WHEN n.created_at < c.now - interval '2 days' THEN 0.85 ELSE 0.3 END AS is_read
       ) r;

-- storage.objects: one row per media URL written above (bucket and name are the URL's tail),
-- uploaded with its row; then orphans no row references: ~5 % older than 7 days, ~2 % newer.
{# One source of media URLs: the bucket, the URL column's tail (the name), the uploader. #}
{% macro media(bucket, url, owner, table, where='') -%}
SELECT {{ bucket | literal }}, substr({{ url }}, {{ (cdn ~ bucket ~ '/') | length + 1 }}), {{ owner }}, created_at
          FROM {{ app }}.{{ table | ident }}{{ ' WHERE ' ~ where if where }}
{%- endmacro %}
INSERT INTO {{ storage }}.objects (id, bucket_id, name, owner, created_at, metadata)
SELECT m.h::uuid, f.bucket_id, f.name, f.owner, f.created_at,
       jsonb_build_object(
           'mimetype', CASE WHEN f.name LIKE '%.mp4' THEN 'video/mp4' ELSE 'image/jpeg' END,
           'size', (20000 + ('x' || substr(m.h, 1, 6))::bit(24)::integer % 2000000)
                   * CASE WHEN f.name LIKE '%.mp4' THEN 10 ELSE 1 END,
           'cacheControl', 'max-age=3600')
  FROM (
        {{ media('posts', 'media_url', 'user_id', 'posts') }}
        UNION ALL
        {{ media('posts', 'thumbnail_url', 'user_id', 'posts', 'thumbnail_url IS NOT NULL') }}
        UNION ALL
        {{ media('stories', 'media_url', 'user_id', 'stories') }}
        UNION ALL
        {{ media('messages', 'media_url', 'sender_id', 'messages', 'media_url IS NOT NULL') }}
        UNION ALL
        {{ media('avatars', 'avatar_url', 'id', 'users', 'avatar_url IS NOT NULL') }}
       ) AS f(bucket_id, name, owner, created_at)
 CROSS JOIN LATERAL (SELECT md5({{ seed | literal }} || ':object:' || f.bucket_id || '/' || f.name) AS h) m;

INSERT INTO {{ storage }}.objects (id, bucket_id, name, owner, created_at, metadata)
SELECT o.id, o.bucket_id,
       CASE WHEN o.bucket_id = 'avatars' THEN o.id || '.jpg' ELSE o.owner || '/' || o.id || '.jpg' END,
       o.owner, o.created_at,
       jsonb_build_object('mimetype', 'image/jpeg', 'size', 20000 + {{ pick('o.k', 382, 2000000) }},
                          'cacheControl', 'max-age=3600')
  FROM (
        SELECT k,
               {{ uid('orphan', 'k') }} AS id,
               (ARRAY['posts', 'messages', 'avatars', 'stories'])[1 + {{ pick('k', 380, 4) }}] AS bucket_id,
               {{ uid('user', '1 + ' ~ pick('k', 381, n_users)) }} AS owner,
               CASE WHEN k <= {{ n_old_orphans }}
                    THEN c.now - interval '8 days' - interval '30 days' * {{ unit('k', 383) }}
                    ELSE c.now - interval '6 days' * {{ unit('k', 383) }}
               END AS created_at
          FROM generate_series(1, {{ n_orphans }}) k
         CROSS JOIN seed_clock c
       ) o;

DO $restore$
DECLARE
    v_object record;
BEGIN
    /* Re-create what the seed dropped: keys and indexes first, then foreign keys
       (validated now); last, the triggers resume, each in the mode it had. */
    FOR v_object IN SELECT * FROM seed_deferred ORDER BY phase, rel, name LOOP
        IF v_object.phase = 3 THEN
            EXECUTE format('ALTER TABLE %s %s %s', v_object.rel, v_object.definition, v_object.name);
        ELSIF v_object.phase = 1 THEN
            EXECUTE v_object.definition;
            IF v_object.comment IS NOT NULL THEN
                EXECUTE format('COMMENT ON INDEX %s IS %L', v_object.name, v_object.comment);
            END IF;
        ELSE
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %s %s',
                           v_object.rel, v_object.name, v_object.definition);
            IF v_object.comment IS NOT NULL THEN
                EXECUTE format('COMMENT ON CONSTRAINT %s ON %s IS %L',
                               v_object.name, v_object.rel, v_object.comment);
            END IF;
        END IF;
    END LOOP;
END
$restore$;

-- Fresh statistics, so the jobs' first runs plan against the real row counts.
{% for key, schema_name, table_name in filled %}
ANALYZE {{ schema_name | ident }}.{{ table_name | ident }};
{% endfor %}

-- How many rows each table gained.
SELECT t.key, (a.n - b.n)::bigint AS added
  FROM seed_tables t
  JOIN ({{ row_counts() }}) a USING (key)
  JOIN seed_counts_before b USING (key)
 ORDER BY t.ord;
