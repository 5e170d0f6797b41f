"""settle_games (docs/rules.md: Money, The jobs, Boundaries): grading, payouts, notifications, whole games, dry runs,
and exactly-once settlement under concurrent runs and a killed backend."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from deployer import install
from deployer import seed as seed_mod
from tests import factories
from tests.support import call_job, race_settle_games

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)  # a Wednesday
KICKOFF = NOW - timedelta(hours=5)
PLACED = NOW - timedelta(hours=8)
TOUCHED = ("public.bets", "public.bankrolls", "public.notifications", "public.games")
ZERO = {"games": 0, "won": 0, "lost": 0, "push": 0, "cancelled": 0, "paid_out": 0, "held": 0}


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "settle_games", now, dry_run, limit)


def player(conn, balance: int = 50000) -> object:
    """A user with a bankroll whose stakes have already left `balance`."""
    user_id = factories.user(conn)
    factories.bankroll(conn, user_id, balance=balance, last_reset=NOW - timedelta(days=2))
    return user_id


def final(conn, home: int, away: int) -> str:
    return factories.game(conn, commence_time=KICKOFF, status="completed", home_score=home, away_score=away)


def bet_row(conn, bet_id) -> dict:
    return conn.execute("SELECT * FROM public.bets WHERE id = %s", (bet_id,)).fetchone()


def bankroll(conn, user_id) -> dict:
    return conn.execute("SELECT * FROM public.bankrolls WHERE user_id = %s", (user_id,)).fetchone()


# --- grading: every bet type x outcome x side (docs/rules.md: The jobs, Boundaries) --------------------------------

GRADES = [
    # bet_type, bet_details, home score, away score, outcome
    ("spread", {"team": "Home", "line": -3.5}, 24, 20, "won"),
    ("spread", {"team": "Home", "line": -3.5}, 23, 20, "lost"),
    ("spread", {"team": "Home", "line": -3}, 23, 20, "push"),
    ("spread", {"team": "Home", "line": 7}, 14, 20, "won"),
    ("spread", {"team": "Home", "line": 6}, 14, 20, "push"),
    ("spread", {"team": "Home", "line": 5.5}, 14, 20, "lost"),
    ("spread", {"team": "Away", "line": 3.5}, 23, 20, "won"),
    ("spread", {"team": "Away", "line": 3}, 23, 20, "push"),
    ("spread", {"team": "Away", "line": 2.5}, 23, 20, "lost"),
    ("spread", {"team": "Away", "line": -2.5}, 20, 24, "won"),
    ("spread", {"team": "Away", "line": -4}, 20, 24, "push"),
    ("spread", {"team": "Away", "line": -4.5}, 20, 24, "lost"),
    ("spread", {"team": "Away", "line": "-4.5"}, 20, 24, "lost"),  # a line stored as text
    ("total", {"total_type": "over", "line": 44.5}, 24, 21, "won"),
    ("total", {"total_type": "over", "line": 44.5}, 24, 20, "lost"),
    ("total", {"total_type": "over", "line": 44}, 24, 20, "push"),
    ("total", {"total_type": "under", "line": 44.5}, 24, 20, "won"),
    ("total", {"total_type": "under", "line": 44.5}, 24, 21, "lost"),
    ("total", {"total_type": "under", "line": 44}, 24, 20, "push"),
    ("moneyline", {"team": "Home"}, 21, 17, "won"),
    ("moneyline", {"team": "Home"}, 17, 21, "lost"),
    ("moneyline", {"team": "Away"}, 17, 21, "won"),
    ("moneyline", {"team": "Away"}, 21, 17, "lost"),
    ("moneyline", {"team": "Home"}, 20, 20, "push"),
    ("moneyline", {"team": "Away"}, 20, 20, "push"),
]


@pytest.mark.parametrize(("bet_type", "details", "home", "away", "outcome"), GRADES,
                         ids=[f"{t}-{d.get('team', d.get('total_type'))}{d.get('line', '')}-{h}:{a}-{o}"
                              for t, d, h, a, o in GRADES])
def test_grading(conn, bet_type, details, home, away, outcome):
    user_id = player(conn)
    bet_id = factories.bet(conn, user_id, final(conn, home, away), created_at=PLACED, bet_type=bet_type,
                           bet_details=details, stake=1000, odds=-110)
    result = run(conn)
    row = bet_row(conn, bet_id)
    assert (row["status"], row["settled_at"]) == (outcome, NOW)
    assert row["actual_win"] == {"won": 909, "lost": -1000, "push": 0}[outcome]
    assert result["details"] == {**ZERO, "games": 1, outcome: 1,
                                 "paid_out": {"won": 1909, "lost": 0, "push": 1000}[outcome]}
    assert bankroll(conn, user_id)["balance"] == 50000 + {"won": 1909, "lost": 0, "push": 1000}[outcome]


@pytest.mark.parametrize(("bet_type", "details"), [
    ("spread", {"team": "Home", "line": -3.5}), ("total", {"total_type": "under", "line": 40}),
    ("moneyline", {"team": "Away"})])
def test_a_cancelled_game_refunds_every_pending_bet(conn, bet_type, details):
    user_id = player(conn)
    game_id = factories.game(conn, commence_time=KICKOFF, status="cancelled")
    bet_id = factories.bet(conn, user_id, game_id, created_at=PLACED, bet_type=bet_type, bet_details=details,
                           stake=2500, odds=150)
    assert run(conn)["details"] == {**ZERO, "games": 1, "cancelled": 1, "paid_out": 2500}
    row = bet_row(conn, bet_id)
    assert (row["status"], row["actual_win"], row["settled_at"]) == ("cancelled", 0, NOW)
    after = bankroll(conn, user_id)
    assert (after["balance"], after["win_count"], after["loss_count"], after["push_count"]) == (52500, 0, 0, 0)
    assert conn.execute("SELECT count(*) AS n FROM public.notifications").fetchone()["n"] == 0


# --- payouts (docs/rules.md: Money). The job pays potential_win, the profit SnapBet's calculate_payout
# computed at placement in integer cents, truncated: stake*100/|odds| or stake*odds/100. -----

@pytest.mark.parametrize(("odds", "stake", "profit"), [
    (-110, 1000, 909), (-110, 1001, 910), (-110, 555, 504), (150, 999, 1498), (150, 1001, 1501),
    (-250, 777, 310), (-250, 1000, 400), (100, 503, 503), (-100, 503, 503)])
def test_a_win_pays_the_stake_plus_potential_win(conn, odds, stake, profit):
    user_id = player(conn, balance=10000)
    conn.execute("UPDATE public.bankrolls SET total_won = 100, win_count = 2, biggest_win = 50 WHERE user_id = %s",
                 (user_id,))
    bet_id = factories.bet(conn, user_id, final(conn, 30, 10), created_at=PLACED, odds=odds, stake=stake)
    assert bet_row(conn, bet_id)["potential_win"] == profit
    assert run(conn)["details"]["paid_out"] == stake + profit
    row = bankroll(conn, user_id)
    assert (row["balance"], row["total_won"], row["win_count"], row["biggest_win"]) == (
        10000 + stake + profit, 100 + profit, 3, max(50, profit))
    assert bet_row(conn, bet_id)["actual_win"] == profit


def test_a_loss_pays_nothing_and_counts_the_stake_as_the_biggest_loss(conn):
    user_id = player(conn, balance=10000)
    game_id = final(conn, 10, 30)
    small = factories.bet(conn, user_id, game_id, created_at=PLACED, stake=700)
    big = factories.bet(conn, user_id, game_id, created_at=PLACED, stake=1300)
    assert run(conn)["details"] == {**ZERO, "games": 1, "lost": 2}
    row = bankroll(conn, user_id)
    assert (row["balance"], row["loss_count"], row["biggest_loss"], row["total_won"]) == (10000, 2, 1300, 0)
    assert [bet_row(conn, b)["actual_win"] for b in (small, big)] == [-700, -1300]


def test_totals_over_many_users_and_games_add_up_to_the_cent(conn):
    users = [player(conn, balance=0) for _ in range(3)]
    games = [final(conn, 21, 20), final(conn, 20, 20)]  # home wins; a tie
    stakes = [(u, g, 500 + 37 * i) for i, (u, g) in enumerate((u, g) for u in users for g in games)]
    for u, g, stake in stakes:
        factories.bet(conn, u, g, created_at=PLACED, stake=stake, odds=-120)
    result = run(conn)
    won = sum(s + s * 100 // 120 for _, g, s in stakes if g == games[0])
    pushed = sum(s for _, g, s in stakes if g == games[1])
    assert result["details"] == {**ZERO, "games": 2, "won": 3, "push": 3, "paid_out": won + pushed}
    total = conn.execute("SELECT sum(balance) AS s FROM public.bankrolls").fetchone()["s"]
    assert total == won + pushed


# --- what it touches -------------------------------------------------------------------------

def test_only_pending_bets_of_completed_and_cancelled_games_are_settled(conn):
    user_id = player(conn)
    untouched = [
        factories.bet(conn, user_id, factories.game(conn, commence_time=NOW + timedelta(hours=1)), created_at=PLACED),
        factories.bet(conn, user_id, factories.game(conn, commence_time=KICKOFF, status="live"), created_at=PLACED),
        factories.settled_bet(conn, user_id, final(conn, 30, 0), created_at=PLACED, status="lost"),
    ]
    before = [bet_row(conn, b) for b in untouched]
    balance = bankroll(conn, user_id)["balance"]
    assert run(conn) == {"affected": 0, "details": ZERO, "next": None}
    assert [bet_row(conn, b) for b in untouched] == before
    assert bankroll(conn, user_id)["balance"] == balance


def test_one_notification_per_won_or_lost_bet(conn):
    user_id = player(conn)
    game_id = final(conn, 27, 24)
    won = factories.bet(conn, user_id, game_id, created_at=PLACED, stake=1000, bet_details={"team": "Home"})
    lost = factories.bet(conn, user_id, game_id, created_at=PLACED, stake=800, bet_details={"team": "Away"})
    factories.bet(conn, user_id, game_id, created_at=PLACED, bet_type="spread",
                  bet_details={"team": "Home", "line": -3})  # push: no notification
    run(conn)
    rows = conn.execute("SELECT user_id, type, data, read, created_at FROM public.notifications"
                        " ORDER BY type").fetchall()
    assert rows == [
        {"user_id": user_id, "type": "bet_lost", "read": False, "created_at": NOW,
         "data": {"betId": str(lost), "gameId": game_id, "amount": 800, "gameInfo": "Away @ Home"}},
        {"user_id": user_id, "type": "bet_won", "read": False, "created_at": NOW,
         "data": {"betId": str(won), "gameId": game_id, "amount": 909, "gameInfo": "Away @ Home"}},
    ]


def test_notify_false_settles_without_notifications(db, conn, test_manifest):
    jobs = dict(test_manifest.jobs)
    jobs["settle_games"] = dataclasses.replace(jobs["settle_games"], vars={"notify": False})
    install.deploy(db, dataclasses.replace(test_manifest, jobs=jobs), with_schedule=False)
    user_id = player(conn)
    factories.bet(conn, user_id, final(conn, 27, 24), created_at=PLACED)
    assert run(conn)["details"]["won"] == 1
    assert conn.execute("SELECT count(*) AS n FROM public.notifications").fetchone()["n"] == 0


def test_the_apps_bankroll_trigger_moves_season_high_and_low_as_snapbets_does(conn):
    winner, loser = player(conn, balance=99000), player(conn, balance=90000)
    conn.execute("UPDATE public.bankrolls SET season_high = 100000, season_low = 90000")
    game_id = final(conn, 30, 10)
    factories.bet(conn, winner, game_id, created_at=PLACED, stake=2000, odds=-110)  # +3818
    factories.bet(conn, loser, game_id, created_at=PLACED, stake=2000, bet_details={"team": "Away"})
    run(conn)
    w, l = bankroll(conn, winner), bankroll(conn, loser)
    assert (w["balance"], w["season_high"], w["season_low"]) == (102818, 102818, 90000)
    # A loss leaves the balance (the stake left at placement), so the low stays.
    assert (l["balance"], l["season_high"], l["season_low"]) == (90000, 100000, 90000)
    assert w["updated_at"] != NOW  # SnapBet's updated_at trigger stamps the transaction's time


# --- whole games ---------------------------------------------------------------------------

def test_a_game_with_a_bet_that_cannot_be_graded_is_held_back_whole(conn):
    user_id = player(conn)
    bad_game, good_game = final(conn, 21, 17), final(conn, 21, 17)
    ok = factories.bet(conn, user_id, bad_game, created_at=PLACED)
    factories.bet(conn, user_id, bad_game, created_at=PLACED, bet_details={"team": "Somebody Else"})
    factories.bet(conn, user_id, good_game, created_at=PLACED)
    dry = run(conn, dry_run=True)
    assert dry["details"] == {**ZERO, "games": 1, "won": 1, "paid_out": 1909, "held": 1}
    assert run(conn)["details"] == dry["details"]
    assert bet_row(conn, ok)["status"] == "pending"
    assert conn.execute("SELECT count(*) AS n FROM public.bets WHERE game_id = %s AND status = 'pending'",
                        (bad_game,)).fetchone()["n"] == 2


@pytest.mark.parametrize("details", [{"total_type": "over"}, {"total_type": "sideways", "line": 40},
                                     {"total_type": "over", "line": "forty"}])
def test_a_total_without_a_usable_line_or_side_is_held_back(conn, details):
    user_id = player(conn)
    factories.bet(conn, user_id, final(conn, 21, 17), created_at=PLACED, bet_type="total", bet_details=details)
    assert run(conn)["details"] == {**ZERO, "held": 1}


def test_a_failure_inside_a_game_leaves_the_whole_game_pending(conn):
    user_id, victim = player(conn), player(conn)
    game_id = final(conn, 21, 17)
    first = factories.bet(conn, user_id, game_id, created_at=PLACED)
    factories.bet(conn, victim, game_id, created_at=PLACED)
    conn.execute(f"""
        CREATE FUNCTION public.refuse_victim() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.user_id = '{victim}' THEN RAISE EXCEPTION 'bankroll locked' USING ERRCODE = 'SB001'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_victim BEFORE UPDATE ON public.bankrolls
            FOR EACH ROW EXECUTE FUNCTION public.refuse_victim();
    """)
    before = factories.digest(conn, *TOUCHED)
    with pytest.raises(psycopg.Error, match="bankroll locked"):
        run(conn)
    assert factories.digest(conn, *TOUCHED) == before
    assert bet_row(conn, first)["status"] == "pending"


# --- dry runs, idempotence, batches ---------------------------------------------------------

def mixed_slate(conn, games: int = 6) -> list:
    """`games` completed or cancelled games, each with bets of every type from three users."""
    users = [player(conn, balance=20000) for _ in range(3)]
    for i in range(games):
        if i % 5 == 4:
            game_id = factories.game(conn, commence_time=KICKOFF, status="cancelled")
        else:
            game_id = final(conn, 17 + 3 * (i % 3), 17 + 7 * (i % 2))
        for j, u in enumerate(users):
            factories.bet(conn, u, game_id, created_at=PLACED, stake=600 + 111 * j, odds=(-110, 140, -250)[j])
            factories.bet(conn, u, game_id, created_at=PLACED, bet_type="spread", stake=900,
                          bet_details={"team": ("Home", "Away")[j % 2], "line": (-3, 3.5, 0)[j]})
            factories.bet(conn, u, game_id, created_at=PLACED, bet_type="total", stake=1200,
                          bet_details={"total_type": ("over", "under")[j % 2], "line": (37, 40.5, 44)[j]})
    escrow(conn)
    return users


def escrow(conn) -> None:
    """Balances as docs/rules.md: Money has them before settlement: the deposit less every pending stake."""
    conn.execute("""
        UPDATE public.bankrolls AS b SET balance = b.weekly_deposit - s.staked
          FROM (SELECT user_id, sum(stake) AS staked FROM public.bets GROUP BY user_id) AS s
         WHERE b.user_id = s.user_id""")
    assert factories.conservation_violations(conn) == []


def test_the_dry_run_predicts_the_real_run_and_writes_nothing(conn):
    mixed_slate(conn)
    before = factories.digest(conn, *TOUCHED)
    dry = run(conn, dry_run=True)
    assert factories.digest(conn, *TOUCHED) == before
    assert dry["details"]["games"] == 6 and dry["details"]["push"] > 0 and dry["details"]["cancelled"] == 9
    real = run(conn)
    assert (real["affected"], real["details"]) == (dry["affected"], dry["details"])
    assert run(conn) == {"affected": 0, "details": ZERO, "next": None}
    assert factories.conservation_violations(conn) == []


def test_limit_settles_whole_games_in_id_order_and_the_runner_finishes_the_rest(conn):
    mixed_slate(conn)
    first = run(conn, limit=2)
    assert first["affected"] == 2 and first["next"] is not None
    settled = conn.execute("SELECT DISTINCT game_id AS id FROM public.bets WHERE status <> 'pending'"
                           " ORDER BY 1").fetchall()
    games = conn.execute("SELECT id FROM public.games ORDER BY id").fetchall()
    assert settled == games[:2]
    conn.execute("UPDATE jobs.job_registry SET batch_size = 1, min_batch_size = 1, max_batch_size = 1"
                 " WHERE job_name = 'settle_games'")
    conn.execute("CALL jobs.run_job('settle_games', %s)", (NOW,))
    row = conn.execute("SELECT status, affected_count, batches FROM jobs.job_executions").fetchone()
    assert (row["status"], row["affected_count"], row["batches"]) == ("succeeded", 4, 5)
    assert conn.execute("SELECT count(*) AS n FROM public.bets WHERE status = 'pending'").fetchone()["n"] == 0
    assert factories.conservation_violations(conn) == []


def test_conservation_holds_for_every_user_after_settling_the_seed(conn):
    seed_mod.seed(conn, users=150, seed=7, now=NOW, variables={"app_schema": "public", "storage_schema": "storage"})
    assert factories.conservation_violations(conn) == []
    pending = conn.execute("SELECT count(*) AS n FROM public.bets b JOIN public.games g ON g.id = b.game_id"
                           " WHERE b.status = 'pending' AND g.status IN ('completed', 'cancelled')").fetchone()["n"]
    assert pending > 0
    dry = run(conn, dry_run=True)
    conn.execute("CALL jobs.run_job('settle_games', %s)", (NOW,))
    row = conn.execute("SELECT affected_count, details FROM jobs.job_executions").fetchone()
    assert (row["affected_count"], row["details"]) == (dry["affected"], dry["details"])
    settled = sum(row["details"][k] for k in ("won", "lost", "push", "cancelled"))
    assert settled == pending
    assert factories.conservation_violations(conn) == []
    assert run(conn)["affected"] == 0


# --- exactly once under concurrency and crashes ----------------------------------------------

def big_slate(conn, games: int, users: int = 40) -> int:
    """`games` completed games (every 10th cancelled), 6 bets each over `users` players; returns
    the number of bets."""
    params = {"users": users, "games": games, "kickoff": KICKOFF, "placed": PLACED, "reset": NOW - timedelta(days=2)}
    for statement in (
        """
        INSERT INTO public.users (id, email, username)
        SELECT ('00000000-0000-4000-8000-' || lpad(u::text, 12, '0'))::uuid, 'p' || u || '@example.test', 'p' || u
          FROM generate_series(1, %(users)s) u
        """,
        """
        INSERT INTO public.bankrolls (user_id, weekly_deposit, last_reset)
        SELECT id, 210000, %(reset)s FROM public.users WHERE email LIKE 'p%%@example.test'
        """,
        """
        INSERT INTO public.games (id, sport, sport_title, home_team, away_team, commence_time, status,
                                  home_score, away_score)
        SELECT 'g' || lpad(g::text, 5, '0'), 'basketball_nba', 'NBA', 'Home', 'Away', %(kickoff)s,
               CASE WHEN g %% 10 = 0 THEN 'cancelled' ELSE 'completed' END::public.game_status,
               CASE WHEN g %% 10 <> 0 THEN 100 + g %% 7 END, CASE WHEN g %% 10 <> 0 THEN 100 + g %% 5 END
          FROM generate_series(1, %(games)s) g
        """,
        """
        INSERT INTO public.bets (user_id, game_id, bet_type, bet_details, stake, odds, potential_win, created_at)
        SELECT ('00000000-0000-4000-8000-' || lpad((1 + (g * 7 + k) %% %(users)s)::text, 12, '0'))::uuid,
               'g' || lpad(g::text, 5, '0'),
               (ARRAY['moneyline', 'spread', 'total'])[1 + k %% 3]::public.bet_type,
               (ARRAY['{"team": "Home"}', '{"team": "Away", "line": 2}', '{"total_type": "over", "line": 204}'])
                   [1 + k %% 3]::jsonb,
               500 + k * 13, -110, (500 + k * 13) * 100 / 110, %(placed)s
          FROM generate_series(1, %(games)s) g, generate_series(0, 5) k
        """,
    ):
        conn.execute(statement, params)
    escrow(conn)
    return games * 6


def settlement_is_exactly_once(conn, bets: int) -> None:
    """Every bet settled, each paid and notified once, balances conserved."""
    counts = conn.execute("""
        SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
               count(*) FILTER (WHERE status IN ('won', 'lost')) AS told
          FROM public.bets""").fetchone()
    assert counts["pending"] == 0
    notes = conn.execute("SELECT count(*) AS n, count(DISTINCT data ->> 'betId') AS bets"
                         " FROM public.notifications").fetchone()
    assert notes == {"n": counts["told"], "bets": counts["told"]}
    assert factories.conservation_violations(conn) == []
    assert conn.execute("SELECT count(*) AS n FROM public.bets").fetchone()["n"] == bets


def test_parallel_runners_settle_every_bet_exactly_once(db, conn):
    bets = big_slate(conn, games=240)
    conn.execute("UPDATE jobs.job_registry SET batch_size = 7, min_batch_size = 7, max_batch_size = 7"
                 " WHERE job_name = 'settle_games'")
    dry = run(conn, dry_run=True)
    results = race_settle_games(db, NOW, limits=(3, 5, 8, 13, 21), runners=3, timeout=120)
    runs = conn.execute("SELECT status, details FROM jobs.job_executions").fetchall()
    assert {r["status"] for r in runs} <= {"succeeded", "skipped"} and any(r["status"] == "succeeded" for r in runs)
    totals = {k: sum(d[k] for d in results + [r["details"] for r in runs if r["status"] == "succeeded"])
              for k in ZERO}
    assert totals == dry["details"]  # every game settled once, by one of the runners
    settlement_is_exactly_once(conn, bets)


def test_a_backend_killed_mid_run_leaves_whole_games_and_the_next_run_finishes(db, conn):
    bets = big_slate(conn, games=200)
    conn.execute("UPDATE jobs.job_registry SET batch_size = 10, min_batch_size = 10, max_batch_size = 10"
                 " WHERE job_name = 'settle_games'")
    # Slow each batch down so that the kill lands in the middle of the run.
    conn.execute("""
        CREATE FUNCTION public.slow_down() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$;
        CREATE TRIGGER slow_down BEFORE UPDATE ON public.bets FOR EACH ROW EXECUTE FUNCTION public.slow_down();
    """)
    victim = psycopg.connect(db, autocommit=True)
    pid = victim.info.backend_pid
    thread = threading.Thread(target=_swallow, args=(victim.execute, "CALL jobs.run_job('settle_games', %s)", (NOW,)))
    thread.start()
    deadline = time.monotonic() + 30
    while conn.execute("SELECT coalesce(max(batches), 0) AS n FROM jobs.job_executions").fetchone()["n"] < 3:
        assert time.monotonic() < deadline, "the run never got to its third batch"
        time.sleep(0.01)
    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(30)
    victim.close()
    killed = conn.execute("SELECT status, affected_count FROM jobs.job_executions").fetchone()
    assert killed["status"] == "running"  # cleanup marks it abandoned
    partly = conn.execute("SELECT game_id, bool_and(status = 'pending') AS open, bool_or(status = 'pending') AS some"
                          " FROM public.bets GROUP BY game_id").fetchall()
    assert all(g["open"] or not g["some"] for g in partly)  # no game half settled
    done = sum(1 for g in partly if not g["open"])
    assert 30 <= done < 200
    assert factories.conservation_violations(conn) == []

    conn.execute("DROP TRIGGER slow_down ON public.bets")
    conn.execute("CALL jobs.run_job('settle_games', %s)", (NOW,))
    last = conn.execute("SELECT status, affected_count FROM jobs.job_executions ORDER BY id DESC LIMIT 1").fetchone()
    assert (last["status"], last["affected_count"]) == ("succeeded", 200 - done)
    settlement_is_exactly_once(conn, bets)


def _swallow(fn, *args) -> None:
    try:
        fn(*args)
    except psycopg.Error:
        pass


def test_a_line_stored_as_text_with_spaces_is_read_as_its_number(conn):
    user_id = player(conn)
    game_id = final(conn, 24, 20)
    as_number = factories.bet(conn, user_id, game_id, created_at=PLACED, bet_type="spread",
                              bet_details={"team": "Home", "line": -3.5})
    conn.execute("UPDATE public.bets SET bet_details = %s WHERE id = %s",
                 (Jsonb({"team": "Home", "line": " -3.5 "}), as_number))
    run(conn)
    assert bet_row(conn, as_number)["status"] == "won"
