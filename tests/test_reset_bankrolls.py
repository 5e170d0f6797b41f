"""reset_bankrolls (docs/rules.md: Money, The week, The jobs, Boundaries): the week boundary,
the new deposit, the history,
the pending bets, the notification, the `timezone` setting and conservation."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from deployer import install
from tests import factories
from tests.support import call_job

MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)  # this week's start (UTC)
NOW = MONDAY + timedelta(hours=12)
PREV_MONDAY = MONDAY - timedelta(days=7)
LAST_WEEK = PREV_MONDAY + timedelta(minutes=5)  # when last week's reset ran
US = timedelta(microseconds=1)
NO_CHANGE = {"affected": 0, "details": {"users": 0, "bets_cancelled": 0, "notifications": 0}, "next": None}
TOUCHED = ("public.bankrolls", "public.bets", "public.notifications")


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "reset_bankrolls", now, dry_run, limit)


def bankroll(conn, user_id) -> dict:
    return conn.execute("SELECT * FROM public.bankrolls WHERE user_id = %s", (user_id,)).fetchone()


def bet_row(conn, bet_id) -> dict:
    return conn.execute("SELECT * FROM public.bets WHERE id = %s", (bet_id,)).fetchone()


def player(conn, *, last_reset: datetime | None = LAST_WEEK, referral_count: int | None = 0, **values) -> object:
    """A user and their bankroll, last reset at `last_reset`."""
    user_id = factories.user(conn, referral_count=referral_count)
    factories.bankroll(conn, user_id, last_reset=last_reset, **values)
    return user_id


@pytest.fixture
def game_id(conn) -> str:
    return factories.game(conn, commence_time=PREV_MONDAY + timedelta(days=2))


# --- the week boundary ----------------------------------------------------------------------

@pytest.mark.parametrize("before", [timedelta(seconds=1), US], ids=["23:59:59", "1us"])
def test_bankroll_last_reset_just_before_this_weeks_monday_is_reset_at_monday_midnight(conn, before):
    user_id = player(conn, last_reset=MONDAY - before)
    assert run(conn, MONDAY)["affected"] == 1
    row = bankroll(conn, user_id)
    assert (row["last_reset"], row["reset_count"]) == (MONDAY, 1)


@pytest.mark.parametrize("run_at", [MONDAY, NOW], ids=["monday-00:00", "monday-12:00"])
def test_bankroll_reset_at_this_weeks_monday_midnight_is_not_reset(conn, run_at):
    player(conn, last_reset=MONDAY, balance=54321)
    before = factories.digest(conn, *TOUCHED)
    assert run(conn, run_at) == NO_CHANGE
    assert factories.digest(conn, *TOUCHED) == before


@pytest.mark.parametrize("run_at", [MONDAY - timedelta(minutes=1), MONDAY - US], ids=["sunday-23:59", "monday-1us"])
def test_run_on_sunday_does_not_reset_a_bankroll_reset_that_weeks_monday(conn, run_at):
    player(conn, last_reset=PREV_MONDAY, balance=54321)
    before = factories.digest(conn, *TOUCHED)
    assert run(conn, run_at) == NO_CHANGE
    assert factories.digest(conn, *TOUCHED) == before


def test_never_reset_bankroll_is_reset(conn):
    user_id = player(conn, last_reset=None, balance=70000, created_at=datetime(2026, 11, 18, 10, tzinfo=timezone.utc))
    assert run(conn)["affected"] == 1
    row = bankroll(conn, user_id)
    assert (row["balance"], row["last_reset"], row["reset_count"]) == (100000, NOW, 1)
    # With no earlier reset, the finished week is the one the bankroll was created in.
    assert row["stats_metadata"]["weeklyHistory"][-1]["week_start"] == "2026-11-16"


# --- the new week's bankroll ----------------------------------------------------------------

@pytest.mark.parametrize(("referral_count", "deposit", "bonus"), [(0, 100000, 0), (2, 120000, 20000), (None, 100000, 0)])
def test_new_balance_is_base_bankroll_plus_referral_bonus_per_referral(conn, referral_count, deposit, bonus):
    user_id = player(conn, referral_count=referral_count, balance=3000, weekly_deposit=100000)
    run(conn)
    row = bankroll(conn, user_id)
    assert (row["balance"], row["weekly_deposit"], row["referral_bonus"]) == (deposit, deposit, bonus)


def test_counters_are_zeroed_and_season_high_and_low_are_the_new_balance(conn):
    user_id = player(conn, referral_count=1, balance=150000, total_wagered=40000, total_won=25000, win_count=7,
                     loss_count=5, push_count=2, biggest_win=9000, biggest_loss=5000, season_high=160000,
                     season_low=80000, reset_count=4)
    run(conn)
    row = bankroll(conn, user_id)
    counters = ("total_wagered", "total_won", "win_count", "loss_count", "push_count", "biggest_win", "biggest_loss")
    assert {k: row[k] for k in counters} == dict.fromkeys(counters, 0)
    assert (row["season_high"], row["season_low"], row["balance"]) == (110000, 110000, 110000)
    assert (row["last_reset"], row["reset_count"]) == (NOW, 5)


def test_finished_week_is_appended_to_weekly_history(conn, game_id):
    earlier = {"week_start": "2026-11-16", "start_balance": 100000, "end_balance": 90000, "bets": 3, "wins": 1,
               "losses": 2, "net": -10000}
    # A referral since last week: last week started from 100000, the new week from 110000.
    user_id = player(conn, referral_count=1, weekly_deposit=100000, balance=101009,
                     stats_metadata={"favoriteSport": "nfl", "weeklyHistory": [earlier]})
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK - timedelta(hours=1), status="won")  # before
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK, status="lost", stake=600)  # at the boundary
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=1), status="won")  # +909
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=1), status="won", stake=2000,
                          odds=150)  # +3000
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=2), status="lost", stake=1500)
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=2), status="push", stake=500)
    factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=3), status="cancelled",
                          stake=700)
    factories.bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=6), stake=800)  # pending
    assert factories.conservation_violations(conn) == []

    run(conn)

    metadata = bankroll(conn, user_id)["stats_metadata"]
    assert metadata["favoriteSport"] == "nfl"
    # bets: every bet placed since the last reset; wins, losses by status; net: Σ actual_win
    # of the won, lost and pushed ones (909 + 3000 − 1500 + 0 − 600).
    assert metadata["weeklyHistory"] == [earlier, {
        "week_start": "2026-11-23", "start_balance": 100000, "end_balance": 101009,
        "bets": 7, "wins": 2, "losses": 2, "net": 1809,
    }]


@pytest.mark.parametrize("stats_metadata", [{}, None], ids=["empty", "null"])
def test_weekly_history_is_started_when_there_is_none(conn, stats_metadata):
    user_id = player(conn, balance=95000, stats_metadata=stats_metadata)
    run(conn)
    assert bankroll(conn, user_id)["stats_metadata"] == {"weeklyHistory": [{
        "week_start": "2026-11-23", "start_balance": 100000, "end_balance": 95000,
        "bets": 0, "wins": 0, "losses": 0, "net": 0,
    }]}


# --- bets and notifications -----------------------------------------------------------------

def test_pending_bets_of_a_reset_user_are_cancelled_and_nothing_else(conn, game_id):
    user_id = player(conn, balance=97000)
    other_id = player(conn, last_reset=MONDAY, balance=99000)
    pending = [factories.bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=d)) for d in (1, 6)]
    won = factories.settled_bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=1), status="won")
    others = factories.bet(conn, other_id, game_id, created_at=MONDAY + timedelta(hours=1))
    untouched = {b: bet_row(conn, b) for b in (won, others)}

    result = run(conn)

    for bet_id in pending:
        row = bet_row(conn, bet_id)
        assert (row["status"], row["actual_win"], row["settled_at"]) == ("cancelled", 0, NOW)
    assert {b: bet_row(conn, b) for b in untouched} == untouched
    assert bankroll(conn, user_id)["balance"] == 100000  # no refund on top of the new deposit
    assert result["details"]["bets_cancelled"] == 2


def test_one_system_notification_per_reset_user(conn):
    due = {player(conn), player(conn, last_reset=None)}
    not_due = player(conn, last_reset=MONDAY + timedelta(hours=1))
    result = run(conn)
    rows = conn.execute("SELECT user_id, type, created_at FROM public.notifications").fetchall()
    assert sorted((r["user_id"], r["type"], r["created_at"]) for r in rows) == sorted(
        (u, "system", NOW) for u in due)
    assert not_due not in {r["user_id"] for r in rows}
    assert result["details"]["notifications"] == 2


def test_report_counts_users_cancelled_bets_and_notifications(conn, game_id):
    users = [player(conn) for _ in range(3)]
    player(conn, last_reset=MONDAY)
    factories.bet(conn, users[0], game_id, created_at=LAST_WEEK + timedelta(days=1))
    factories.bet(conn, users[0], game_id, created_at=LAST_WEEK + timedelta(days=2))
    assert run(conn) == {"affected": 3, "details": {"users": 3, "bets_cancelled": 2, "notifications": 3},
                         "next": None}


def test_empty_tables_give_zero(conn):
    assert run(conn) == NO_CHANGE


def test_second_run_at_the_same_now_affects_nothing_and_changes_nothing(conn, game_id):
    user_id = player(conn, referral_count=1)
    player(conn, last_reset=None)
    factories.bet(conn, user_id, game_id, created_at=LAST_WEEK + timedelta(days=1))
    assert run(conn)["affected"] == 2
    before = factories.digest(conn, *TOUCHED)
    assert run(conn) == NO_CHANGE
    assert factories.digest(conn, *TOUCHED) == before


def test_limit_bounds_the_users_reset_and_only_their_bets_are_cancelled(conn, game_id):
    users = [player(conn) for _ in range(3)]
    bets = [factories.bet(conn, u, game_id, created_at=LAST_WEEK + timedelta(days=1)) for u in users]
    result = run(conn, limit=2)
    assert (result["affected"], result["details"]) == (2, {"users": 2, "bets_cancelled": 2, "notifications": 2})
    assert result["next"] == {"users": [str(max(u for u in users if bankroll(conn, u)["last_reset"] == NOW))]}
    reset = [bankroll(conn, u)["last_reset"] == NOW for u in users]
    cancelled = [bet_row(conn, b)["status"] == "cancelled" for b in bets]
    assert sorted(reset) == [False, True, True] and cancelled == reset
    assert run(conn)["affected"] == 1


# --- the `timezone` setting -----------------------------------------------------------------

def deploy_in_paris(conn, db: str, admin_dsn: str, test_manifest) -> None:
    """Redeploy the job set into this test's database with timezone = Europe/Paris."""
    paris = dataclasses.replace(test_manifest, settings={**test_manifest.settings, "timezone": "Europe/Paris"})
    install.deploy(db, paris, with_schedule=False)  # no real cron tick in this database


