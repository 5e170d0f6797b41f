"""rollup_stats (docs/rules.md: The jobs): the figures, what a run recomputes, the week, dry runs, and (a
hypothesis property) that incremental runs between settlements end where a from-scratch
computation written here from the rules' text (docs/rules.md) ends."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from deployer import install, units
from tests import factories
from tests.support import call_job

MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
NOW = MONDAY + timedelta(days=2, hours=12)  # Wednesday noon
HOUR = timedelta(hours=1)
FIGURES = ("settled_bets", "wins", "losses", "pushes", "total_wagered", "net_profit", "win_rate", "current_streak",
           "best_streak", "biggest_win", "biggest_loss", "last_bet_at", "week_start", "week_bets", "week_wins",
           "week_losses", "week_net", "tail_profit_generated", "fade_profit_generated")
WEEKLY = ("week_bets", "week_wins", "week_losses", "week_net", "tail_profit_generated", "fade_profit_generated")


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "rollup_stats", now, dry_run, limit)


def stats(conn, user_id) -> dict | None:
    return conn.execute("SELECT * FROM public.user_stats WHERE user_id = %s", (user_id,)).fetchone()


def history(conn, user_id, outcomes: str, *, start: datetime, stake: int = 1000, odds: int = -110) -> list:
    """Settled bets of `user_id`, one an hour from `start`: W won, L lost, P push, C cancelled."""
    game_id = factories.game(conn, commence_time=start - HOUR, status="completed", home_score=1, away_score=0)
    status = {"W": "won", "L": "lost", "P": "push", "C": "cancelled"}
    return [factories.settled_bet(conn, user_id, game_id, created_at=start + i * HOUR, status=status[o], stake=stake,
                                  odds=odds, settled_at=start + i * HOUR + timedelta(minutes=30))
            for i, o in enumerate(outcomes)]


# --- the figures -------------------------------------------------------------------------------

def test_totals_rates_and_streaks(conn):
    user_id = factories.user(conn)
    history(conn, user_id, "WWLWCWWPW", start=MONDAY - timedelta(days=3))  # last week
    assert run(conn)["affected"] == 1
    row = stats(conn, user_id)
    assert {k: row[k] for k in FIGURES} == {
        "settled_bets": 8, "wins": 6, "losses": 1, "pushes": 1, "total_wagered": 8000,
        "net_profit": 6 * 909 - 1000, "win_rate": Decimal("85.71"), "current_streak": 4, "best_streak": 4,
        "biggest_win": 909, "biggest_loss": 1000, "last_bet_at": MONDAY - timedelta(days=3) + 8 * HOUR,
        "week_start": MONDAY.date(), "week_bets": 0, "week_wins": 0, "week_losses": 0, "week_net": 0,
        "tail_profit_generated": 0, "fade_profit_generated": 0,
    }
    assert row["updated_at"] == NOW


def test_a_losing_run_is_a_negative_streak_and_the_week_counts_this_weeks_bets(conn):
    user_id = factories.user(conn)
    history(conn, user_id, "WWW", start=MONDAY - timedelta(days=2))
    history(conn, user_id, "LPL", start=MONDAY - timedelta(minutes=30), stake=2000)  # 23:30 Sunday, then Monday
    run(conn)
    row = stats(conn, user_id)
    assert (row["current_streak"], row["best_streak"], row["biggest_loss"]) == (-2, 3, 2000)
    assert (row["week_bets"], row["week_wins"], row["week_losses"], row["week_net"]) == (2, 0, 1, -2000)
    assert row["win_rate"] == Decimal("60.00")


def test_tail_and_fade_profit_others_made_on_the_users_picks_this_week(conn):
    author, tailer, fader = factories.user(conn), factories.user(conn), factories.user(conn)
    game_id = factories.game(conn, commence_time=NOW - 5 * HOUR, status="completed", home_score=3, away_score=1)
    own = factories.settled_bet(conn, author, game_id, created_at=NOW - 6 * HOUR, status="won")
    pick = factories.post(conn, author, post_type="pick", bet_id=own, created_at=NOW - 6 * HOUR,
                          expires_at=NOW - 2 * HOUR, deleted_at=NOW - 2 * HOUR)  # expired since: still counts
    for user_id, kind, status in ((tailer, "tail", "won"), (fader, "fade", "lost"), (author, "tail", "won")):
        resulting = factories.settled_bet(conn, user_id, game_id, created_at=NOW - 5 * HOUR - timedelta(minutes=5),
                                          status=status, stake=2000)
        conn.execute("INSERT INTO public.pick_actions (post_id, user_id, action_type, resulting_bet_id, created_at)"
                     " VALUES (%s, %s, %s, %s, %s)", (pick, user_id, kind, resulting, NOW - 5 * HOUR))
    run(conn)
    row = stats(conn, author)
    # The author's own tail is not "others"; the fader lost 2000.
    assert (row["tail_profit_generated"], row["fade_profit_generated"]) == (1818, -2000)
    assert stats(conn, tailer)["tail_profit_generated"] == 0


def test_a_tail_settled_after_the_authors_own_bet_updates_the_authors_row(conn):
    author, tailer = factories.user(conn), factories.user(conn)
    factories.bankroll(conn, tailer)
    history(conn, author, "W", start=NOW - 8 * HOUR)
    own = history(conn, author, "W", start=NOW - 7 * HOUR)[0]
    pick = factories.post(conn, author, post_type="pick", bet_id=own, created_at=NOW - 7 * HOUR,
                          expires_at=NOW + HOUR)
    game_id = factories.game(conn, commence_time=NOW + HOUR)
    tail = factories.bet(conn, tailer, game_id, created_at=NOW - 6 * HOUR, stake=1100)
    conn.execute("INSERT INTO public.pick_actions (post_id, user_id, action_type, resulting_bet_id, created_at)"
                 " VALUES (%s, %s, 'tail', %s, %s)", (pick, tailer, tail, NOW - 6 * HOUR))
    run(conn)
    assert stats(conn, author)["tail_profit_generated"] == 0
    conn.execute("UPDATE public.games SET status = 'completed', home_score = 2, away_score = 1 WHERE id = %s",
                 (game_id,))
    assert call_job(conn, "settle_games", NOW + 4 * HOUR)["details"]["won"] == 1
    assert run(conn, NOW + 5 * HOUR)["affected"] == 2  # the tailer's own row and the author's
    assert stats(conn, author)["tail_profit_generated"] == 1000


def test_users_without_a_graded_bet_get_no_row(conn):
    idle, refunded = factories.user(conn), factories.user(conn)
    history(conn, refunded, "CC", start=NOW - 5 * HOUR)
    assert run(conn)["affected"] == 0
    assert (stats(conn, idle), stats(conn, refunded)) == (None, None)


# --- what a run recomputes -----------------------------------------------------------------

def test_a_second_run_changes_nothing_and_later_runs_touch_only_newly_settled_users(conn):
    quiet, busy = factories.user(conn), factories.user(conn)
    history(conn, quiet, "WL", start=NOW - 10 * HOUR)
    history(conn, busy, "W", start=NOW - 10 * HOUR)
    assert run(conn)["affected"] == 2
    assert run(conn)["affected"] == 0
    quiet_row = stats(conn, quiet)
    history(conn, busy, "LL", start=NOW + HOUR)  # settled at NOW + 1.5 h and NOW + 2.5 h
    later = NOW + 3 * HOUR
    dry = run(conn, later, dry_run=True)
    real = run(conn, later)
    assert (real["affected"], real["details"]) == (dry["affected"], dry["details"])
    assert (real["affected"], real["details"]["changed"]) == (1, 1)
    assert stats(conn, busy)["current_streak"] == -2
    assert stats(conn, quiet) == quiet_row


def test_a_bet_settled_late_within_settle_lag_is_still_seen(conn):
    early, late = factories.user(conn), factories.user(conn)
    history(conn, early, "W", start=NOW - 2 * HOUR)  # settled at NOW - 1.5 h: the mark
    ran_at = NOW - HOUR
    run(conn, ran_at)
    # A settle run that started 10 minutes before that rollup run (its bets' settled_at),
    # before the mark, commits a batch after the rollup run.
    game_id = factories.game(conn, commence_time=NOW - 5 * HOUR, status="completed", home_score=1, away_score=0)
    factories.settled_bet(conn, late, game_id, created_at=NOW - 4 * HOUR, status="won",
                          settled_at=ran_at - timedelta(minutes=10))
    again = run(conn, NOW)
    assert (again["affected"], again["details"]) == (1, {"users": 2, "changed": 1})  # early, looked at again
    assert stats(conn, late)["wins"] == 1


def test_runs_after_settlements_stop_examine_no_one(conn):
    users = [factories.user(conn) for _ in range(3)]
    for u in users:
        history(conn, u, "W", start=NOW - HOUR)  # settled at NOW - 30 min: the mark
    assert run(conn)["details"] == {"users": 4, "changed": 3}  # and SnapBet's system user
    # Within settle_lag of the last settlement a batch that started before it may still be
    # committing: the next run looks at that hour again.
    assert run(conn, NOW + timedelta(minutes=20))["details"] == {"users": 3, "changed": 0}
    # That run's moment is more than settle_lag after every settlement: from then on, nobody.
    assert run(conn, NOW + HOUR)["details"] == {"users": 3, "changed": 0}
    assert run(conn, NOW + 2 * HOUR)["details"] == {"users": 0, "changed": 0}
    assert run(conn, NOW + 3 * HOUR)["details"] == {"users": 0, "changed": 0}
    state = conn.execute("SELECT (state ->> 'settled_through')::timestamptz AS mark,"
                         " (state ->> 'seen')::timestamptz AS seen"
                         " FROM jobs.job_state WHERE job_name = 'rollup_stats'").fetchone()
    assert (state["mark"], state["seen"]) == (NOW - timedelta(minutes=30), NOW + 3 * HOUR)
    # A new settlement is seen by the next run, and only its user.
    game_id = factories.game(conn, commence_time=NOW, status="completed", home_score=1, away_score=0)
    factories.settled_bet(conn, users[0], game_id, created_at=NOW, status="lost", settled_at=NOW + 3 * HOUR)
    assert run(conn, NOW + 4 * HOUR)["details"] == {"users": 1, "changed": 1}
    # A mark recorded without its run's moment (by an earlier version): mark less settle_lag.
    conn.execute("UPDATE jobs.job_state SET state = state - 'seen' WHERE job_name = 'rollup_stats'")
    assert run(conn, NOW + 6 * HOUR)["details"] == {"users": 1, "changed": 0}
    assert run(conn, NOW + 7 * HOUR)["details"] == {"users": 0, "changed": 0}


def test_the_first_run_of_a_week_moves_last_weeks_figures(conn):
    user_id, author, later = factories.user(conn), factories.user(conn), factories.user(conn)
    history(conn, user_id, "WL", start=NOW - 5 * HOUR)
    run(conn)
    history(conn, later, "W", start=NOW + 5 * HOUR)  # moves the mark well past the user's bets
    assert run(conn, NOW + 6 * HOUR)["affected"] == 1
    assert stats(conn, user_id)["week_bets"] == 2
    next_week = MONDAY + timedelta(days=7, minutes=10)
    assert run(conn, next_week, dry_run=True)["affected"] == 2  # both rows have week figures
    assert run(conn, next_week)["affected"] == 2
    row = stats(conn, user_id)
    assert (row["week_start"], row["week_bets"], row["week_net"], row["settled_bets"]) == (
        next_week.date(), 0, 0, 2)
    assert run(conn, next_week)["affected"] == 0
    assert stats(conn, author) is None


def test_a_limited_run_leaves_the_mark_so_the_rest_is_done_later(conn):
    users = [factories.user(conn) for _ in range(5)]
    for u in users:
        history(conn, u, "W", start=NOW - 5 * HOUR)
    first = run(conn, limit=2)  # SnapBet's system user (no bets) has the lowest id
    assert (first["affected"], first["details"]["users"]) == (1, 2) and first["next"] is not None
    assert conn.execute("SELECT count(*) AS n FROM jobs.job_state").fetchone()["n"] == 0
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 2, max_batch_size = 2"
                 " WHERE job_name = 'rollup_stats'")
    conn.execute("CALL jobs.run_job('rollup_stats', %s)", (NOW,))
    row = conn.execute("SELECT status, affected_count, batches FROM jobs.job_executions").fetchone()
    assert (row["status"], row["affected_count"]) == ("succeeded", 4)
    assert conn.execute("SELECT count(*) AS n FROM public.user_stats").fetchone()["n"] == 5
    mark = conn.execute("SELECT state ->> 'settled_through' AS t FROM jobs.job_state").fetchone()["t"]
    assert mark is not None


def figures(conn) -> dict:
    return {r["user_id"]: {k: r[k] for k in FIGURES}
            for r in conn.execute("SELECT * FROM public.user_stats").fetchall()}


def test_an_emptied_user_stats_is_rebuilt_by_the_next_run(conn):
    users = [factories.user(conn) for _ in range(3)]
    for i, u in enumerate(users):
        history(conn, u, "WL"[: i + 1], start=NOW - 30 * HOUR + i * HOUR)
    run(conn)
    late = factories.user(conn)
    history(conn, late, "W", start=NOW - 3 * HOUR)  # past the mark
    run(conn, NOW + HOUR)
    before = figures(conn)
    assert len(before) == 4
    conn.execute("DELETE FROM public.user_stats")
    # every user (and SnapBet's system user), as a first run; the dry run says so too
    assert run(conn, NOW + HOUR, dry_run=True)["details"] == {"users": 5, "changed": 4, "rebuild": True}
    again = run(conn, NOW + HOUR)
    assert (again["affected"], again["details"]["rebuild"]) == (4, True)
    assert figures(conn) == before
    quiet = run(conn, NOW + 2 * HOUR)  # nothing settled within settle_lag of the previous run
    assert quiet["details"] == {"users": 0, "changed": 0}


def test_a_user_stats_restored_from_a_backup_older_than_the_mark_is_rebuilt(conn):
    a, b = factories.user(conn), factories.user(conn)
    history(conn, a, "W", start=NOW - 30 * HOUR)
    history(conn, b, "L", start=NOW - 30 * HOUR)
    run(conn)
    conn.execute("CREATE TEMP TABLE backup AS SELECT * FROM public.user_stats")
    history(conn, a, "LL", start=NOW + HOUR)  # settled after the backup
    run(conn, NOW + 5 * HOUR)
    current = figures(conn)
    assert current[a]["settled_bets"] == 3
    conn.execute("DELETE FROM public.user_stats")
    conn.execute("INSERT INTO public.user_stats SELECT * FROM backup")
    restored = run(conn, NOW + 6 * HOUR)
    assert (restored["affected"], restored["details"]["rebuild"]) == (1, True)  # a's row; b's was right
    assert figures(conn) == current


def test_a_rebuild_cut_short_goes_on_at_the_next_run(conn):
    users = [factories.user(conn) for _ in range(4)]
    for u in users:
        history(conn, u, "W", start=NOW - 30 * HOUR)
    run(conn)
    before = figures(conn)
    conn.execute("DELETE FROM public.user_stats")
    first = run(conn, limit=2)
    assert first["details"]["rebuild"] is True and first["next"] is not None
    assert conn.execute("SELECT state FROM jobs.job_state WHERE job_name = 'rollup_stats'").fetchone()["state"] == {}
    assert run(conn)["details"] == {"users": 5, "changed": 3}  # no mark: every user, as a first run
    assert figures(conn) == before
    assert run(conn)["details"] == {"users": 0, "changed": 0}  # the mark again, long after the bets


def test_the_dry_run_writes_nothing(conn):
    user_id = factories.user(conn)
    history(conn, user_id, "WLW", start=NOW - 5 * HOUR)
    before = factories.digest(conn, "public.user_stats", "jobs.job_state")
    assert run(conn, dry_run=True)["details"] == {"users": 2, "changed": 1}  # the user and the system user
    assert factories.digest(conn, "public.user_stats", "jobs.job_state") == before


def test_the_deployer_creates_user_stats_and_adds_missing_columns_on_snapbets_database(db, conn, test_manifest):
    conn.execute("DROP TABLE public.user_stats")
    conn.execute("CREATE TABLE public.user_stats (user_id uuid PRIMARY KEY, wins integer)")  # an older shape
    conn.execute("DELETE FROM jobs.deployed_objects WHERE unit = 'jobs/rollup_stats.sql'")
    install.deploy(db, test_manifest, with_schedule=False)
    install.deploy(db, test_manifest, with_schedule=False)  # idempotent
    columns = {r["column_name"] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = 'user_stats'").fetchall()}
    assert columns == {"user_id", "updated_at", *FIGURES}
    user_id = factories.user(conn)
    history(conn, user_id, "W", start=NOW - 5 * HOUR)
    assert run(conn)["affected"] == 1


def test_settle_lag_is_a_checked_interval(test_manifest):
    jobs = dict(test_manifest.jobs)
    jobs["rollup_stats"] = dataclasses.replace(jobs["rollup_stats"], vars={"settle_lag": "soon"})
    manifest = dataclasses.replace(test_manifest, jobs=jobs)
    try:
        units.job_units(manifest)
    except Exception as e:  # noqa: BLE001 - the type is asserted below
        assert "interval" in str(e)
    else:
        raise AssertionError("a bad settle_lag rendered")


# --- property: incremental runs end where a from-scratch computation ends --------------------

def reference(conn, now: datetime) -> dict:
    """user_stats as docs/rules.md defines it, computed in Python from the rows."""
    week_start = datetime.combine((now - timedelta(days=now.weekday())).date(), datetime.min.time(), timezone.utc)
    week_end = week_start + timedelta(days=7)
    bets = conn.execute("SELECT id, user_id, status::text, stake, actual_win, created_at FROM public.bets"
                        " WHERE status IN ('won', 'lost', 'push') ORDER BY created_at, id").fetchall()
    actions = conn.execute("""
        SELECT p.user_id AS author, a.user_id, a.action_type::text, a.created_at, x.status::text, x.actual_win
          FROM public.pick_actions a JOIN public.posts p ON p.id = a.post_id
          JOIN public.bets x ON x.id = a.resulting_bet_id""").fetchall()
    out: dict = {}
    for user_id in {b["user_id"] for b in bets}:
        own = [b for b in bets if b["user_id"] == user_id]
        wins = [b for b in own if b["status"] == "won"]
        losses = [b for b in own if b["status"] == "lost"]
        week = [b for b in own if week_start <= b["created_at"] < week_end]
        streak, best, run_len, last = 0, 0, 0, None
        for b in (b for b in own if b["status"] in ("won", "lost")):
            run_len = run_len + 1 if b["status"] == last else 1
            last = b["status"]
            streak = run_len if last == "won" else -run_len
            best = max(best, run_len) if last == "won" else best

        def generated(kind: str) -> int:
            return sum(a["actual_win"] for a in actions if a["author"] == user_id and a["user_id"] != user_id
                       and a["action_type"] == kind and week_start <= a["created_at"] < week_end
                       and a["status"] in ("won", "lost"))

        decided = len(wins) + len(losses)
        out[user_id] = {
            "settled_bets": len(own), "wins": len(wins), "losses": len(losses), "pushes": len(own) - decided,
            "total_wagered": sum(b["stake"] for b in own), "net_profit": sum(b["actual_win"] for b in own),
            "win_rate": (Decimal(100 * len(wins)) / decided).quantize(Decimal("0.01"), ROUND_HALF_UP)
                        if decided else None,
            "current_streak": streak, "best_streak": best,
            "biggest_win": max((b["actual_win"] for b in wins), default=0),
            "biggest_loss": max((b["stake"] for b in losses), default=0),
            "last_bet_at": max(b["created_at"] for b in own), "week_start": week_start.date(),
            "week_bets": len(week), "week_wins": sum(b["status"] == "won" for b in week),
            "week_losses": sum(b["status"] == "lost" for b in week), "week_net": sum(b["actual_win"] for b in week),
            "tail_profit_generated": generated("tail"), "fade_profit_generated": generated("fade"),
        }
    return out


def stored(conn) -> dict:
    rows = conn.execute("SELECT * FROM public.user_stats").fetchall()
    out = {}
    for r in rows:
        figures = {k: r[k] for k in FIGURES}
        if not any(figures[k] for k in WEEKLY):
            figures["week_start"] = None  # a row of all-0 week figures may name an earlier week
        out[r["user_id"]] = figures
    return out


def comparable(expected: dict) -> dict:
    for figures in expected.values():
        if not any(figures[k] for k in WEEKLY):
            figures["week_start"] = None
    return expected


# A step: hours later, game g ends home:away and is settled, then maybe a rollup run.
STEP = st.tuples(st.integers(1, 60), st.integers(0, 5), st.integers(0, 4), st.integers(0, 4), st.booleans())
BET = st.tuples(st.integers(0, 3), st.integers(0, 5), st.sampled_from(["Home", "Away"]), st.integers(500, 3000),
                st.sampled_from([-110, 150, -250]), st.integers(0, 200))
ACTION = st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(["tail", "fade"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bets=st.lists(BET, min_size=1, max_size=14), actions=st.lists(ACTION, max_size=5),
       steps=st.lists(STEP, min_size=1, max_size=8),
       last=st.integers(0, 8 * 24))
@example(bets=[(0, 0, "Home", 500, -110, 0)] * 13 + [(1, 4, "Home", 500, -110, 0)], actions=[],
         steps=[(7, 4, 0, 0, False), (1, 0, 0, 0, False), (4, 0, 0, 0, False)], last=24)
def test_incremental_runs_equal_a_from_scratch_computation(conn, bets, actions, steps, last):
    conn.execute("TRUNCATE public.users, public.games, jobs.job_state CASCADE")
    start = MONDAY - timedelta(days=2)  # bets and tails on both sides of a week boundary
    users = [factories.user(conn) for _ in range(4)]
    for user_id in users:
        factories.bankroll(conn, user_id)
    games = [factories.game(conn, commence_time=start + timedelta(hours=12 * g + 10)) for g in range(6)]
    placed = []
    for u, g, team, stake, odds, minutes in bets:
        placed.append((u, factories.bet(conn, users[u], games[g], created_at=start + timedelta(hours=12 * g,
                                                                                                 minutes=minutes),
                                         stake=stake, odds=odds, bet_details={"team": team})))
    for author, actor, kind in actions:  # a pick of the author's first bet, tailed or faded by `actor`
        own = next((b for u, b in placed if u == author), None)
        if own is None:
            continue
        pick = factories.post(conn, users[author], post_type="pick", bet_id=own, created_at=start,
                              expires_at=start + timedelta(days=9))
        game_id = conn.execute("SELECT game_id FROM public.bets WHERE id = %s", (own,)).fetchone()["game_id"]
        resulting = factories.bet(conn, users[actor], game_id, created_at=start + timedelta(minutes=5))
        try:
            with conn.transaction():
                conn.execute("INSERT INTO public.pick_actions (post_id, user_id, action_type, resulting_bet_id,"
                             " created_at) VALUES (%s, %s, %s, %s, %s)",
                             (pick, users[actor], kind, resulting, start + timedelta(days=1 + 2 * actor)))
        except psycopg.errors.UniqueViolation:
            pass
    now = start + timedelta(hours=12)
    for hours, g, home, away, rollup in steps:
        now += timedelta(hours=hours)
        # A game ends only after it started, so every bet is settled after it was placed, as in
        # SnapBet (the example above once ended a game 39 hours before its start: its bet, placed
        # in the next week, was settled and rolled up in this one, which no week can count).
        conn.execute("UPDATE public.games SET status = 'completed', home_score = %s, away_score = %s"
                     " WHERE id = %s AND status <> 'completed' AND commence_time <= %s", (home, away, games[g], now))
        call_job(conn, "settle_games", now)
        if rollup:
            call_job(conn, "rollup_stats", now)
    call_job(conn, "rollup_stats", now)
    now += timedelta(hours=last)  # often into a later week, long after the last settlement
    call_job(conn, "rollup_stats", now)
    expected = comparable(reference(conn, now))
    assert stored(conn) == expected
    event("rows", len(expected))
    assert call_job(conn, "rollup_stats", now)["affected"] == 0


def test_the_job_sets_tables_in_the_app_schema_keep_row_level_security_on(conn):
    rows = conn.execute("SELECT relname, relrowsecurity FROM pg_class WHERE relname IN"
                        " ('user_stats', 'user_effect_tiers') AND relnamespace = 'public'::regnamespace"
                        " ORDER BY 1").fetchall()
    assert rows == [{"relname": "user_effect_tiers", "relrowsecurity": True},
                    {"relname": "user_stats", "relrowsecurity": True}]
