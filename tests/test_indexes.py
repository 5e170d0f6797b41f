"""The job set's own indexes on the app's tables (deployer/indexes.py, sql/indexes/): built
concurrently after the deploy, listed by --plan, rebuilt when invalid or changed, dropped
when no job needs them and by uninstall, and used by the jobs' queries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deployer import install
from tests import factories
from tests.support import cli as deployer, run_in_batches

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
OURS = {
    "jobset_posts_live_content_idx", "jobset_games_commence_idx", "jobset_posts_lost_picks_idx",
    "jobset_posts_live_picks_idx", "jobset_posts_soft_deleted_idx", "jobset_stories_soft_deleted_idx",
    "jobset_messages_soft_deleted_idx", "jobset_comments_soft_deleted_idx", "jobset_comments_live_by_post_idx",
    "jobset_bankrolls_last_reset_idx", "jobset_bets_pending_game_idx",
    "jobset_posts_user_created_idx", "jobset_posts_created_idx", "jobset_user_badges_active_badge_idx",
    "jobset_notifications_created_idx", "jobset_chats_group_created_idx",
    "jobset_posts_media_url_rev_idx", "jobset_posts_thumbnail_url_rev_idx", "jobset_messages_media_url_rev_idx",
    "jobset_stories_media_url_rev_idx", "jobset_users_avatar_url_rev_idx",
}


def job_indexes(conn) -> dict[str, dict]:
    rows = conn.execute("""
        SELECT c.relname, i.indisvalid, obj_description(c.oid, 'pg_class') AS note
          FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
         WHERE c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'jobset\\_%'
    """).fetchall()
    return {r["relname"]: r for r in rows}


def test_deploy_builds_each_index_once_and_valid(db, conn):
    have = job_indexes(conn)
    assert set(have) == OURS
    assert all(r["indisvalid"] and r["note"].startswith("snapbet job set (jobs) index ") for r in have.values())
    plan = deployer("deploy", "--plan", "--no-schedule", dsn=db)
    assert plan.returncode == 0 and "index" not in plan.stdout


def test_plan_lists_what_a_deploy_will_build_rebuild_and_drop(db, conn, test_manifest):
    conn.execute("DROP INDEX public.jobset_posts_live_picks_idx")
    conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'public.jobset_bankrolls_last_reset_idx'::regclass")
    conn.execute("COMMENT ON INDEX public.jobset_stories_soft_deleted_idx IS 'snapbet job set (jobs) index 0123'")
    conn.execute("COMMENT ON INDEX public.jobset_chats_group_created_idx IS NULL")  # restored without comments
    conn.execute("CREATE INDEX jobset_old_idx ON public.posts (created_at)")
    conn.execute("COMMENT ON INDEX public.jobset_old_idx IS 'snapbet job set (jobs) index 4567'")
    conn.execute("CREATE INDEX jobset_somebody_elses_idx ON public.posts (caption)")
    lines = deployer("deploy", "--plan", "--no-schedule", dsn=db).stdout.splitlines()
    assert [line for line in lines if " index " in line] == [
        "would create index jobset_posts_live_picks_idx (for expire_content), concurrently",
        "would rebuild index jobset_stories_soft_deleted_idx (its definition changed), concurrently",
        "would rebuild index jobset_bankrolls_last_reset_idx (an earlier concurrent build left it invalid), concurrently",
        "would rebuild index jobset_chats_group_created_idx (an index of that name lacks the job set's mark), "
        "concurrently",
        "would drop index jobset_old_idx (no job needs it), concurrently",
    ]
    install.deploy(db, test_manifest, with_schedule=False)
    have = job_indexes(conn)
    assert set(have) == OURS | {"jobset_somebody_elses_idx"}  # not marked as ours: left alone
    assert all(have[name]["indisvalid"] for name in OURS)
    assert have["jobset_stories_soft_deleted_idx"]["note"] != "snapbet job set (jobs) index 0123"
    assert (have["jobset_chats_group_created_idx"]["note"] or "").startswith("snapbet job set (jobs) index ")


def test_uninstall_drops_the_indexes_and_triggers_and_leaves_the_app_tables(db, conn):
    triggers = "SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE 'jobset\\_%'"
    assert conn.execute(triggers).fetchone()["n"] == 8  # cleanup_media's, two on each URL table
    result = deployer("uninstall", "--force", dsn=db)
    assert result.returncode == 0, result.stderr
    assert "drop index jobset_posts_live_picks_idx" in result.stdout
    assert job_indexes(conn) == {}
    assert conn.execute(triggers).fetchone()["n"] == 0
    assert conn.execute("SELECT to_regclass('public.posts') IS NOT NULL AS ok").fetchone()["ok"]


def test_an_hourly_run_with_nothing_due_reads_no_live_post(conn):
    """Many live posts and picks, none due: the run reads index pages, not the live rows."""
    author = factories.user(conn)
    game = factories.game(conn, commence_time=NOW + timedelta(days=2))
    bet = factories.bet(conn, author, game, created_at=NOW - timedelta(hours=1))
    conn.execute("""
        INSERT INTO public.posts (user_id, post_type, bet_id, media_url, created_at, expires_at)
        SELECT %(u)s, CASE WHEN g %% 10 = 0 THEN 'pick' ELSE 'content' END,
               CASE WHEN g %% 10 = 0 THEN %(b)s::uuid END, 'https://x/' || g, %(now)s, %(now)s + interval '1 day'
          FROM generate_series(1, 20000) AS g
    """, {"u": author, "b": bet, "now": NOW})
    conn.execute("ANALYZE")
    conn.execute("SELECT pg_stat_reset()")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    conn.execute("SELECT pg_stat_force_next_flush()")
    stats = conn.execute("""
        SELECT seq_scan, idx_tup_fetch FROM pg_stat_user_tables WHERE relid = 'public.posts'::regclass
    """).fetchone()
    # the picks phases start from the games that started (none), not from the 2,000 live picks
    assert stats["seq_scan"] == 0
    assert stats["idx_tup_fetch"] <= 100


def test_each_batch_of_the_comments_phase_reads_the_posts_it_takes_not_the_whole_window(conn):
    """300 posts deleted by the app since the previous run, a comment on each, in batches of
    10: the phase walks the window's posts in the order of jobset_posts_soft_deleted_idx and
    stops at each batch's limit, so it reads each post's entries about once, not every post
    of the window again for every batch (30 batches: some 9,000 entries). A post has two
    entries by then: SnapBet's trigger rewrites the post as its comment goes. The statistics
    were taken before the window's posts were deleted, as after a run that deleted many: a
    comment's post looked up through that index's predicate (deleted_at IS NOT NULL), which
    they make look nearly empty, read all of it for every comment."""
    author = factories.user(conn)
    conn.execute("""
        INSERT INTO public.posts (user_id, post_type, media_url, created_at, expires_at)
        SELECT %(u)s, 'content', 'https://x/' || g, %(now)s, %(now)s + interval '1 day'
          FROM generate_series(1, 20000) AS g
    """, {"u": author, "now": NOW})
    conn.execute("ANALYZE")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW - timedelta(hours=1),))
    conn.execute("""
        WITH p AS (
            INSERT INTO public.posts (user_id, post_type, media_url, created_at, expires_at, deleted_at)
            SELECT %(u)s, 'content', 'https://x/' || g, %(now)s - interval '1 day', %(now)s + interval '1 day',
                   %(now)s - interval '30 minutes' - g * interval '1 second'
              FROM generate_series(1, 300) AS g
            RETURNING id)
        INSERT INTO public.comments (post_id, user_id, content, created_at)
        SELECT p.id, %(u)s, 'nice', %(now)s - interval '1 day' FROM p
    """, {"u": author, "now": NOW})
    conn.execute("SELECT pg_stat_reset()")
    run = run_in_batches(conn, "expire_content", NOW, 10)
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert run["details"]["comments"] == 300 and run["batches"] >= 30
    read = conn.execute("SELECT idx_tup_read FROM pg_stat_user_indexes"
                        " WHERE indexrelname = 'jobset_posts_soft_deleted_idx'").fetchone()["idx_tup_read"]
    assert 300 <= read <= 1_200


@pytest.mark.parametrize("stories", [250, 0])
def test_a_run_marks_the_index_entries_its_deletions_left_so_the_next_run_does_not_read_them(conn, stories):
    """250 content posts due among 20,000, in batches of 100: the posts phase is done in the
    third batch, which then walks the index of the live posts by expiry again from its start
    (SnapBet's idx_posts_expires here, or the job set's own: the statement is the one that
    looks for due posts as a run begins, so the next run reads the same index). That marks
    dead the entries of the 200 posts deleted by the first two batches, committed. With 250
    stories due the run has a fourth batch, which marks the third's 50: the next run reads
    none of them, as the run after it. Without stories the third batch is the run's last and
    the next run reads its 50, the entries of one batch's writes; without the walk it read
    all 250, each on its heap page (bench/README.md: cost_follows_work). Autovacuum stays off
    these tables: its ANALYZE holds a snapshot under which the deleted posts are not yet dead
    to every transaction."""
    for table in ("posts", "stories"):
        conn.execute(f"ALTER TABLE public.{table} SET (autovacuum_enabled = false)")
    author = factories.user(conn)
    conn.execute("""
        INSERT INTO public.posts (user_id, post_type, media_url, created_at, expires_at)
        SELECT %(u)s, 'content', 'https://x/' || g, %(now)s - interval '1 day',
               CASE WHEN g <= 250 THEN %(now)s - g * interval '1 second' ELSE %(now)s + interval '1 day' END
          FROM generate_series(1, 20000) AS g
    """, {"u": author, "now": NOW})
    conn.execute("""
        INSERT INTO public.stories (user_id, media_url, created_at, expires_at)
        SELECT %(u)s, 'https://x/s' || g, %(now)s - interval '1 day', %(now)s - g * interval '1 second'
          FROM generate_series(1, %(n)s) AS g
    """, {"u": author, "now": NOW, "n": stories})
    conn.execute("ANALYZE public.posts, public.stories")
    read = ("SELECT sum(idx_tup_read) AS n FROM pg_stat_user_indexes"
            " WHERE indexrelname IN ('idx_posts_expires', 'jobset_posts_live_content_idx')")
    conn.execute("SELECT pg_stat_reset()")
    run = run_in_batches(conn, "expire_content", NOW, 100)
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert run["details"]["posts"] == 250 and run["details"]["stories"] == stories
    assert run["batches"] == (6 if stories else 3)
    # 250 live entries as the run began, 250 by the batches' walk, 250 by the third batch's
    # look (the 50 it deleted itself it cannot mark yet), and those 50 by the fourth's
    assert conn.execute(read).fetchone()["n"] >= (800 if stories else 750)
    after = []
    for _ in range(2):  # the next run, then the one after it, which meets no entry of this run
        conn.execute("SELECT pg_stat_reset()")
        nothing = run_in_batches(conn, "expire_content", NOW, 100)
        conn.execute("SELECT pg_stat_force_next_flush()")
        assert nothing["affected_count"] == 0 and nothing["status"] == "succeeded"
        after.append(conn.execute(read).fetchone()["n"])
    assert after[0] - after[1] == (0 if stories else 50) and after[1] < 100
