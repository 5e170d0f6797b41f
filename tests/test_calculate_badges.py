"""calculate_badges (docs/rules.md: The week, The jobs, Boundaries): each badge at its thresholds,
the diff and its history,
the weekly rollover, tiers, dry runs, batches, and (a hypothesis property) the job against a
reference computation written here from the rules' text (docs/rules.md)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from deployer import install
from deployer import seed as seed_mod
from tests import factories
from tests.support import call_job
from tests.support import cli as deployer

MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
NOW = MONDAY + timedelta(days=2, hours=12)  # Wednesday noon
SUNDAY = MONDAY + timedelta(days=6)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
BADGES = ("hot_streak", "profit_king", "riding_wave", "sharp", "fade_god", "most_active", "ghost", "sunday_sweep")
STATUS = {"W": "won", "L": "lost", "P": "push", "C": "cancelled"}


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "calculate_badges", now, dry_run, limit)


def active(conn, now: datetime = NOW) -> set[tuple]:
    """(user_id, badge_id) of every active badge."""
    return {(r["user_id"], r["badge_id"]) for r in conn.execute(
        "SELECT user_id, badge_id FROM public.user_badges WHERE lost_at IS NULL").fetchall()}


def badges_of(conn, user_id) -> set[str]:
    return {b for u, b in active(conn) if u == user_id}


def bets(conn, user_id, outcomes: str, *, start: datetime, sport: str = "basketball_nba",
         step: timedelta = HOUR, stake: int = 1000, settled: datetime | None = None) -> list:
    """Settled bets of `user_id` created `step` apart from `start`: W won, L lost, P push, C cancelled;
    each settled an hour after it was created, or at `settled` (as settle_games stamps them: its run's now)."""
    game_id = factories.game(conn, commence_time=start, status="completed", home_score=1, away_score=0, sport=sport)
    return [factories.settled_bet(conn, user_id, game_id, created_at=start + i * step, status=STATUS[o], stake=stake,
                                  settled_at=settled or start + i * step + HOUR)
            for i, o in enumerate(outcomes)]


def history(conn, badge: str | None = None) -> list[tuple]:
    return sorted((r["user_id"], r["badge_id"], r["action"]) for r in conn.execute(
        "SELECT user_id, badge_id, action FROM public.badge_history WHERE %s::text IS NULL OR badge_id = %s",
        (badge, badge)).fetchall())


# --- one test per badge, just inside and just outside each threshold ---------------------------

@pytest.mark.parametrize(("outcomes", "holds"), [
    ("WW", False), ("WWW", True), ("LWWW", True), ("WWWL", False), ("WWPW", True), ("WWCW", True),
    ("WPWL", False), ("PPP", False)])
def test_hot_streak_is_the_latest_three_settled_bets_all_won(conn, outcomes, holds):
    user_id = factories.user(conn)
    bets(conn, user_id, outcomes, start=MONDAY + HOUR)
    run(conn)
    assert ("hot_streak" in badges_of(conn, user_id)) is holds


def test_hot_streak_counts_only_this_weeks_bets(conn):
    user_id = factories.user(conn)
    bets(conn, user_id, "WW", start=MONDAY - 3 * HOUR)  # Sunday night, last week
    bets(conn, user_id, "W", start=MONDAY + HOUR)
    run(conn)
    assert "hot_streak" not in badges_of(conn, user_id)


def test_profit_king_goes_to_every_user_tied_at_the_top(conn):
    first, second, third = (factories.user(conn) for _ in range(3))
    bets(conn, first, "WL", start=MONDAY + HOUR, stake=2000)  # +1818 - 2000 = -182
    bets(conn, second, "WW", start=MONDAY + HOUR)  # +1818
    bets(conn, third, "WPW", start=MONDAY + HOUR)  # +1818
    result = run(conn)
    holders = {u for u, b in active(conn) if b == "profit_king"}
    assert holders == {second, third}
    assert result["details"]["profit_king"] == {"holders": 2, "awarded": 2, "revoked": 0}


def test_profit_king_needs_a_profit_above_zero(conn):
    user_id = factories.user(conn)
    bets(conn, user_id, "PL", start=MONDAY + HOUR)
    run(conn)
    assert "profit_king" not in badges_of(conn, user_id)


def _many(conn, user_id, wins: int, settled: int) -> None:
    """`settled` won or lost bets this week, `wins` of them won."""
    game_id = factories.game(conn, commence_time=MONDAY, status="completed", home_score=1, away_score=0)
    conn.execute("""
        INSERT INTO public.bets (user_id, game_id, bet_type, bet_details, stake, odds, potential_win, actual_win,
                                 status, created_at, settled_at)
        SELECT %(u)s, %(g)s, 'moneyline', '{"team": "Home"}', 1000, -110, 909,
               CASE WHEN i <= %(w)s THEN 909 ELSE -1000 END,
               CASE WHEN i <= %(w)s THEN 'won' ELSE 'lost' END::public.bet_status,
               %(t)s + i * interval '1 second', %(t)s + interval '1 day'
          FROM generate_series(1, %(n)s) AS i""", {"u": user_id, "g": game_id, "w": wins, "n": settled,
                                                    "t": MONDAY + HOUR})


@pytest.mark.parametrize(("wins", "settled", "holds"), [
    (4, 4, False), (4, 5, True), (5, 5, True), (3, 5, False), (7, 10, True), (699, 1000, False), (700, 1000, True)],
    ids=["4-settled", "5-settled-80%", "5-of-5", "60%", "70%", "69.9%", "70.0%"])
def test_sharp_needs_five_settled_bets_and_a_70_percent_win_rate(conn, wins, settled, holds):
    user_id = factories.user(conn)
    _many(conn, user_id, wins, settled)
    run(conn)
    assert ("sharp" in badges_of(conn, user_id)) is holds


def test_sharp_ignores_pushes_and_cancelled_bets(conn):
    user_id = factories.user(conn)
    bets(conn, user_id, "WWWWPPCC", start=MONDAY + HOUR)  # 4 settled: not enough
    run(conn)
    assert "sharp" not in badges_of(conn, user_id)


@pytest.mark.parametrize(("picks", "holds"), [(9, False), (10, True)])
def test_most_active_needs_ten_picks_this_week_deleted_or_not(conn, picks, holds):
    user_id = factories.user(conn)
    game_id = factories.game(conn, commence_time=NOW + HOUR)
    for i in range(picks):
        bet_id = factories.bet(conn, user_id, game_id, created_at=MONDAY + i * HOUR)
        factories.post(conn, user_id, post_type="pick", bet_id=bet_id, created_at=MONDAY + i * HOUR,
                       expires_at=MONDAY + (i + 1) * HOUR, deleted_at=MONDAY + (i + 1) * HOUR if i % 2 else None)
    old = factories.bet(conn, user_id, game_id, created_at=MONDAY - HOUR)  # last week's pick does not count
    factories.post(conn, user_id, post_type="pick", bet_id=old, created_at=MONDAY - HOUR, expires_at=NOW)
    run(conn)
    assert ("most_active" in badges_of(conn, user_id)) is holds


@pytest.mark.parametrize(("last_post", "holds"), [
    (timedelta(days=3) + SECOND, True), (timedelta(days=3), True), (timedelta(days=3) - SECOND, False),
    (timedelta(0), False)], ids=["3d+1s", "3d", "3d-1s", "now"])
def test_ghost_is_a_poster_silent_for_three_days(conn, last_post, holds):
    user_id = factories.user(conn)
    factories.post(conn, user_id, created_at=NOW - timedelta(days=20), expires_at=NOW - timedelta(days=19),
                   deleted_at=NOW - timedelta(days=19))
    factories.post(conn, user_id, created_at=NOW - last_post, expires_at=NOW + HOUR)
    run(conn)
    assert ("ghost" in badges_of(conn, user_id)) is holds


def test_a_user_who_never_posted_is_no_ghost(conn):
    user_id = factories.user(conn)
    bets(conn, user_id, "L", start=MONDAY + HOUR)
    run(conn)
    assert badges_of(conn, user_id) == set()


def _pick_with(conn, author, actors: list[tuple], kind: str) -> None:
    """A pick by `author`; each (user, outcome) tails or fades it this week with a settled bet."""
    game_id = factories.game(conn, commence_time=MONDAY + HOUR, status="completed", home_score=1, away_score=0)
    own = factories.settled_bet(conn, author, game_id, created_at=MONDAY, status="won")
    pick = factories.post(conn, author, post_type="pick", bet_id=own, created_at=MONDAY, expires_at=NOW)
    for user_id, outcome in actors:
        resulting = factories.settled_bet(conn, user_id, game_id, created_at=MONDAY + SECOND, status=STATUS[outcome])
        conn.execute("INSERT INTO public.pick_actions (post_id, user_id, action_type, resulting_bet_id, created_at)"
                     " VALUES (%s, %s, %s, %s, %s)", (pick, user_id, kind, resulting, MONDAY + SECOND))


@pytest.mark.parametrize(("badge", "kind"), [("riding_wave", "tail"), ("fade_god", "fade")])
def test_followers_profit_makes_the_author_ride_the_wave_or_a_fade_god(conn, badge, kind):
    winner, even, a, b = (factories.user(conn) for _ in range(4))
    _pick_with(conn, winner, [(a, "W"), (b, "L")], kind)  # +909 - 1000 < 0
    _pick_with(conn, winner, [(b, "W")], kind)  # +909: net +818
    _pick_with(conn, even, [(a, "L"), (b, "P")], kind)  # -1000
    run(conn)
    holders = {u for u, x in active(conn) if x == badge}
    assert holders == {winner}


def test_a_user_tailing_their_own_pick_is_not_others(conn):
    author, other = factories.user(conn), factories.user(conn)
    _pick_with(conn, author, [(author, "W")], "tail")
    _pick_with(conn, other, [(other, "W")], "fade")
    run(conn)
    assert {b for _, b in active(conn)} & {"riding_wave", "fade_god"} == set()


NEW_YORK_DST_SUNDAY = datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc)  # Sunday 00:00 EDT; 02:00 EDT -> 01:00 EST


