"""`deployer simulate` (README, "Simulating a window"): a week of the seeded demo replayed on
a copy, checking at every fire what the jobs promise (docs/rules.md: Money, The jobs); the
same window again on a fresh copy; a week across a change of clock; the source untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from deployer import manifest as manifest_mod
from deployer import seed as seed_mod
from deployer import simulate
from deployer.manifest import run_order
from tests import factories
from tests.conftest import empty_database, fresh_database
from tests.support import cli

SUNDAY = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)  # the demo's moment: a Sunday evening
USERS = 40


@contextmanager
def seeded(admin_dsn: str, manifest: manifest_mod.Manifest, now: datetime) -> Iterator[str]:
    """A source: the app schema and job set of the template, seeded at `now`."""
    with fresh_database(admin_dsn) as (_, dsn), psycopg.connect(dsn, autocommit=True) as conn:
        seed_mod.seed(conn, users=USERS, seed=3, now=now, variables=manifest.template_vars())
        yield dsn


def manifest_with(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> manifest_mod.Manifest:
    """sql/jobs.toml with some lines replaced, loaded in the tests' environment."""
    text = (manifest_mod.sql_root() / "jobs.toml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return manifest_mod.load(path, "test")


class Promises:
    """What the jobs promise, checked after every fire on the copy."""

    def __init__(self, start: datetime):
        self.start = start
        self.settled: dict = {}
        self.checked = 0

    def __call__(self, dsn: str, step: simulate.Step) -> None:
        assert step.status == "succeeded", step
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
            assert factories.conservation_violations(conn) == [], step
            self._settled_once(conn, step)
            assert self._badge_changes_without_history(conn) == 0, step
            assert self._orphans(conn, step) == {}, step
        self.checked += 1

    def _settled_once(self, conn, step) -> None:
        """A bet settled stays as it was settled: never graded or paid a second time."""
        now = {r["id"]: (r["status"], r["settled_at"], r["actual_win"]) for r in conn.execute(
            "SELECT id, status::text, settled_at, actual_win FROM bets WHERE status <> 'pending'")}
        for bet, was in self.settled.items():
            assert now.get(bet) == was, (step, bet)
        self.settled = now

    def _badge_changes_without_history(self, conn) -> int:
        """Each badge earned or lost since the window began, without its badge_history row; and
        history rows of the window beyond those changes."""
        row = conn.execute("""
            SELECT (SELECT count(*) FROM user_badges b WHERE b.earned_at >= %(s)s AND NOT EXISTS (
                        SELECT 1 FROM badge_history h WHERE (h.user_id, h.badge_id, h.action, h.created_at)
                                                            = (b.user_id, b.badge_id, 'earned', b.earned_at)))
                 + (SELECT count(*) FROM user_badges b WHERE b.lost_at >= %(s)s AND NOT EXISTS (
                        SELECT 1 FROM badge_history h WHERE (h.user_id, h.badge_id, h.action, h.created_at)
                                                            = (b.user_id, b.badge_id, 'lost', b.lost_at)))
                 + abs((SELECT count(*) FROM badge_history WHERE created_at >= %(s)s)
                       - (SELECT count(*) FROM user_badges WHERE earned_at >= %(s)s)
                       - (SELECT count(*) FROM user_badges WHERE lost_at >= %(s)s)) AS n
            """, {"s": self.start}).fetchone()
        return row["n"]

    def _orphans(self, conn, step) -> dict[str, int]:
        """Runs left `running`, and after expire_content live comments of deleted posts."""
        counts = {"running runs": conn.execute(
            "SELECT count(*) AS n FROM jobs.job_executions WHERE status = 'running'").fetchone()["n"]}
        if step.job == "expire_content":
            counts["live comments of deleted posts"] = conn.execute(
                "SELECT count(*) AS n FROM comments c JOIN posts p ON p.id = c.post_id"
                " WHERE c.deleted_at IS NULL AND p.deleted_at IS NOT NULL").fetchone()["n"]
        return {k: v for k, v in counts.items() if v}


def test_a_week_of_the_demo_keeps_every_promise_and_replays_the_same(admin_dsn, template_dsn, test_manifest):
    start, end = SUNDAY, SUNDAY + timedelta(days=7)
    jobs = simulate.chosen(test_manifest, None)
    with seeded(admin_dsn, test_manifest, SUNDAY) as source:
        promises = Promises(start)
        with empty_database(admin_dsn) as into:
            rules = simulate.check_source(source, test_manifest)
            first = simulate.simulate(source, test_manifest, start, end, jobs, rules, into=into, observe=promises)
        with empty_database(admin_dsn) as into:
            second = simulate.simulate(source, test_manifest, start, end, jobs, rules, into=into)
    assert promises.checked == len(first.steps)
    # Every fire of the week: 168 hourly runs of four jobs, 336 of settle_games, 7 of each daily job.
    counts = {row["job"]: row["fires"] for row in first.summary()}
    assert counts == {"expire_content": 168, "settle_games": 336, "rollup_stats": 168, "calculate_badges": 168,
                      "reset_bankrolls": 168, "cleanup": 7, "cleanup_media": 7}
    order = run_order(test_manifest)
    assert [(s.at, order.index(s.job)) for s in first.steps] == sorted((s.at, order.index(s.job))
                                                                       for s in first.steps)
    # Sunday night's settlements feed the stats and the badges; Monday's reset follows.
    by = {(s.at, s.job): s for s in first.steps}
    assert by[(SUNDAY, "settle_games")].details["games"] > 0
    assert by[(SUNDAY + timedelta(minutes=15), "rollup_stats")].details["changed"] > 0
    assert by[(SUNDAY + timedelta(minutes=20), "calculate_badges")].affected > 0
    resets = [s for s in first.steps if s.job == "reset_bankrolls" and s.affected]
    monday = datetime(2026, 11, 30, 0, 5, tzinfo=timezone.utc)
    assert resets[-1].at == monday and resets[-1].affected == USERS
    assert all(s.at < monday for s in resets[:-1])
    # The same window on a fresh copy: the same timeline.
    assert [s.key() for s in second.steps] == [s.key() for s in first.steps]


def test_fires_follow_the_clock_across_a_change_of_time_zone_offset(admin_dsn, template_dsn, tmp_path):
    """New York leaves summer time on Sunday 1 November 2026 (02:00 EDT becomes 01:00 EST):
    pg_cron 1.5 and later, reading schedules in that zone, run the 03:00 cleanup an hour
    later in UTC from then on and the hour that comes twice twice; the week (in `timezone`)
    starts at Monday 00:00 EST, 05:00 UTC, where reset_bankrolls resets every bankroll."""
    york = manifest_with(tmp_path, "york.toml", ('timezone = "UTC"', 'timezone = "America/New_York"'))
    start, end = datetime(2026, 10, 31, 0, 0, tzinfo=timezone.utc), datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)
    jobs = simulate.chosen(york, ["cleanup,expire_content", "reset_bankrolls"])
    with seeded(admin_dsn, york, start) as source, empty_database(admin_dsn) as into:
        sim = simulate.simulate(source, york, start, end, jobs, simulate.CronRules("1.6", "America/New_York"),
                                into=into)
    at = lambda job: [s.at for s in sim.steps if s.job == job]  # noqa: E731
    utc = lambda *args: datetime(2026, *args, tzinfo=timezone.utc)  # noqa: E731
    assert at("cleanup") == [utc(10, 31, 7, 0), utc(11, 1, 8, 0), utc(11, 2, 8, 0)]
    # 1 November in New York lasts 25 hours, 04:00 to 05:00 UTC the next day: 25 hourly fires.
    assert len([t for t in at("expire_content") if utc(11, 1, 4, 0) <= t < utc(11, 2, 5, 0)]) == 25
    resets = [s for s in sim.steps if s.job == "reset_bankrolls" and s.affected]
    assert resets[-1].at == utc(11, 2, 5, 5) and resets[-1].affected == USERS
    assert all(s.status == "succeeded" for s in sim.steps)


