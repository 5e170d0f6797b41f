"""daily_windows: the two daily jobs that look, after a complete run, only at what can have
become due since it (docs/rules.md: cleanup, cleanup_media). cleanup_media checks the storage
objects whose grace ended since, or whose URL a row of the app dropped since (jobs.media_dropped,
the job set's triggers); cleanup's chats phase checks the group chats whose grace ended since,
or whose last message moved since. On a fresh clone of the template, each job runs three
times: its first run (no recorded moment: every object, every group chat), the run a day later
after the app's day, and the run a day after that, with nothing new. The app's day is written
with the stamps it would have had then: the journal's and the chats' stamps are the real
clock's, which is later than the bench's NOW."""

from __future__ import annotations

from datetime import timedelta

import time

from bench.common import CALL_JOB, NOW, Context, Section, connect, last_run

# Each job, and the tables its window is about: the buffer accesses (heap and indexes) of
# those are what the goal compares, not the run's own bookkeeping nor a new backend's catalog.
JOBS = {"cleanup_media": ("storage.objects", "public.posts", "public.messages", "public.stories", "public.users"),
        "cleanup": ("public.chats", "public.chat_members")}
DAY = timedelta(days=1)
GOAL = 0.1  # a run with nothing new: at most this share of the first run's buffer accesses
RUNS = (("first run (every row)", NOW), ("next day (its window)", NOW + DAY), ("a day with nothing new", NOW + 2 * DAY))
BLOCKS = """
SELECT coalesce(sum(coalesce(heap_blks_hit, 0) + coalesce(heap_blks_read, 0) + coalesce(idx_blks_hit, 0)
                    + coalesce(idx_blks_read, 0)), 0)
  FROM pg_catalog.pg_statio_all_tables WHERE relid = ANY (%s::regclass[])
"""

# The app's day between the first run and the next: the posts soft-deleted long ago are
# hard-deleted (expire_content's hard delete), some users change their avatar; the journal
# rows their triggers wrote are stamped with the day's time.
APP_DAY = [
    "DELETE FROM posts WHERE deleted_at IS NOT NULL",
    "UPDATE users SET avatar_url = replace(avatar_url, '.png', '-new.png') WHERE avatar_url LIKE '%%00.png'",
    "UPDATE jobs.media_dropped SET dropped_at = %(day)s",
]


def one_clone(ctx: Context, template: str) -> list[dict]:
    rows = []
    with ctx.bench.clone(template) as dsn:
        for (label, at), setup in zip(RUNS, (None, APP_DAY, None)):
            if setup:
                with connect(dsn) as conn:
                    for statement in setup:
                        conn.execute(statement, {"day": NOW + DAY / 2})
            for job, tables in JOBS.items():
                with connect(dsn) as conn:  # the job's backend flushes its statistics before they are read
                    conn.execute("SELECT pg_stat_force_next_flush()")
                    before = conn.execute(BLOCKS, (list(tables),)).fetchone()[0]
                    started = time.perf_counter()
                    conn.execute(CALL_JOB, (job, at))
                    seconds = time.perf_counter() - started
                    conn.execute("SELECT pg_stat_force_next_flush()")
                    blocks = conn.execute(BLOCKS, (list(tables),)).fetchone()[0] - before
                record = last_run(dsn, job)
                rows.append({"job": job, "run": label, "ms": round(seconds * 1000), "blocks": int(blocks),
                             "affected": record["affected"], "details": record["details"],
                             "status": record["status"]})
    return rows


def daily_windows(ctx: Context) -> Section:
    n = ctx.scale.posts
    section = Section("daily_windows", f"cleanup_media and cleanup's chats, day by day ({n:,} posts)",
                      [("job", "job"), ("run", "run"), ("affected", "rows changed"), ("ms", "time (ms)"),
                       ("blocks", "buffer accesses of its tables")])
    template = ctx.templates.windows(n)
    runs = [one_clone(ctx, template) for _ in range(ctx.runs)]
    for i, row in enumerate(runs[-1]):
        row["ms"] = sorted(r[i]["ms"] for r in runs)[len(runs) // 2]
        section.rows.append(row)
    for job in JOBS:
        first, _, idle = (r for r in section.rows if r["job"] == job)
        share = idle["blocks"] / first["blocks"]
        verdict = "met" if share <= GOAL else "missed"
        section.goals.append(
            f"daily_windows, {job}: a run with nothing new ≤ {GOAL:.0%} of the first run's buffer accesses — "
            f"{verdict} ({idle['blocks']:,.0f} against {first['blocks']:,.0f}, {share:.1%}; "
            f"{idle['ms']:,} ms against {first['ms']:,} ms)")
    section.notes.append(
        f"Template (bench/data.py, windows_<n>): {n:,} live posts with their files, {n // 10:,} users with avatars, "
        f"{n // 100:,} posts soft-deleted long ago (their files still named by them), {n // 100:,} old files nothing "
        f"names, {n // 1000:,} uploads whose 7-day grace ends during the next day; {n // 10:,} group chats with a "
        f"member, {n // 1000:,} old ones without, {n // 1000:,} made 30 minutes before the first run without "
        "members. The app's day: the soft-deleted posts are hard-deleted, every 100th user changes avatar. "
        "Buffer accesses of its tables: heap and index blocks, hit or read, of the tables each job's window is "
        "about (pg_statio_all_tables; cleanup_media: storage.objects and the four URL tables; cleanup: chats "
        "and chat_members), during the run.")
    return section
