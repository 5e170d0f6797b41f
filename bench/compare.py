"""vs_bare and vs_row_client: our run (CALL jobs.run_job) against the bare statement and
against a row-at-a-time client, each run on a fresh clone, the two interleaved run by run.
Both measure COMPARED: the jobs of every scenario (JOBS), the two over bets, the badges and
cleanup."""

from __future__ import annotations

from datetime import datetime

from bench import baselines
from bench.common import CALL_JOB, DEMO_RUN_AT, NOW, Context, Section, connect, last_run, measured, median

JOBS = ("expire_content", "reset_bankrolls")  # every scenario's (dry_run and client_rss too)
COMPARED = (*JOBS, "settle_games", "rollup_stats", "calculate_badges", "cleanup")
BARE_GOAL = 1.3
CLIENT_GOAL = 40.0

# What the report says of each job's data and baseline (`s`: the scale).
BARE_NOTES = {
    "expire_content": "expire_content: {s.posts:,} content posts, all expired; the bare statement is the posts rule "
                      "(`UPDATE posts SET deleted_at = now WHERE deleted_at IS NULL AND post_type IN ('content', "
                      "'outcome') AND expires_at <= now`).",
    "reset_bankrolls": "reset_bankrolls: {s.users:,} users with a bankroll due and one bet each, every second one "
                       "pending; the bare statement is one statement of CTEs: the bankroll update with the week "
                       "appended to weeklyHistory, the pending bets cancelled, the notifications inserted.",
    "settle_games": "settle_games: {s.pending_bets:,} pending bets (its rows: bets), 50 a game, every 20th game "
                    "cancelled; spread, total and moneyline bets with whole and half lines, so some push. The bare "
                    "statement grades every pending bet of the finished games and, in data-modifying CTEs, updates "
                    "the bets, credits each user's bankroll once and inserts the bet_won / bet_lost notifications "
                    "(it holds no game back: every bet here can be graded).",
    "rollup_stats": "rollup_stats: {s.stats_users:,} users with 8 bets each, picks tailed and faded, user_stats "
                    "empty (the first run: a full recompute); the bare statement is one INSERT … SELECT … ON "
                    "CONFLICT over every user, with the job's definitions.",
    "calculate_badges": "calculate_badges: {s.badge_users:,} users with this week's bets, picks, tails and fades, "
                        "older posts, and badges of this week (some no longer earned) and of last week (to "
                        "expire); user_effect_tiers empty. Its rows: badge changes (awarded, revoked, expired) "
                        "and tier changes, the job's affected. The bare statement computes the eight badges of "
                        "every user with the job's definitions and, in data-modifying CTEs, expires and revokes, "
                        "awards, writes badge_history and upserts the tiers that change.",
    "cleanup": "cleanup: {s.cleanup_users:,} users, each with 4 notifications (one older than 30 days but every "
               "100th user's) and a post (every fourth soft-deleted, 0–2 reactions on each); half as many "
               "finished job runs (a quarter older than 30 days); a tenth as many chats, group chats with and "
               "without members, some in the 1-hour grace. No pg_cron history in this database, no running "
               "runs. The bare statement deletes, in data-modifying CTEs, the old notifications and finished "
               "runs, the reactions on soft-deleted posts (SnapBet's trigger lowers reaction_count) and the "
               "memberless group chats older than the grace.",
}
CLIENT_NOTES = {
    "expire_content": "expire_content: the demo seed (`deployer seed`) of {s.demo_users:,} users at seed + 1 day; "
                      "the client selects each rule's candidates in the job's order, then runs one autocommitted "
                      "UPDATE or DELETE by id per row.",
    "reset_bankrolls": "reset_bankrolls: the demo seed at the next Monday; the client runs the bare statement "
                       "narrowed to one user, one round trip per user.",
    "settle_games": "settle_games: its vs_bare template; the client selects the finished games with pending bets, "
                    "then per game its pending bets, and per bet runs three statements (the bet, its bankroll, its "
                    "bet_won / bet_lost notification), one transaction per game.",
    "rollup_stats": "rollup_stats: its vs_bare template; the client selects the users with graded bets, then per "
                    "user three SELECTs (totals, the won and lost outcomes in order for the streaks, what others "
                    "made on the user's picks) and one autocommitted upsert.",
    "calculate_badges": "calculate_badges: its vs_bare template; the client reads the week's best profit, then "
                        "per user five SELECTs (the week's bets, what others made on the user's picks, the user's "
                        "posts, the active badges, the tier) and per change an UPDATE or INSERT of user_badges "
                        "and a badge_history row, and the tier upserted, one transaction per user.",
    "cleanup": "cleanup: its vs_bare template; the client selects each phase's candidates in the job's order "
               "(notifications, runs, reactions on soft-deleted posts, memberless group chats), then runs one "
               "DELETE by id per row, committing every 10 rows.",
}