def test_pg_cron_1_4_reads_every_schedule_in_utc_whatever_the_zone(db, tmp_path):
    york = manifest_with(tmp_path, "york.toml", ('timezone = "UTC"', 'timezone = "America/New_York"'))
    start, end = datetime(2026, 10, 31, 0, 0, tzinfo=timezone.utc), datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)
    found = simulate.fires(db, york, ["cleanup"], start, end, simulate.CronRules("1.4", "America/New_York"))
    assert [f.at for f in found] == [datetime(2026, 10, d, 3, 0, tzinfo=timezone.utc) for d in (31,)] + [
        datetime(2026, 11, d, 3, 0, tzinfo=timezone.utc) for d in (1, 2)]


def test_the_command_leaves_the_source_unchanged_and_says_what_it_did(admin_dsn, template_dsn, test_manifest,
                                                                      tmp_path):
    start = SUNDAY
    with seeded(admin_dsn, test_manifest, SUNDAY) as source, empty_database(admin_dsn) as into:
        before = simulate.table_checksums(source)
        done = cli("simulate", "--from", start.isoformat(), "--to", (start + timedelta(hours=6)).isoformat(),
                   "--into", into, "--picture", str(tmp_path / "sim.svg"), "--json", dsn=source)
        after = simulate.table_checksums(source)
    assert done.returncode == 0, done.stderr
    assert after == before
    assert "public.bets" in before and "jobs.job_executions" in before
    document = json.loads(done.stdout)
    assert document["from"] == start.isoformat() and document["cron_timezone"] == "GMT"
    assert "pg_dump of" in document["copy"] and "restored into" in document["copy"]
    assert len(document["timeline"]) == 6 + 12 + 6 * 3  # hourly x4, half-hourly, no daily job in the window
    assert {s["status"] for s in document["timeline"]} == {"succeeded"}
    assert document["picture"] == str(tmp_path / "sim.svg")
    svg = (tmp_path / "sim.svg").read_text()
    assert svg.startswith("<svg") and svg.count('class="run succeeded"') == len(document["timeline"])