def test_timezone_setting_moves_the_week_start_to_local_monday_midnight(conn, db, admin_dsn, test_manifest):
    run_at = datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc)  # Monday 00:30 in Paris, Sunday in UTC
    paris_monday = datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc)  # Monday 00:00 in Paris
    a_week_ago = player(conn, last_reset=datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc))
    just_before = player(conn, last_reset=paris_monday - US)
    this_week = player(conn, last_reset=paris_monday)
    assert run(conn, run_at) == NO_CHANGE  # deployed with timezone UTC: still last week

    deploy_in_paris(conn, db, admin_dsn, test_manifest)

    assert run(conn, run_at)["affected"] == 2
    assert [bankroll(conn, u)["last_reset"] for u in (a_week_ago, just_before, this_week)] == [
        run_at, run_at, paris_monday]


def test_weekly_history_week_start_is_the_monday_in_the_configured_timezone(conn, db, admin_dsn, test_manifest):
    deploy_in_paris(conn, db, admin_dsn, test_manifest)
    user_id = player(conn, last_reset=datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc))  # Monday 00:30 in Paris
    run(conn)
    # In UTC that moment is a Sunday, of the week starting 2026-11-16.
    assert bankroll(conn, user_id)["stats_metadata"]["weeklyHistory"][-1]["week_start"] == "2026-11-23"


