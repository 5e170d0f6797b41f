"""Every job on the reference schema as SnapBet has it, its triggers firing (docs/rules.md: The app's data, The runner):
seeded data, each deployed job's dry run and then its real run through jobs.run_job at the
same moment. Each run succeeds, reports what its dry run predicted, and leaves what
SnapBet's triggers make of its writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deployer import seed
from tests import factories
from tests.support import call_job

SEED_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday
MOMENTS = {  # a day of content has expired, games have ended; the next Monday every bankroll is due
    "expire_content": SEED_NOW + timedelta(days=1),
    "settle_games": SEED_NOW + timedelta(days=1),
    "rollup_stats": SEED_NOW + timedelta(days=1, hours=1),
    "calculate_badges": SEED_NOW + timedelta(days=1, hours=2),
    "reset_bankrolls": SEED_NOW + timedelta(days=5, hours=1),
    "cleanup": SEED_NOW + timedelta(days=20),
    "cleanup_media": SEED_NOW + timedelta(days=20),
}


@pytest.fixture
def seeded(conn, test_manifest):
    seed.seed(conn, users=300, seed=11, now=SEED_NOW, variables=test_manifest.template_vars())
    conn.execute("UPDATE jobs.job_registry SET batch_size = 50, min_batch_size = 10")
    # The seed has a few unsettled games: small batches, so that settling them takes several.
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 1 WHERE job_name = 'settle_games'")
    return conn


def _app_triggers(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                        " WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal").fetchone()["n"]


def _run(conn, job: str) -> tuple[dict, dict]:
    """The dry run's result and the real run's job_executions row, at the job's moment."""
    now = MOMENTS[job]
    preview = call_job(conn, job, now, dry_run=True)
    conn.execute("CALL jobs.run_job(%s, %s::timestamptz)", (job, now))
    row = conn.execute("SELECT * FROM jobs.job_executions WHERE job_name = %s ORDER BY id DESC LIMIT 1",
                       (job,)).fetchone()
    return preview, row


def test_every_deployed_job_runs_for_real_with_snapbets_triggers(seeded, test_manifest):
    conn = seeded
    assert _app_triggers(conn) >= 12  # SnapBet's triggers are in place (docs/rules.md: The app's data)
    deployed = [r["job_name"] for r in conn.execute("SELECT job_name FROM jobs.job_registry ORDER BY 1")]
    assert deployed == sorted(test_manifest.jobs)
    for job in test_manifest.jobs:  # the manifest's order: settlement before the weekly reset
        preview, row = _run(conn, job)
        assert (job, row["status"], row["error"]) == (job, "succeeded", None)
        assert preview["affected"] > 0, f"{job} found nothing to do on the seed"
        assert (row["affected_count"], row["details"]) == (preview["affected"], preview["details"]), job
        assert row["batches"] > 1, "a real run of several batches"
        again = call_job(conn, job, MOMENTS[job], dry_run=True)
        assert again["affected"] == 0, f"{job} left work undone"
        assert factories.conservation_violations(conn) == [], job


def test_expire_content_moves_comment_counts_the_way_the_triggers_do(seeded):
    """A comment soft-deleted by the run lowers its post's comment_count by one (floored at
    0); a comment hard-deleted lowers it twice (SnapBet has two counting triggers); a
    hard-deleted post takes its comments, reactions and pick actions with it."""
    conn = seeded
    before = {r["id"]: r for r in conn.execute("""
        SELECT p.id, p.comment_count,
               count(c.id) FILTER (WHERE c.deleted_at IS NULL) AS live,
               count(c.id) FILTER (WHERE c.deleted_at < %(cut)s) AS old_deleted
          FROM public.posts p LEFT JOIN public.comments c ON c.post_id = p.id
         GROUP BY p.id""", {"cut": MOMENTS["expire_content"] - timedelta(days=30)})}
    _, row = _run(conn, "expire_content")
    assert row["status"] == "succeeded" and row["details"]["comments"] > 0
    after = {r["id"]: r for r in conn.execute("""
        SELECT p.id, p.comment_count, count(c.id) FILTER (WHERE c.deleted_at IS NULL) AS live
          FROM public.posts p LEFT JOIN public.comments c ON c.post_id = p.id GROUP BY p.id""")}
    moved = 0
    for post_id, now in after.items():
        was = before[post_id]
        soft = was["live"] - now["live"]
        expected = max(was["comment_count"] - soft, 0)
        for _ in range(was["old_deleted"]):
            expected = max(expected - 1, 0)
            expected = max(expected - 1, 0)
        assert now["comment_count"] == expected, post_id
        moved += soft
    # the live comments of posts soft-deleted long ago went too, before their post was hard-deleted
    gone_with_their_post = sum(was["live"] for post_id, was in before.items() if post_id not in after)
    assert moved + gone_with_their_post == row["details"]["comments"]
    orphans = conn.execute("""
        SELECT (SELECT count(*) FROM public.reactions r WHERE NOT EXISTS (SELECT 1 FROM public.posts p WHERE p.id = r.post_id))
             + (SELECT count(*) FROM public.pick_actions a WHERE NOT EXISTS (SELECT 1 FROM public.posts p WHERE p.id = a.post_id))
             AS n""").fetchone()["n"]
    assert orphans == 0
    assert conn.execute("SELECT count(*) AS n FROM public.posts WHERE comment_count < 0").fetchone()["n"] == 0


def test_reset_moves_season_high_and_low_to_the_new_balance_only(seeded):
    """The balance trigger leaves season_high and season_low at the new balance, and the
    updated_at trigger stamps each reset bankroll with the moment it was written."""
    conn = seeded
    started = conn.execute("SELECT clock_timestamp() AS t").fetchone()["t"]
    _, row = _run(conn, "reset_bankrolls")
    assert row["status"] == "succeeded"
    wrong = conn.execute("""
        SELECT user_id, balance, season_high, season_low FROM public.bankrolls
         WHERE last_reset = %s AND (season_high <> balance OR season_low <> balance OR balance <> weekly_deposit)
    """, (MOMENTS["reset_bankrolls"],)).fetchall()
    assert wrong == []
    stamps = conn.execute("SELECT count(*) AS n, min(updated_at) AS first FROM public.bankrolls WHERE last_reset = %s",
                          (MOMENTS["reset_bankrolls"],)).fetchone()
    assert stamps["n"] == row["affected_count"] and stamps["first"] >= started