@pytest.fixture
def new_york(db, test_manifest):
    """The job set deployed with weeks in America/New_York."""
    install.deploy(db, dataclasses.replace(test_manifest, settings={**test_manifest.settings,
                                                                     "timezone": "America/New_York"}),
                   with_schedule=False)


@pytest.mark.parametrize(("first", "holds"), [
    (NEW_YORK_DST_SUNDAY - timedelta(minutes=30), False),  # Saturday 23:30 EDT
    (NEW_YORK_DST_SUNDAY + timedelta(minutes=30), True),  # Sunday 00:30 EDT
], ids=["saturday-night", "sunday-00:30"])
def test_sunday_sweep_is_three_won_nfl_bets_on_the_local_sunday_across_dst(conn, new_york, first, holds):
    user_id = factories.user(conn)
    nfl = factories.game(conn, commence_time=NEW_YORK_DST_SUNDAY, status="completed", home_score=1, away_score=0)
    for created in (first, NEW_YORK_DST_SUNDAY + 12 * HOUR,
                    NEW_YORK_DST_SUNDAY + 24 * HOUR + 30 * timedelta(minutes=1)):  # Sunday 23:30 EST
        factories.settled_bet(conn, user_id, nfl, created_at=created, status="won")
    monday = NEW_YORK_DST_SUNDAY + 25 * HOUR  # Monday 00:00 EST ends the week
    run(conn, monday - SECOND)
    assert ("sunday_sweep" in badges_of(conn, user_id)) is holds