# --- docs/rules.md: Money: conservation -----------------------------------------------------------------

def test_conservation_holds_for_every_user_after_a_reset(conn, game_id):
    # Due, with last week's bets: 100000 − 5000 + (1000 + 909) + (500 + 0) = 97409.
    due = player(conn, balance=97409)
    for status, stake in [("won", 1000), ("lost", 2000), ("push", 500)]:
        factories.settled_bet(conn, due, game_id, created_at=LAST_WEEK + timedelta(days=1), status=status,
                              stake=stake)
    factories.bet(conn, due, game_id, created_at=LAST_WEEK + timedelta(days=2), stake=1500)
    # Already reset this week, with this week's bets: 110000 − 3000 + (1000 + 909) = 108909.
    fresh = player(conn, last_reset=MONDAY, referral_count=1, weekly_deposit=110000, balance=108909)
    factories.bet(conn, fresh, game_id, created_at=MONDAY + timedelta(hours=1), stake=2000)
    factories.settled_bet(conn, fresh, game_id, created_at=MONDAY + timedelta(hours=2), status="won")
    factories.settled_bet(conn, fresh, game_id, created_at=LAST_WEEK + timedelta(days=1), status="lost")  # before
    # Never reset: every bet counts: 100000 − 1000 − 1000 + (1000 + 909) = 99909.
    never = player(conn, last_reset=None, balance=99909)
    factories.bet(conn, never, game_id, created_at=PREV_MONDAY - timedelta(days=3))
    factories.settled_bet(conn, never, game_id, created_at=PREV_MONDAY - timedelta(days=10), status="won")
    assert factories.conservation_violations(conn) == []

    assert run(conn)["affected"] == 2

    assert factories.conservation_violations(conn) == []
    assert [bankroll(conn, u)["balance"] for u in (due, fresh, never)] == [100000, 108909, 100000]


# --- the real runner ------------------------------------------------------------------------

def test_run_job_resets_every_due_bankroll_in_batches(conn, game_id):
    users = [player(conn) for _ in range(5)]
    factories.bet(conn, users[0], game_id, created_at=LAST_WEEK + timedelta(days=1))
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, max_batch_size = 2 WHERE job_name = 'reset_bankrolls'")

    conn.execute("CALL jobs.run_job('reset_bankrolls', %s::timestamptz)", (NOW,))

    row = conn.execute(
        "SELECT * FROM jobs.job_executions WHERE job_name = 'reset_bankrolls' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert (row["status"], row["affected_count"], row["batches"]) == ("succeeded", 5, 3)  # 2 + 2 + 1
    assert row["details"] == {"users": 5, "bets_cancelled": 1, "notifications": 5}
    assert all(bankroll(conn, u)["last_reset"] == NOW for u in users)