def ours(ctx: Context, template: str, job: str, now, check: bool,
         before: tuple[str, ...] = ()) -> tuple[dict, dict, str | None]:
    """One run of ours on a fresh clone, after the statements `before` (unmeasured): its
    measures (seconds, WAL, buffers), the run's record, and (when `check`) the end state's hash."""
    with ctx.bench.clone(template) as dsn:
        if before:
            with connect(dsn) as conn:
                for statement in before:
                    conn.execute(statement)
        measures = measured(dsn, CALL_JOB, (job, now))
        return measures, last_run(dsn, job), baselines.state_hash(dsn, job) if check else None


def bare(ctx: Context, template: str, job: str, check: bool) -> tuple[dict, str | None]:
    with ctx.bench.clone(template) as dsn:
        measures = measured(dsn, *baselines.bare_statement(ctx.manifest, job, NOW))
        return measures, baselines.state_hash(dsn, job) if check else None


def compared(ctx: Context) -> list[str]:
    """The jobs to compare: COMPARED, or those the suite was asked for (--jobs)."""
    return [job for job in COMPARED if not ctx.jobs or job in ctx.jobs]


def rows_changed(job: str, record: dict) -> int:
    """The rows a run changed: its affected count (calculate_badges: badge and tier changes),
    except settle_games' (games): its bets."""
    if job == "settle_games":
        return sum(record["details"].get(k, 0) for k in ("won", "lost", "push", "cancelled"))
    return record["affected"]


def unfinished(record: dict) -> str:
    """A warning for a goal line when our run did not finish (e.g. it hit its time budget)."""
    if record["status"] == "succeeded":
        return ""
    return f"; WARNING: our run ended {record['status']} after {record['affected']:,} rows, so it did less work"


def per_row(runs: list[dict], key: str, rows: int) -> float:
    return median([r[key] for r in runs]) / max(rows, 1)


def vs_bare(ctx: Context) -> Section:
    s = ctx.scale
    section = Section("vs_bare", "Ours against the bare statement",
                      [("job", "job"), ("rows", "rows changed"), ("ours_s", "ours"), ("bare_s", "bare statement"),
                       ("ratio", "ours / bare"), ("batches", "our batches"), ("wal", "WAL per row, ours / bare"),
                       ("blocks", "buffer accesses per row, ours / bare"), ("equal", "end states equal")])
    for job in compared(ctx):
        template = ctx.templates.for_job(job, s)
        mine, theirs = [], []
        for run in range(ctx.runs):  # interleaved, so that drift hits both alike
            measures, record, ours_hash = ours(ctx, template, job, NOW, check=run == 0)
            mine.append(measures)
            measures, bare_hash = bare(ctx, template, job, check=run == 0)
            theirs.append(measures)
            if run == 0:
                equal = ours_hash == bare_hash
        rows = rows_changed(job, record)
        ours_s, bare_s = (median([r["seconds"] for r in runs]) for runs in (mine, theirs))
        wal = [per_row(runs, "wal", rows) for runs in (mine, theirs)]
        blocks = [per_row(runs, "blocks", rows) for runs in (mine, theirs)]
        section.rows.append({"job": job, "rows": rows, "ours_s": ours_s, "bare_s": bare_s, "ratio": ours_s / bare_s,
                             "batches": record["batches"], "wal": f"{wal[0]:,.0f} / {wal[1]:,.0f} B",
                             "blocks": f"{blocks[0]:.1f} / {blocks[1]:.1f}", "equal": equal,
                             "details": record["details"]})
        verdict = "met" if ours_s / bare_s <= BARE_GOAL else "missed"
        section.goals.append(
            f"vs_bare {job}: ours / bare ≤ {BARE_GOAL}× — {verdict} ({ours_s / bare_s:.2f}×; {record['batches']} "
            f"batches of {1000 * ours_s / record['batches']:.0f} ms; per row ours writes {wal[0] / wal[1]:.2f}× the "
            f"WAL and makes {blocks[0] / blocks[1]:.2f}× the buffer accesses of the bare statement)"
            + unfinished(record))
    section.notes += [BARE_NOTES[job].format(s=s) for job in compared(ctx)]
    section.notes.append(
        "End states, compared on the first run: md5 over every row of the tables the job changes (bankrolls "
        "without updated_at, which SnapBet's trigger sets to the transaction's now(); notifications and "
        "badge_history without their random id; cleanup's job_executions: the template's runs, not ours). "
        "WAL: pg_current_wal_lsn() before and after, nothing else running; buffer accesses: pg_stat_database "
        "blks_hit + blks_read of the clone.")
    return section