def test_sunday_sweep_needs_nfl_and_no_loss(conn):
    nba, loser, sweeper = (factories.user(conn) for _ in range(3))
    bets(conn, nba, "WWW", start=SUNDAY + HOUR)
    bets(conn, loser, "WWWL", start=SUNDAY + HOUR, sport="americanfootball_nfl")
    bets(conn, sweeper, "WWPW", start=SUNDAY + HOUR, sport="americanfootball_nfl")
    run(conn, SUNDAY + 20 * HOUR)
    assert {u for u, b in active(conn) if b == "sunday_sweep"} == {sweeper}


# --- the diff, the history, the week, the tiers ---------------------------------------------

def test_a_second_run_writes_no_history_and_a_lost_badge_earned_again_gets_a_new_row(conn):
    user_id = factories.user(conn)
    bets(conn, user_id, "WWW", start=MONDAY + HOUR)
    assert run(conn)["details"]["hot_streak"] == {"holders": 1, "awarded": 1, "revoked": 0}
    assert run(conn) | {"details": None} == {"affected": 0, "details": None, "next": None}
    assert history(conn, "hot_streak") == [(user_id, "hot_streak", "earned")]
    # Settled as settle_games stamps them, at its run's now, before each of these runs: an
    # incremental run sees a bet by its settled_at (docs/rules.md: calculate_badges).
    bets(conn, user_id, "L", start=MONDAY + 10 * HOUR, settled=NOW + HOUR)
    assert run(conn, NOW + HOUR)["details"]["hot_streak"] == {"holders": 0, "awarded": 0, "revoked": 1}
    bets(conn, user_id, "WWW", start=MONDAY + 20 * HOUR, settled=NOW + 2 * HOUR)
    run(conn, NOW + 2 * HOUR)
    rows = conn.execute("SELECT earned_at, lost_at, week_start_date, weekly_reset_at FROM public.user_badges"
                        " WHERE badge_id = 'hot_streak' ORDER BY earned_at").fetchall()
    assert rows == [
        {"earned_at": NOW, "lost_at": NOW + HOUR, "week_start_date": MONDAY.date(),
         "weekly_reset_at": MONDAY + timedelta(days=7)},
        {"earned_at": NOW + 2 * HOUR, "lost_at": None, "week_start_date": MONDAY.date(),
         "weekly_reset_at": MONDAY + timedelta(days=7)},
    ]
    assert [a for _, _, a in history(conn, "hot_streak")] == ["earned", "earned", "lost"]


def test_the_first_run_of_a_week_expires_last_weeks_badges(conn):
    steady, faded = factories.user(conn), factories.user(conn)
    for user_id in (steady, faded):
        factories.post(conn, user_id, created_at=NOW - timedelta(days=10), expires_at=NOW - timedelta(days=9))
    run(conn)
    assert active(conn) == {(steady, "ghost"), (faded, "ghost")}
    factories.post(conn, faded, created_at=MONDAY + timedelta(days=7), expires_at=NOW + timedelta(days=9))
    next_week = MONDAY + timedelta(days=7, minutes=20)
    result = run(conn, next_week)
    assert result["details"]["expired"] == 2 and result["details"]["ghost"] == {"holders": 1, "awarded": 1,
                                                                                "revoked": 0}
    assert active(conn) == {(steady, "ghost")}
    week = conn.execute("SELECT week_start_date FROM public.user_badges WHERE lost_at IS NULL").fetchone()
    assert week["week_start_date"] == (MONDAY + timedelta(days=7)).date()
    assert [a for _, _, a in history(conn)].count("lost") == 2


def test_a_badge_row_without_a_week_is_placed_by_its_earned_at(conn):
    user_id = factories.user(conn)
    conn.execute("INSERT INTO public.user_badges (user_id, badge_id, earned_at) VALUES (%s, 'sharp', %s)",
                 (user_id, MONDAY - HOUR))
    assert run(conn)["details"]["expired"] == 1
    assert active(conn) == set()


