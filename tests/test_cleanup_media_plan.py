"""cleanup_media as PostgreSQL plans it while the job runs: the reference lookup
(jobs.media_referenced) probes each URL column through its jobset_*_rev_idx index, never by
reading the whole table once per storage object; and the window of a run after a complete
one is found in single passes over the objects and the journal of dropped URLs.

What lets this fail: the plans are the ones the server really runs, logged by auto_explain
from inside the SQL function (parameters unknown at planning, as when the job calls it; an
EXPLAIN of the body with literal values would show the planner the key), with the planner's
default settings (enable_seqscan = off would hide a plan that merely costs more), on the
seed's 3,000 users, analyzed. At that size PostgreSQL 17 planned the lookup as first written
(a CTE joined in every branch) as a sequential scan of every table; on much smaller tables a
sequential scan is the honest choice and the test would prove nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import seed as seed_mod
from tests.conftest import fresh_database
from tests.support import call_job, logged_plans, nodes, outline

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc)

# Every URL column the lookup reads, by the job set's index on its reversed text
# (sql/indexes/cleanup_media.sql).
URL_INDEXES = {
    "jobset_posts_media_url_rev_idx": "posts",
    "jobset_posts_thumbnail_url_rev_idx": "posts",
    "jobset_messages_media_url_rev_idx": "messages",
    "jobset_stories_media_url_rev_idx": "stories",
    "jobset_users_avatar_url_rev_idx": "users",
}
URL_TABLES = set(URL_INDEXES.values())
def lookup_plans(dsn: str, work: Callable[[psycopg.Connection], object]) -> list[dict]:
    """The plans of every lookup `work` makes. A lookup's plan is one that reads a URL table:
    only jobs.media_referenced does, in cleanup_media."""
    return [p["Plan"] for p in logged_plans(dsn, work)
            if any(n.get("Relation Name") in URL_TABLES for n in nodes(p["Plan"]))]


def not_probed(plan: dict) -> list[str]:
    """What in a lookup's plan is not one index probe per URL column."""
    wrong = [f"{n['Node Type']} on {n['Relation Name']}" for n in nodes(plan)
             if n.get("Relation Name") in URL_TABLES
             and n["Node Type"] not in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")]
    used = sorted(n["Index Name"] for n in nodes(plan) if "Index Name" in n)
    if used != sorted(URL_INDEXES):
        wrong.append(f"indexes {used}, not {sorted(URL_INDEXES)}")
    return wrong


@pytest.fixture(scope="module")
def seeded_template(admin_dsn, template_dsn, test_manifest) -> Iterator[str]:
    """A database with the seed's 3,000 users and what they posted, analyzed (statistics are
    copied with it); storage holds two objects older than the grace period, one a post's
    media and one that nothing points to. Seeded once for the module."""
    with fresh_database(admin_dsn) as (name, dsn):
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
            seed_mod.seed(conn, users=3000, seed=7, now=NOW, variables=test_manifest.template_vars())
            media = conn.execute("SELECT media_url FROM public.posts WHERE media_url LIKE '%/public/posts/%'"
                                 " ORDER BY id LIMIT 1").fetchone()["media_url"]
            conn.execute("DELETE FROM storage.objects")
            for object_name in (media.split("/public/posts/", 1)[1], "nobody/points-here.jpg"):
                conn.execute("INSERT INTO storage.objects (bucket_id, name, created_at) VALUES ('posts', %s, %s)",
                             (object_name, NOW - timedelta(days=8)))
            conn.execute("ANALYZE")
        yield name


@pytest.fixture
def seeded(admin_dsn, seeded_template) -> Iterator[str]:
    with fresh_database(admin_dsn, seeded_template) as (_, dsn):
        yield dsn


@pytest.mark.parametrize("how", ["dry run", "run_job"])
def test_each_url_column_is_probed_through_its_index_as_the_job_runs(seeded, how):
    def run(conn: psycopg.Connection) -> None:
        if how == "dry run":
            assert call_job(conn, "cleanup_media", NOW, dry_run=True)["details"] == {"queued": 1}
        else:
            conn.execute("CALL jobs.run_job('cleanup_media', %s)", (NOW,))
            assert conn.execute("SELECT count(*) AS n FROM jobs.media_purge_queue").fetchone()["n"] == 1

    plans = lookup_plans(seeded, run)
    assert plans, "no plan of jobs.media_referenced was logged"
    for plan in plans:
        assert not not_probed(plan), f"{not_probed(plan)}\n{outline(plan)}"


def test_the_check_sees_a_lookup_that_reads_whole_tables(seeded):
    """The same check on the same data, with the planner denied index scans, reports every
    URL column: so the test above fails when the lookup stops using its indexes."""
    def run(conn: psycopg.Connection) -> None:
        conn.execute("SET enable_indexscan = off")
        conn.execute("SET enable_bitmapscan = off")
        conn.execute("SELECT jobs.media_referenced('posts', 'nobody/points-here.jpg')")

    plans = lookup_plans(seeded, run)
    assert len(plans) == 1
    assert sorted(not_probed(plans[0])) == sorted([
        "Seq Scan on messages", "Seq Scan on posts", "Seq Scan on posts", "Seq Scan on stories", "Seq Scan on users",
        f"indexes [], not {sorted(URL_INDEXES)}"])


def rows_handled(plan: dict) -> int:
    """Rows that every node of an analyzed plan produced, over all its loops: the work a plan
    does, whatever the machine's speed."""
    return sum(round(n["Actual Rows"] * n["Actual Loops"]) for n in nodes(plan))


def test_the_window_is_one_pass_over_the_objects_and_the_journal_however_large_the_journal(db):
    """After a complete run, cleanup_media's window (the objects whose grace ended since, and
    those a URL dropped since names) is found in passes over the objects and the journal that
    each happen once. A journal too large to hash in work_mem once made the planner run its
    URL keys again for every object (an IN (subquery) beside the grace's test: the journal's
    keys materialized and read 400 times over here, and one run of the simulated week took
    407 s so)."""
    objects, urls = 400, 3000
    with psycopg.connect(db, autocommit=True, row_factory=dict_row) as conn:
        call_job(conn, "cleanup_media", NOW)
        conn.execute("INSERT INTO storage.objects (bucket_id, name, created_at)"
                     " SELECT 'posts', 'old/' || i || '.jpg', %s FROM generate_series(1, %s) AS i",
                     (NOW - timedelta(days=30), objects))
        conn.execute("INSERT INTO jobs.media_dropped (url, dropped_at)"
                     " SELECT 'https://cdn.test/storage/v1/object/public/posts/dropped/' || i || '.jpg', %s"
                     "   FROM generate_series(1, %s) AS i", (NOW + timedelta(hours=1), urls))
        conn.execute("ANALYZE storage.objects, jobs.media_dropped")

    def later(conn: psycopg.Connection) -> None:
        assert call_job(conn, "cleanup_media", NOW + timedelta(days=1), dry_run=True)["details"] == {"queued": 0}

    plans = [p for p in logged_plans(db, later, "work_mem = '64kB'", "auto_explain.log_analyze = on",
                                     "auto_explain.log_timing = off")
             if p["Query Text"].lstrip().startswith("v_window")]
    assert len(plans) == 1, "the window's statement was not logged once"
    assert rows_handled(plans[0]["Plan"]) <= 10 * (objects + urls), outline(plans[0]["Plan"])
