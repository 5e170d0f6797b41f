"""The benchmark suite at its smoke scale (about 60 s): every scenario runs on its own
throwaway cluster and reports values that make sense. Timings are not asserted; what
must hold whatever the machine is.

Marked `bench`: the default run (`.venv/bin/pytest`) leaves it out, CI runs it as a stage
of its own, `scripts/ci-bench` (`.venv/bin/pytest -m bench`)."""

from __future__ import annotations

import math

import pytest

from bench.__main__ import main
from bench.badges import BADGES
from bench.compare import COMPARED
from bench.scales import SCALES
from bench.suite import SCENARIOS
from bench.windows import RUNS
from deployer.local import bindir

SMOKE = SCALES["smoke"]

pytestmark = pytest.mark.bench


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    # pgbench comes with the server package scripts/bootstrap installs: its absence is a failure.
    assert (bindir() / "pgbench").is_file(), "pgbench is missing: run scripts/bootstrap"
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "smoke.md"
    report = main(["--scale", "smoke", "--runs", "1", "--out", str(out), "--plans", str(tmp / "plans")])
    return report, out.read_text(), tmp / "plans"


def test_every_scenario_reports_and_the_report_is_written(smoke):
    report, text, _ = smoke
    assert [s.scenario for s in report.sections] == list(SCENARIOS)
    assert all(s.rows and s.goals for s in report.sections)
    assert dict(report.settings)["fsync"] == "on" and dict(report.settings)["synchronous_commit"] == "on"
    assert report.cron_jobs == 0
    for heading in ["## Cluster", "## Templates", "## vs_bare", "## online", "## Goals", "| fsync | `on` |"]:
        assert heading in text