@pytest.mark.parametrize(("count", "tier"), [(0, 0), (1, 1), (2, 1), (3, 2)])
def test_tier_follows_the_number_of_active_badges(conn, count, tier):
    user_id = factories.user(conn)
    if count >= 1:  # ghost
        factories.post(conn, user_id, created_at=NOW - timedelta(days=5), expires_at=NOW - timedelta(days=4))
    if count >= 2:  # hot_streak and, alone at the top, profit_king
        bets(conn, user_id, "WWW", start=MONDAY + HOUR)
    if count == 2:
        bets(conn, factories.user(conn), "WWWWWW", start=MONDAY + HOUR)  # a bigger profit elsewhere
    run(conn)
    assert len(badges_of(conn, user_id)) == count
    row = conn.execute("SELECT tier, badge_count FROM public.user_effect_tiers WHERE user_id = %s",
                       (user_id,)).fetchone()
    assert ((row["tier"], row["badge_count"]) if row else (0, 0)) == (tier, count)


def test_the_dry_run_predicts_the_real_run_lists_the_users_and_writes_nothing(conn):
    users = [factories.user(conn) for _ in range(6)]
    for i, user_id in enumerate(users):
        bets(conn, user_id, "WWWLWW"[: 3 + i % 4], start=MONDAY + HOUR)
        factories.post(conn, user_id, created_at=NOW - timedelta(days=4 + i), expires_at=NOW)
    conn.execute("INSERT INTO public.user_badges (user_id, badge_id, earned_at, week_start_date)"
                 " VALUES (%s, 'sharp', %s, %s)", (users[0], NOW - HOUR, MONDAY.date()))
    tables = ("public.user_badges", "public.badge_history", "public.user_effect_tiers")
    before = factories.digest(conn, *tables)
    dry = run(conn, dry_run=True)
    listed = conn.execute("SELECT * FROM jobs.calculate_badges_changes(%s)", (NOW,)).fetchall()
    assert factories.digest(conn, *tables) == before
    real = run(conn)
    assert (real["affected"], real["details"]) == (dry["affected"], dry["details"])
    names = {r["id"]: r["username"] for r in conn.execute("SELECT id, username FROM public.users").fetchall()}
    written = {}
    for user_id, badge, action in history(conn):
        change = "awarded" if action == "earned" else "revoked"
        written.setdefault((badge, change), []).append(names[user_id])
    assert {(r["item"], r["change"]): sorted(r["users"]) for r in listed} == {k: sorted(v) for k, v in written.items()}
    assert ("sharp", "revoked") in written


def test_a_run_interrupted_between_batches_ends_like_one_run(conn):
    users = [factories.user(conn) for _ in range(7)]
    for i, user_id in enumerate(users):
        bets(conn, user_id, "WWWL"[: 1 + i % 4] + "W" * (i % 3), start=MONDAY + HOUR)
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 2, max_batch_size = 2"
                 " WHERE job_name = 'calculate_badges'")
    state = ("SELECT user_id, badge_id, earned_at, lost_at FROM public.user_badges ORDER BY 1, 2",
             "SELECT user_id, tier, badge_count FROM public.user_effect_tiers ORDER BY 1",
             "SELECT user_id, badge_id, action FROM public.badge_history ORDER BY 1, 2, 3")
    with conn.transaction(force_rollback=True):
        run(conn)
        whole = [conn.execute(q).fetchall() for q in state]
    assert whole[0]
    first = run(conn, limit=3)
    assert first["next"] is not None
    conn.execute("CALL jobs.run_job('calculate_badges', %s)", (NOW,))
    assert [conn.execute(q).fetchall() for q in state] == whole


# --- which users a run examines (docs/rules.md: calculate_badges) ------------------------------------------

DAY = timedelta(days=1)


def kings(conn) -> set:
    return {u for u, b in active(conn) if b == "profit_king"}