def client_seconds(result: dict, affected: int) -> float:
    """The client's time, extrapolated linearly to every row when it stopped at its budget."""
    if result["finished"] or not result["done"]:
        return result["seconds"]
    return result["seconds"] * affected / result["done"]


def client_data(ctx: Context, job: str) -> tuple[str, datetime]:
    """Where and when ours and the row client run: on the demo seed at DEMO_RUN_AT for the jobs
    that have a moment there, on the job's vs_bare template at NOW for the others."""
    if job in DEMO_RUN_AT:
        return ctx.templates.demo(ctx.scale.demo_users), DEMO_RUN_AT[job]
    return ctx.templates.for_job(job, ctx.scale), NOW


def vs_row_client(ctx: Context) -> Section:
    s = ctx.scale
    section = Section("vs_row_client", "Ours against a row-at-a-time client",
                      [("job", "job"), ("rows", "rows changed"), ("ours_s", "ours"), ("client_s", "client"),
                       ("measured", "client measured on"), ("ratio", "client / ours"), ("equal", "end states equal")])
    for job in compared(ctx):
        template, now = client_data(ctx, job)
        times, client_times, equal, measured = [], [], [], []
        for run in range(ctx.runs):
            with ctx.bench.clone(template) as dsn:
                result = baselines.row_client(dsn, ctx.manifest, job, now, s.client_budget_s)
                check = run == 0 and result["finished"]  # a sample's end state is not comparable
                client_hash = baselines.state_hash(dsn, job) if check else None
            measures, record, ours_hash = ours(ctx, template, job, now, check=check)
            times.append(measures["seconds"])
            client_times.append(client_seconds(result, rows_changed(job, record)))
            measured.append(result["done"])
            if check:
                equal.append(client_hash == ours_hash)
        ratio = median(client_times) / median(times)
        sample, rows = min(measured), rows_changed(job, record)
        section.rows.append({
            "job": job, "rows": rows, "ours_s": median(times), "client_s": median(client_times),
            "measured": "every row" if sample >= rows else f"{sample:,} rows, extrapolated",
            "ratio": ratio, "equal": equal[0] if equal else "n/a (sample)"})
        verdict = "met" if ratio >= CLIENT_GOAL else "missed"
        section.goals.append(
            f"vs_row_client {job}: client / ours ≥ {CLIENT_GOAL:.0f}× — {verdict} ({ratio:.1f}×; per row: client "
            f"{1000 * median(client_times) / rows:.2f} ms, ours {1000 * median(times) / rows:.3f} ms)"
            + unfinished(record))
    section.notes += [CLIENT_NOTES[job].format(s=s) for job in compared(ctx)]
    section.notes.append(
        ("The client (psycopg, loopback) runs to the end" if s.client_budget_s == float("inf") else
         f"The client (psycopg, loopback) stops after {s.client_budget_s:g} s; its time is then extrapolated "
         "linearly to all the rows ours changed, and its end state is not compared")
        + ". End states compared on the first run.")
    return section