def test_ours_and_the_baselines_end_in_the_same_state(smoke):
    report, _, _ = smoke
    bare = {r["job"]: r for r in report.section("vs_bare").rows}
    assert list(bare) == list(COMPARED)
    assert bare["expire_content"]["rows"] == SMOKE.posts
    assert bare["reset_bankrolls"]["rows"] == SMOKE.users
    assert bare["settle_games"]["rows"] == SMOKE.pending_bets
    assert bare["rollup_stats"]["rows"] == SMOKE.stats_users
    # calculate_badges' rows are its badge and tier changes; the template's badges of last week
    # all expire, every 40th user has 10 or more picks, no bet is on this week's Sunday (to come).
    details = bare["calculate_badges"]["details"]
    assert bare["calculate_badges"]["rows"] == details["expired"] + details["tier_changes"] + sum(
        details[b]["awarded"] + details[b]["revoked"] for b in BADGES)
    assert details["expired"] == len(range(1, SMOKE.badge_users + 1, 3))
    assert details["most_active"]["holders"] == len(range(20, SMOKE.badge_users + 1, 40))
    assert details["sunday_sweep"]["holders"] == 0 and details["sunday_sweep"]["revoked"] > 0
    assert all(details[b]["holders"] > 0 and details[b]["revoked"] > 0 for b in BADGES[:-1])
    assert details["tier_changes"] > 0
    # cleanup: every user's fourth notification but every 100th user's is past 30 days; every
    # fourth run; u % 3 reactions on every fourth user's post (soft-deleted); the odd group
    # chats (DMs every 11th) without members, older than the grace (every 5th and 7th is not).
    n = SMOKE.cleanup_users
    details = bare["cleanup"]["details"]
    assert details == {"notifications": n - n // 100, "executions": len(range(4, n // 2 + 1, 4)),
                       "cron_run_details": 0, "reactions": sum(u % 3 for u in range(4, n + 1, 4)),
                       "chats": sum(1 for c in range(1, n // 10 + 1, 2) if c % 5 and c % 7 and c % 11),
                       "abandoned": 0}
    assert bare["cleanup"]["rows"] == sum(details.values())
    assert all(r["equal"] is True and r["ours_s"] > 0 and r["bare_s"] > 0 for r in bare.values())
    client = report.section("vs_row_client").rows
    assert [r["job"] for r in client] == list(COMPARED)
    assert all(r["equal"] is True and r["measured"] == "every row" and r["rows"] > 0 for r in client)


def test_online_measures_the_apps_updates_in_every_case(smoke):
    report, _, _ = smoke
    rows = {r["while"]: r for r in report.section("online").rows}
    assert set(rows) == {"no job", "ours", "ours, batch_time 40 milliseconds", "bare statement"}
    for row in rows.values():
        assert row["count"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"]


def test_cost_follows_work_runs_the_same_work_at_both_sizes_and_saves_plans(smoke):
    report, _, plans = smoke
    small, large, ratios = report.section("cost_follows_work").rows
    assert (small["posts"], large["posts"]) == SMOKE.cost_sizes
    assert small["affected"] == large["affected"] > SMOKE.cost_expired  # the due posts and what goes with them
    assert math.isfinite(ratios["work_ratio"]) and math.isfinite(ratios["idle_ratio"])
    assert all(row["again_s"] > 0 for row in (small, large))  # the run after the one with nothing to do
    for size in SMOKE.cost_sizes:
        text = (plans / f"smoke-cost-{size}.txt").read_text()
        assert "Query Text:" in text and "Buffers:" in text and "update posts" in text


def test_a_dry_run_writes_no_wal(smoke):
    report, _, _ = smoke
    rows = {r["job"]: r for r in report.section("dry_run").rows}
    assert rows["expire_content"]["affected"] == SMOKE.posts
    assert rows["reset_bankrolls"]["affected"] == SMOKE.users
    assert all(r["own_wal_bytes"] == 0 for r in rows.values())
    assert all(r["real_wal_bytes"] > 0 for r in rows.values())  # the same count sees a real run's writes


def test_client_rss_is_measured_at_both_sizes(smoke):
    report, _, _ = smoke
    rows = report.section("client_rss").rows
    assert len(rows) == 4
    assert all(10 < r["rss_mib"] < 1000 for r in rows)


def test_unanalyzed_runs_every_job_without_statistics_and_it_does_the_same_work(smoke):
    report, _, _ = smoke
    bare = {r["job"]: r for r in report.section("vs_bare").rows}
    rows = report.section("unanalyzed").rows
    demo = f"demo seed, {SMOKE.demo_users:,} users"
    assert [(r["data"], r["job"]) for r in rows] == [("vs_bare", j) for j in COMPARED] + [(demo, j) for j in COMPARED]
    for row in rows:  # the plans may differ, never what the run changes
        assert (row["status"], row["rows"]) == (row["analyzed_status"], row["analyzed_rows"]) == (
            "succeeded", bare[row["job"]]["rows"] if row["data"] == "vs_bare" else row["rows"])
        assert row["analyzed_s"] > 0 and row["unanalyzed_s"] > 0
    on_demo = {r["job"]: r["rows"] for r in rows if r["data"] == demo}
    assert on_demo["expire_content"] > 0 and on_demo["rollup_stats"] > 0  # the seed's hour has work


def test_settle_batches_credits_each_user_once_per_batch_that_holds_the_users_bets(smoke):
    report, _, _ = smoke
    rows = report.section("settle_batches").rows
    users = SMOKE.pending_bets // 10  # bench/data.py: fill_settle, 10 bets a user
    games = SMOKE.pending_bets // 50
    assert [r["batches_of"] for r in rows] == ["adaptive (manifest)", f"{games:,} (every game)"]
    assert all(r["status"] == "succeeded" for r in rows)
    adaptive, whole = rows
    assert whole["updates"] == users  # one batch: each user's bankroll once, as the bare statement
    assert users < adaptive["updates"] <= SMOKE.pending_bets  # its batches split a user's bets


def test_the_daily_windows_look_at_what_changed_since_the_previous_run(smoke):
    """cleanup_media: the old orphans on the first run; the next day, the files of the posts
    hard-deleted, of the avatars changed and the uploads whose grace ended; then nothing.
    cleanup: the old empty group chats, then those made just before the first run."""
    report, _, _ = smoke
    rows = {(r["job"], r["run"]): r for r in report.section("daily_windows").rows}
    n = SMOKE.posts
    media = [rows[("cleanup_media", label)] for label, _ in RUNS]
    chats = [rows[("cleanup", label)] for label, _ in RUNS]
    assert all(r["status"] == "succeeded" for r in media + chats)
    assert [r["affected"] for r in media] == [n // 100, n // 100 + n // 10 // 100 + n // 1000, 0]
    assert [r["details"]["chats"] for r in chats] == [n // 1000, n // 1000, 0]
    # nothing new: storage.objects read once, no URL looked up; every object looked up at first
    assert media[2]["blocks"] < media[0]["blocks"] / 10
    assert chats[2]["blocks"] < chats[0]["blocks"]