def everyone(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM public.users").fetchone()["n"]


def test_a_run_after_a_complete_one_examines_only_the_users_something_happened_to(conn):
    king, bettor, ghost, poster, fading = (factories.user(conn) for _ in range(5))
    bets(conn, king, "WWW", start=MONDAY + HOUR)
    bets(conn, bettor, "WL", start=MONDAY + HOUR)
    factories.post(conn, ghost, created_at=NOW - 5 * DAY, expires_at=NOW - 4 * DAY)
    factories.post(conn, fading, created_at=NOW - 3 * DAY + 90 * timedelta(minutes=1), expires_at=NOW)
    first = run(conn)
    assert first["details"]["users"] == everyone(conn) and active(conn) == {(king, "hot_streak"), (king, "profit_king"),
                                                              (ghost, "ghost")}
    quiet = run(conn, NOW + HOUR)
    assert (quiet["affected"], quiet["details"]["users"]) == (0, 1)  # the holder of profit_king
    # Then: a bet settled by settle_games, a post, and an hour more of fading's silence.
    bets(conn, bettor, "W", start=NOW, settled=NOW + 90 * timedelta(minutes=1))
    factories.post(conn, poster, created_at=NOW + 100 * timedelta(minutes=1), expires_at=NOW + DAY)
    busy = run(conn, NOW + 2 * HOUR)
    assert busy["details"]["users"] == 4  # king, bettor, poster, fading; not ghost
    assert busy["details"]["ghost"] == {"holders": 1, "awarded": 1, "revoked": 0}
    assert active(conn) == reference(snapshot(conn), NOW + 2 * HOUR)


def test_a_settlement_that_committed_late_is_still_seen(conn):
    user_id = factories.user(conn)
    run(conn)
    # settle_games stamped these before the run above, and committed after it (within the hour's lag).
    bets(conn, user_id, "WWW", start=MONDAY + HOUR, settled=NOW - 30 * timedelta(minutes=1))
    assert run(conn, NOW + HOUR)["details"]["users"] == 1
    assert badges_of(conn, user_id) == {"hot_streak", "profit_king"}


def test_when_every_holder_of_the_best_profit_falls_the_next_best_takes_it(conn):
    king, second, third = (factories.user(conn) for _ in range(3))
    bets(conn, king, "WWW", start=MONDAY + HOUR)  # +2727
    bets(conn, second, "WW", start=MONDAY + HOUR)  # +1818, nothing of theirs moves below
    bets(conn, third, "W", start=MONDAY + HOUR)  # +909
    run(conn)
    assert kings(conn) == {king}
    bets(conn, king, "LL", start=MONDAY + DAY, settled=NOW + HOUR)  # +727
    result = run(conn, NOW + HOUR)
    assert kings(conn) == {second}
    assert result["details"]["users"] == 2 and result["details"]["profit_king"] == {
        "holders": 1, "awarded": 1, "revoked": 1}
    bets(conn, third, "WW", start=MONDAY + 2 * DAY, settled=NOW + 2 * HOUR)  # +2727: above second
    run(conn, NOW + 2 * HOUR)
    assert kings(conn) == {third}


def test_a_ghost_whose_posts_are_all_hard_deleted_is_no_ghost_at_the_next_run(conn):
    gone, kept = factories.user(conn), factories.user(conn)
    for user_id in (gone, kept):
        factories.post(conn, user_id, created_at=NOW - 40 * DAY, expires_at=NOW - 39 * DAY,
                       deleted_at=NOW - 39 * DAY)
    run(conn)
    assert {u for u, b in active(conn) if b == "ghost"} == {gone, kept}
    # expire_content's hard delete, 30 days after the soft delete: no window of time shows it.
    conn.execute("DELETE FROM public.posts WHERE user_id = %s", (gone,))
    result = run(conn, NOW + HOUR)
    assert result["details"]["ghost"] == {"holders": 0, "awarded": 0, "revoked": 1}
    assert {u for u, b in active(conn) if b == "ghost"} == {kept}


@pytest.mark.parametrize("change", ["badges deleted", "tiers emptied"])
def test_badge_tables_changed_by_hand_are_rebuilt_by_the_next_run(conn, change):
    users = [factories.user(conn) for _ in range(3)]
    for i, user_id in enumerate(users):
        factories.post(conn, user_id, created_at=NOW - (4 + i) * DAY, expires_at=NOW)
    bets(conn, users[0], "WWW", start=MONDAY + HOUR)
    run(conn)
    tables = ("SELECT user_id, badge_id, earned_at FROM public.user_badges WHERE lost_at IS NULL ORDER BY 1, 2",
              "SELECT user_id, tier, badge_count FROM public.user_effect_tiers ORDER BY 1")
    before = [conn.execute(q).fetchall() for q in tables]
    if change == "badges deleted":
        conn.execute("DELETE FROM public.user_badges WHERE user_id = %s", (users[1],))
    else:
        conn.execute("DELETE FROM public.user_effect_tiers")
    result = run(conn, NOW + HOUR)
    assert (result["details"]["rebuild"], result["details"]["users"]) == (True, everyone(conn))
    after = [conn.execute(q).fetchall() for q in tables]
    if change == "badges deleted":  # earned again by this run
        assert [r for r in after[0] if r["user_id"] != users[1]] == [r for r in before[0] if r["user_id"] != users[1]]
        assert {(r["badge_id"], r["earned_at"]) for r in after[0] if r["user_id"] == users[1]} == {
            ("ghost", NOW + HOUR)}
        assert after[1] == before[1]
    else:
        assert after == before
    assert "rebuild" not in run(conn, NOW + 2 * HOUR)["details"]


def test_a_run_at_an_earlier_moment_or_in_a_new_week_examines_everyone(conn):
    users = [factories.user(conn) for _ in range(3)]
    factories.post(conn, users[0], created_at=NOW - 3 * DAY - HOUR, expires_at=NOW)
    run(conn, NOW)
    assert badges_of(conn, users[0]) == {"ghost"}
    earlier = run(conn, NOW - 2 * HOUR)  # its silence was not yet 3 days long
    assert earlier["details"]["users"] == everyone(conn) and badges_of(conn, users[0]) == set()
    assert run(conn, NOW + HOUR)["details"]["users"] < everyone(conn)
    assert run(conn, NOW + 7 * DAY)["details"]["users"] == everyone(conn)


# A week of events, each stamped as the app and settle_games stamp them (a bet's settled_at is
# when it was settled, a post's created_at when it was made), and runs at increasing moments:
# after each run, the badges are those docs/rules.md gives for that moment.
EVENT = st.tuples(st.sampled_from(["settle", "settle", "post", "pick", "tail", "fade", "purge"]),
                  st.integers(0, 3), st.integers(0, 3), st.sampled_from("WWLLP"), st.booleans(),
                  st.integers(0, 7 * 24 * 60 - 1), st.integers(0, 3 * 24 * 60))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old_posts=st.lists(st.tuples(st.integers(0, 3), st.integers(2 * 24 * 60, 40 * 24 * 60)), max_size=6),
       events=st.lists(EVENT, max_size=30),
       moments=st.lists(st.integers(0, 7 * 24 * 60 - 1), min_size=2, max_size=6, unique=True))