def test_another_manifest_shows_which_fires_move_and_which_rows_end_different(admin_dsn, template_dsn,
                                                                              test_manifest, tmp_path):
    moved = manifest_with(tmp_path, "moved.toml", ('schedule = "*/30 * * * *"', 'schedule = "45 * * * *"'))
    start, end = SUNDAY, SUNDAY + timedelta(hours=3)
    sims = []
    with seeded(admin_dsn, test_manifest, SUNDAY) as source:
        for m in (test_manifest, moved):
            with empty_database(admin_dsn) as into:
                sims.append(simulate.simulate(source, m, start, end, simulate.chosen(m, None),
                                              simulate.CronRules("1.4", "GMT"), into=into, rows=True))
    found = simulate.compare(*sims)
    settle = [m for m in found["moved"] if m["job"] == "settle_games"]
    assert settle == [{"job": "settle_games",
                       "only_base": [(start + timedelta(minutes=30 * i)).isoformat() for i in range(6)],
                       "only_other": [(start + timedelta(minutes=45 + 60 * i)).isoformat() for i in range(3)]}]
    # Settled at 20:45 rather than 20:00, the bets and the balances end otherwise.
    tables = {t["table"] for t in found["tables"]}
    assert {"public.bets", "public.bankrolls"} <= tables
    assert simulate.compare(sims[0], sims[0]) == {"moved": [], "changed": [], "jobs": [], "tables": []}


def test_a_failed_run_is_red_in_the_picture_and_the_exit_code_is_1(admin_dsn, template_dsn, test_manifest, tmp_path):
    with seeded(admin_dsn, test_manifest, SUNDAY) as source, empty_database(admin_dsn) as into:
        with psycopg.connect(source, autocommit=True) as conn:  # the copy gets it: every reset fails there
            conn.execute("CREATE FUNCTION public.no_reset() RETURNS trigger LANGUAGE plpgsql AS"
                         " $$BEGIN RAISE EXCEPTION 'bankrolls are frozen'; END$$")
            conn.execute("CREATE TRIGGER no_reset BEFORE UPDATE ON public.bankrolls"
                         " FOR EACH ROW EXECUTE FUNCTION public.no_reset()")
        done = cli("simulate", "--from", SUNDAY.isoformat(), "--to", (SUNDAY + timedelta(hours=2)).isoformat(),
                   "--jobs", "reset_bankrolls", "--into", into, "--picture", str(tmp_path / "sim.svg"), dsn=source)
    assert done.returncode == 1, done.stderr
    assert "failed" in done.stdout and "bankrolls are frozen" in done.stdout
    assert (tmp_path / "sim.svg").read_text().count('class="run failed"') == 2  # 20:05 and 21:05


def test_what_a_fire_drops_is_journaled_at_the_fires_moment_not_the_servers_clock(db, conn, test_manifest):
    # The app's deletes stamp the journal of dropped URLs with now(); a simulated fire happens
    # at its own moment, so that the next simulated cleanup_media's window sees what it saw.
    at = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    user_id = factories.user(conn)
    factories.post(conn, user_id, created_at=at - timedelta(days=60), expires_at=at - timedelta(days=59),
                   deleted_at=at - timedelta(days=45), media_url="https://cdn.test/storage/v1/object/public/posts/a.jpg")
    conn.execute("INSERT INTO jobs.media_dropped (url, dropped_at) VALUES ('https://cdn.test/old.jpg', %s)",
                 (at - timedelta(days=1),))
    steps = simulate.replay(db, test_manifest, [simulate.Fire(at, "expire_content")])
    assert steps[0].details["hard_deleted"] == 1
    rows = conn.execute("SELECT url, dropped_at FROM jobs.media_dropped ORDER BY url").fetchall()
    assert [(r["url"], r["dropped_at"]) for r in rows] == [
        ("https://cdn.test/old.jpg", at - timedelta(days=1)),
        ("https://cdn.test/storage/v1/object/public/posts/a.jpg", at)]
