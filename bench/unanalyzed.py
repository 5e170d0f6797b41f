"""unanalyzed: each compared job on tables the planner knows nothing about yet, as right
after a bulk load or a restore and before autovacuum has analyzed them, against the same
run on the analyzed template. A job whose plans need statistics to avoid a nested loop over
millions of rows shows it here: its time jumps while the analyzed one does not."""

from __future__ import annotations

from datetime import timedelta

from bench.common import NOW, SEED_NOW, Context, Section, median
from bench.compare import compared, ours, rows_changed, unfinished

GOAL = 3.0  # un-analyzed time / analyzed time
DEMO_AT = SEED_NOW + timedelta(hours=1)  # the demo seed's run: an hour after its moment

# What a restore leaves: no column statistics, and tables and indexes never counted (PostgreSQL
# then estimates a table's rows from its size on disk, and every selectivity from defaults).
FORGET = (
    """DELETE FROM pg_catalog.pg_statistic AS s
        USING pg_catalog.pg_class AS c
        WHERE c.oid = s.starelid AND c.relnamespace = 'public'::regnamespace""",
    """DELETE FROM pg_catalog.pg_statistic_ext_data AS d
        USING pg_catalog.pg_statistic_ext AS e
        WHERE e.oid = d.stxoid AND e.stxnamespace = 'public'::regnamespace""",
    """UPDATE pg_catalog.pg_class SET reltuples = -1, relpages = 0, relallvisible = 0
        WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i', 'm', 'p')""",
)


def unanalyzed(ctx: Context) -> Section:
    section = Section("unanalyzed", "Before ANALYZE: each job on tables without planner statistics",
                      [("data", "data"), ("job", "job"), ("rows", "rows changed"), ("analyzed_s", "analyzed"),
                       ("unanalyzed_s", "not analyzed"), ("ratio", "not / analyzed")])
    demo = ctx.templates.demo(ctx.scale.demo_users)
    for job in compared(ctx):
        measure(ctx, section, "vs_bare", ctx.templates.for_job(job, ctx.scale), job, NOW)
    for job in compared(ctx):  # the app's mix of rows, an hour after the seed's moment
        measure(ctx, section, f"demo seed, {ctx.scale.demo_users:,} users", demo, job, DEMO_AT)
    section.notes.append(
        "The templates of vs_bare, and the demo seed (`deployer seed`, every kind of row the jobs read, at the "
        "run's moment an hour after the seed's), cloned; on one clone the app schema's planner statistics are "
        "forgotten first (pg_statistic and extended statistics deleted; reltuples -1 and relpages 0, as for a "
        "table never vacuumed or analyzed), then `CALL jobs.run_job`, autovacuum having no reason to analyze "
        "the fresh clone meanwhile. Median of the runs, interleaved.")
    return section



def measure(ctx: Context, section: Section, data: str, template: str, job: str, now) -> None:
    """One job on clones of `template` at `now`, analyzed and not, interleaved run by run."""
    analyzed, forgotten, record, control = [], [], None, None
    for _ in range(ctx.runs):  # interleaved, so that drift hits both alike
        measures, control, _ = ours(ctx, template, job, now, check=False)
        analyzed.append(measures["seconds"])
        measures, record, _ = ours(ctx, template, job, now, check=False, before=FORGET)
        forgotten.append(measures["seconds"])
    a, u = median(analyzed), median(forgotten)
    section.rows.append({"data": data, "job": job, "rows": rows_changed(job, record), "analyzed_s": a,
                         "unanalyzed_s": u, "ratio": u / a, "status": record["status"],
                         "analyzed_rows": rows_changed(job, control), "analyzed_status": control["status"]})
    verdict = "met" if u / a <= GOAL else "missed"
    section.goals.append(f"unanalyzed {job} ({data}): not analyzed / analyzed ≤ {GOAL}× — {verdict} "
                         f"({u / a:.2f}×)" + unfinished(record))