def test_runs_through_a_week_hold_what_the_rules_give_at_each_moment(conn, old_posts, events, moments):
    conn.execute("TRUNCATE public.users, public.games CASCADE")
    conn.execute("DELETE FROM jobs.job_state WHERE job_name = 'calculate_badges'")
    users = [factories.user(conn) for _ in range(4)]
    games = {nfl: factories.game(conn, commence_time=MONDAY - DAY, status="completed", home_score=1, away_score=0,
                                 sport="americanfootball_nfl" if nfl else "basketball_nba") for nfl in (True, False)}
    for u, before in old_posts:
        factories.post(conn, users[u], created_at=MONDAY - before * timedelta(minutes=1), expires_at=MONDAY)
    minute = timedelta(minutes=1)
    # A tail or fade is two events: the pick shared and followed `back` minutes before, its bet
    # settled at the event's minute. Each row is written at the minute it is stamped with.
    pending = sorted([(e[5] - e[6], "share", i, e) for i, e in enumerate(events) if e[0] in ("tail", "fade")]
                     + [(e[5], e[0], i, e) for i, e in enumerate(events)], key=lambda x: (x[0], x[2], x[1] != "share"))
    followed = {}

    def happen(step, i, kind, u, other, outcome, nfl, at, back):
        t = MONDAY + at * minute
        if kind == "settle":  # a bet placed `back` minutes before, settled now
            factories.settled_bet(conn, users[u], games[nfl], created_at=t - back * minute, status=STATUS[outcome],
                                  stake=500 + 100 * u, settled_at=t)
        elif kind in ("post", "pick"):
            bet_id = factories.bet(conn, users[u], games[False], created_at=t) if kind == "pick" else None
            factories.post(conn, users[u], post_type=kind if kind == "pick" else "content", bet_id=bet_id,
                           created_at=t, expires_at=t + HOUR)
        elif step == "share":  # the pick, and the bet that follows it, still pending
            shared = t - back * minute
            own = factories.bet(conn, users[u], games[False], created_at=shared)
            pick = factories.post(conn, users[u], post_type="pick", bet_id=own, created_at=shared,
                                  expires_at=shared + HOUR)
            followed[i] = factories.bet(conn, users[other], games[False], created_at=shared)
            conn.execute("INSERT INTO public.pick_actions (post_id, user_id, action_type, resulting_bet_id,"
                         " created_at) VALUES (%s, %s, %s, %s, %s)", (pick, users[other], kind, followed[i], shared))
        elif kind in ("tail", "fade"):  # settled now, as settle_games settles it
            conn.execute("UPDATE public.bets SET status = %s,"
                         " actual_win = CASE %s WHEN 'won' THEN potential_win WHEN 'lost' THEN -stake ELSE 0 END,"
                         " settled_at = %s WHERE id = %s", (STATUS[outcome], STATUS[outcome], t, followed[i]))
        else:  # expire_content's hard delete: posts soft-deleted more than 30 days before
            conn.execute("DELETE FROM public.posts WHERE user_id = %s AND created_at < %s",
                         (users[u], t - 31 * DAY))

    examined = []
    for at in sorted(moments):
        now = MONDAY + at * minute
        while pending and pending[0][0] <= at:
            _, step, i, event = pending.pop(0)
            happen(step, i, *event)
        result = run(conn, now)
        examined.append(result["details"]["users"])
        assert active(conn) == reference(snapshot(conn), now), f"at {now}"
    assert examined[0] == 4


# --- property: the job equals a reference written from the rules' text (docs/rules.md) ------------------------

