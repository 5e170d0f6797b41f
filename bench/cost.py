"""cost_follows_work: the same work (`cost_expired` posts due, their comments, and the stories,
messages and old rows due with them) among few and among many live rows. Each run, on a fresh
clone: our run with that work, then the run after it at the same moment, which finds nothing
left to do. One more, untimed, pair of runs with auto_explain logs the plan (EXPLAIN ANALYZE,
BUFFERS) of every statement of the job function; they are saved to plans_dir and the slowest
one is named in the report."""

from __future__ import annotations

import re
from pathlib import Path

from bench.common import NOW, Context, Section, call_job, connect, last_run, median, timed

GOAL = 2.0
JOB = "expire_content"
AUTO_EXPLAIN = ["auto_explain.log_min_duration = 0", "auto_explain.log_analyze = on",
                "auto_explain.log_buffers = on", "auto_explain.log_nested_statements = on",
                "auto_explain.log_timing = on"]
ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] (\w+):  (.*)$")
DURATION = re.compile(r"duration: ([\d.]+) ms")


def runs_at(ctx: Context, template: str) -> dict:
    work, idle, again = [], [], []
    for _ in range(ctx.runs):
        with ctx.bench.clone(template) as dsn:
            work.append(timed(call_job, dsn, JOB, NOW)[1])
            record = last_run(dsn, JOB)
            idle.append(timed(call_job, dsn, JOB, NOW)[1])
            again.append(timed(call_job, dsn, JOB, NOW)[1])
    return {"work_s": median(work), "idle_s": median(idle), "again_s": median(again),
            "affected": record["affected"], "batches": record["batches"]}


def cost_follows_work(ctx: Context) -> Section:
    s = ctx.scale
    section = Section("cost_follows_work", f"The same work among {s.cost_sizes[0]:,} and {s.cost_sizes[1]:,} posts",
                      [("posts", "posts"), ("affected", "rows changed"), ("work_s", "run with the work"),
                       ("batches", "batches"), ("idle_s", "run with nothing to do"),
                       ("again_s", "and the run after it"), ("slowest", "slowest statement")])
    for size in s.cost_sizes:
        template = ctx.templates.cost(size, s.cost_expired)
        row = {"posts": size, **runs_at(ctx, template)}
        row["slowest"] = save_plans(ctx, template, ctx.plans_dir / f"{s.name}-cost-{size}.txt")
        section.rows.append(row)
    small, large = section.rows
    ratios = {"posts": f"{large['posts']:,} / {small['posts']:,}"}
    for key, what in (("work_s", "with the work"), ("idle_s", "with nothing to do")):
        ratio = ratios[key.replace("_s", "_ratio")] = large[key] / small[key]
        ratios[key] = f"{ratio:.2f}×"
        verdict = "met" if ratio <= GOAL else "missed"
        section.goals.append(f"cost_follows_work, run {what}: {large['posts']:,} / {small['posts']:,} posts ≤ "
                             f"{GOAL:.0f}× — {verdict} ({ratio:.2f}×; slowest statement at "
                             f"{large['posts']:,} posts: {large['slowest']})")
    section.rows.append(ratios)
    section.notes.append(
        f"Templates (bench/data.py, cost_<n>): {s.cost_expired:,} posts due spread evenly among live ones, a "
        "third of them picks on games that started 3 hours ago or more, a few picks without a game, the rest "
        "content; live picks on games to come (their bets), content posts, comments, stories and messages; posts "
        "deleted before (their comments), and rows due for the hard delete; the previous complete run an hour before (its state as the job records it, but for its horizon). "
        "The run with nothing to do is the second run at the same "
        "moment, right after the first (it meets what the first left behind: the index entries of the rows it "
        "deleted, until a scan marks them dead); the run after it, the third, finds the same nothing. Each run is "
        f"timed by the client, in a new connection, as pg_cron starts a new backend for each. Plans: {ctx.plans_dir}/{s.name}-cost-<posts>.txt (auto_explain: both "
        "runs, every statement the job function ran, EXPLAIN ANALYZE with BUFFERS).")
    return section


def save_plans(ctx: Context, template: str, path: Path) -> str:
    """Run the job twice with auto_explain on a fresh clone; write the job function's plans
    to `path`; return the slowest statement's label and time."""
    entries = []
    with ctx.bench.clone(template) as dsn, connect(dsn) as conn:
        conn.execute("LOAD 'auto_explain'")
        for setting in AUTO_EXPLAIN:
            conn.execute(f"SET {setting}")
        for run in ("with the work", "with nothing to do"):
            offset = ctx.bench.logfile.stat().st_size
            conn.execute("CALL jobs.run_job(%s, %s)", (JOB, NOW))
            text = ctx.bench.logfile.read_bytes()[offset:].decode(errors="replace")
            entries += [(run, *e) for e in job_plans(text)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"-- {JOB} on {template}: each statement of jobs.{JOB}, as auto_explain logged it\n")
        for run, label, ms, context, plan in entries:
            out.write(f"\n-- run {run}: {label}, {ms:.1f} ms ({context})\n{shorten(plan)}\n")
    if not entries:
        return "no plans logged"
    run, label, ms, _, _ = max(entries, key=lambda e: e[2])
    return f"{label}, {ms:,.0f} ms"


def shorten(plan: str, width: int = 400) -> str:
    """Cut very long plan lines (an array of 5,000 ids written out in a filter)."""
    return "\n".join(line if len(line) <= width else f"{line[:width]} …({len(line):,} characters)"
                     for line in plan.splitlines())


def job_plans(log: str) -> list[tuple[str, float, str, str]]:
    """(label, ms, context, plan) of each plan logged from inside the job function."""
    out = []
    for level, first, rest in _entries(log):
        if level != "LOG" or "plan:" not in first:
            continue
        plan, _, context = rest.partition("\x00")
        where = next((ln.strip() for ln in context.splitlines() if "PL/pgSQL function" in ln), "")
        if f"function jobs.{JOB}(" not in where:
            continue
        out.append((label(plan), float(DURATION.search(first).group(1)), where, plan))
    return out


def _entries(log: str):
    """(level, first line, continuation) of each server log entry; a CONTEXT entry is
    attached to the entry before it after a NUL."""
    current = None
    for line in log.splitlines():
        match = ENTRY.match(line)
        if match and match.group(1) == "CONTEXT" and current:
            current[2].append("\x00" + match.group(2))
        elif match:
            if current:
                yield current[0], current[1], "\n".join(current[2])
            current = [match.group(1), match.group(2), []]
        elif current:
            current[2].append(line)
    if current:
        yield current[0], current[1], "\n".join(current[2])


def label(plan: str) -> str:
    """What a statement does, from its query text and plan: '<verb> <table>', picks told apart."""
    # the table written (a phase may read its candidates from a subquery), else the one read
    table = (re.search(r"(?:UPDATE|DELETE FROM)\s+(?:\"?\w+\"?\.)?\"?(\w+)\"?\s+AS\s+t\b", plan)
             or re.search(r"FROM\s+(?:\"?\w+\"?\.)?\"?(\w+)\"?\s+AS\s+t\b", plan))
    verb = "delete" if "DELETE FROM" in plan else "update" if re.search(r"\bUPDATE\b", plan) else "select"
    what = table.group(1) if table else "?"
    if what == "posts" and "'pick'" in plan:
        what = "picks"
    return f"{verb} {what}"