def reference(rows: dict, now: datetime) -> set[tuple]:
    """(user, badge) pairs docs/rules.md gives for the week of `now` (UTC weeks)."""
    week = MONDAY if MONDAY <= now < MONDAY + timedelta(days=7) else None
    assert week is not None
    end = week + timedelta(days=7)
    sunday = end - timedelta(days=1)
    out = set()
    in_week = [b for b in rows["bets"] if week <= b["created_at"] < end]
    nets = {}
    for user in rows["users"]:
        mine = sorted((b for b in in_week if b["user_id"] == user), key=lambda b: (b["created_at"], b["id"]))
        settled = [b for b in mine if b["status"] in ("won", "lost")]
        if len(settled) >= 3 and all(b["status"] == "won" for b in settled[-3:]):
            out.add((user, "hot_streak"))
        if len(settled) >= 5 and sum(b["status"] == "won" for b in settled) * 100 >= 70 * len(settled):
            out.add((user, "sharp"))
        graded = [b for b in mine if b["status"] in ("won", "lost", "push")]
        if graded:
            nets[user] = sum(b["actual_win"] for b in graded)
        nfl = [b for b in settled if b["sport"] == "americanfootball_nfl" and b["created_at"] >= sunday]
        if len(nfl) >= 3 and all(b["status"] == "won" for b in nfl):
            out.add((user, "sunday_sweep"))
        posts = [p for p in rows["posts"] if p["user_id"] == user]
        if sum(p["post_type"] == "pick" and week <= p["created_at"] < end for p in posts) >= 10:
            out.add((user, "most_active"))
        if any(p["created_at"] <= now - timedelta(days=3) for p in posts) and not any(
                now - timedelta(days=3) < p["created_at"] <= now for p in posts):
            out.add((user, "ghost"))
        for kind, badge in (("tail", "riding_wave"), ("fade", "fade_god")):
            profit = sum(a["actual_win"] for a in rows["actions"]
                         if a["author"] == user and a["user_id"] != user and a["action_type"] == kind
                         and week <= a["created_at"] < end and a["status"] in ("won", "lost"))
            if profit > 0:
                out.add((user, badge))
    best = max(nets.values(), default=0)
    out |= {(u, "profit_king") for u, n in nets.items() if best > 0 and n == best}
    return out


def snapshot(conn) -> dict:
    return {
        "users": [r["id"] for r in conn.execute("SELECT id FROM public.users").fetchall()],
        "bets": conn.execute("SELECT b.id, b.user_id, b.status::text, b.actual_win, b.created_at, g.sport"
                             " FROM public.bets b JOIN public.games g ON g.id = b.game_id").fetchall(),
        "posts": conn.execute("SELECT user_id, post_type, created_at FROM public.posts").fetchall(),
        "actions": conn.execute("""
            SELECT p.user_id AS author, a.user_id, a.action_type::text, a.created_at, x.status::text, x.actual_win
              FROM public.pick_actions a JOIN public.posts p ON p.id = a.post_id
              JOIN public.bets x ON x.id = a.resulting_bet_id""").fetchall(),
    }


OFFSET = st.integers(-3 * 24 * 60, 7 * 24 * 60 + 60).map(lambda m: MONDAY + timedelta(minutes=m))
BET = st.tuples(st.integers(0, 3), st.sampled_from("WWLLPC"), OFFSET, st.booleans())
POST = st.tuples(st.integers(0, 3), st.booleans(), OFFSET)
ACTION = st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(["tail", "fade"]), st.sampled_from("WLP"),
                   OFFSET)


SUNDAY_BET = st.tuples(st.integers(0, 3), st.sampled_from("WWWWLP"), st.integers(-60, 24 * 60))  # minutes into Sunday
PICKS = st.lists(st.sampled_from([0, 0, 9, 10]), min_size=4, max_size=4)  # pick posts this week, per user


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bet_rows=st.lists(BET, max_size=24), sunday_rows=st.lists(SUNDAY_BET, max_size=10), picks=PICKS,
       post_rows=st.lists(POST, max_size=8), action_rows=st.lists(ACTION, max_size=5),
       now=st.integers(0, 7 * 24 * 60 - 1).map(lambda m: MONDAY + timedelta(minutes=m)))
def test_the_job_equals_a_reference_from_the_spec(conn, bet_rows, sunday_rows, picks, post_rows, action_rows,
                                                  now):
    # Each example is a new database: its data, stamped anywhere in the week, replaces the
    # last example's wholesale, which no run's window can follow, so the job's state goes too.
    conn.execute("TRUNCATE public.users, public.games CASCADE")
    conn.execute("DELETE FROM jobs.job_state WHERE job_name = 'calculate_badges'")
    users = [factories.user(conn) for _ in range(4)]
    games = {sport: factories.game(conn, commence_time=MONDAY, status="completed", home_score=1, away_score=0,
                                   sport=sport) for sport in ("americanfootball_nfl", "basketball_nba")}
    bet_rows = bet_rows + [(u, o, SUNDAY + timedelta(minutes=m), True) for u, o, m in sunday_rows]
    post_rows = post_rows + [(u, True, MONDAY + timedelta(hours=1 + i)) for u, n in enumerate(picks) for i in range(n)]
    for u, outcome, created, nfl in bet_rows:
        factories.settled_bet(conn, users[u], games["americanfootball_nfl" if nfl else "basketball_nba"],
                              created_at=created, status=STATUS[outcome], stake=500 + 100 * u)
    for u, pick, created in post_rows:
        bet_id = factories.bet(conn, users[u], games["basketball_nba"], created_at=created) if pick else None
        factories.post(conn, users[u], post_type="pick" if pick else "content", bet_id=bet_id,
                       created_at=created, expires_at=created + HOUR)
    for author, actor, kind, outcome, created in action_rows:
        own = factories.bet(conn, users[author], games["basketball_nba"], created_at=created)
        pick = factories.post(conn, users[author], post_type="pick", bet_id=own, created_at=created,
                              expires_at=created + HOUR)
        resulting = factories.settled_bet(conn, users[actor], games["basketball_nba"], created_at=created,
                                          status=STATUS[outcome])
        conn.execute("INSERT INTO public.pick_actions (post_id, user_id, action_type, resulting_bet_id, created_at)"
                     " VALUES (%s, %s, %s, %s, %s)", (pick, users[actor], kind, resulting, created))
    expected = reference(snapshot(conn), now)
    for badge in sorted({b for _, b in expected}):
        event(badge)
    dry = run(conn, now, dry_run=True)
    real = run(conn, now)
    assert (real["affected"], real["details"]) == (dry["affected"], dry["details"])
    assert active(conn) == expected
    assert {b: real["details"][b]["holders"] for b in BADGES} == {
        b: sum(1 for _, x in expected if x == b) for b in BADGES}
    assert run(conn, now)["affected"] == 0


def test_verbose_dry_run_lists_who_gains_and_loses_each_badge(db, conn):
    winner, loser = factories.user(conn, username="winner"), factories.user(conn, username="loser")
    bets(conn, winner, "WWW", start=MONDAY + HOUR)
    conn.execute("INSERT INTO public.user_badges (user_id, badge_id, earned_at, week_start_date)"
                 " VALUES (%s, 'sharp', %s, %s)", (loser, NOW - HOUR, MONDAY.date()))
    before = factories.digest(conn, "public.user_badges", "public.badge_history")
    shown = deployer("run", "calculate_badges", "--dry-run", "--verbose", "--now", NOW.isoformat(), dsn=db)
    assert shown.returncode == 0, shown.stderr
    lines = [" ".join(line.replace("│", " ").split()) for line in shown.stdout.splitlines()]
    assert "calculate_badges: what a run would change" in lines  # the table's title, on one line
    assert "hot_streak awarded winner" in lines and "profit_king awarded winner" in lines
    assert "sharp revoked loser" in lines
    as_json = deployer("run", "calculate_badges", "--dry-run", "--verbose", "--json", "--now", NOW.isoformat(), dsn=db)
    document = json.loads(as_json.stdout)
    assert document["changes"] == [
        {"item": "hot_streak", "change": "awarded", "users": ["winner"]},
        {"item": "profit_king", "change": "awarded", "users": ["winner"]},
        {"item": "sharp", "change": "revoked", "users": ["loser"]},
    ]
    assert document["details"]["sharp"] == {"holders": 0, "awarded": 0, "revoked": 1}
    assert "changes" not in json.loads(deployer("run", "calculate_badges", "--dry-run", "--json", "--now",
                                                NOW.isoformat(), dsn=db).stdout)
    assert factories.digest(conn, "public.user_badges", "public.badge_history") == before


def test_on_the_seed_every_badge_has_holders_and_the_dry_run_matches_the_history_written(conn, test_manifest):
    sunday_evening = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)  # the demo's kind of moment
    seed_mod.seed(conn, users=150, seed=3, now=sunday_evening, variables=test_manifest.template_vars())
    call_job(conn, "settle_games", sunday_evening)
    dry = run(conn, sunday_evening, dry_run=True)
    assert {b: dry["details"][b]["holders"] > 0 for b in BADGES} == dict.fromkeys(BADGES, True)
    conn.execute("CALL jobs.run_job('calculate_badges', %s)", (sunday_evening,))
    row = conn.execute("SELECT status, affected_count, details FROM jobs.job_executions"
                       " WHERE job_name = 'calculate_badges'").fetchone()
    assert (row["status"], row["affected_count"], row["details"]) == ("succeeded", dry["affected"], dry["details"])
    written = {(r["badge_id"], r["action"]): r["n"] for r in conn.execute(
        "SELECT badge_id, action, count(*) AS n FROM public.badge_history GROUP BY 1, 2").fetchall()}
    assert written == {(b, "earned"): dry["details"][b]["awarded"] for b in BADGES}
    assert run(conn, sunday_evening)["affected"] == 0


def test_a_badge_revoked_and_earned_again_at_the_same_moment_is_active_again(conn):
    user_id = factories.user(conn)
    bets(conn, user_id, "WWW", start=MONDAY + HOUR)
    run(conn)
    loss = bets(conn, user_id, "L", start=MONDAY + 10 * HOUR, settled=NOW)[0]
    assert run(conn)["details"]["hot_streak"]["revoked"] == 1
    # A bet deleted by hand is in no run's window (docs/rules.md: calculate_badges); dropping
    # the job's state makes the next run examine everyone.
    conn.execute("DELETE FROM public.bets WHERE id = %s", (loss,))
    conn.execute("DELETE FROM jobs.job_state WHERE job_name = 'calculate_badges'")
    assert run(conn)["details"]["hot_streak"]["awarded"] == 1
    rows = conn.execute("SELECT earned_at, lost_at FROM public.user_badges WHERE badge_id = 'hot_streak'").fetchall()
    assert rows == [{"earned_at": NOW, "lost_at": None}]
    assert [a for _, _, a in history(conn, "hot_streak")] == ["earned", "earned", "lost"]


def test_verbose_dry_run_with_nothing_to_change_says_so(db, conn):
    factories.user(conn, username="idle")
    shown = deployer("run", "calculate_badges", "--dry-run", "--verbose", "--now", NOW.isoformat(), dsn=db)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == "calculate_badges: a run would award, revoke or expire no badge"
    assert "┃" not in shown.stdout  # no empty table
