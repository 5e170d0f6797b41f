"""calculate_badges as PostgreSQL plans it while the job runs: a batch reads the bets of its
own users, never every bet of the week, also once PL/pgSQL keeps a generic plan for the
batch's statement (its parameters unknown: a range of them is taken for a small share of
the table).

What lets this fail: the plans are the ones the server runs, logged by auto_explain from
inside the job (analyzed, so each node's rows are counted), on the seed's 3,000 users with
their week of bets, analyzed, in batches of 100 users: the first batches are planned with
their values, the later ones by a generic plan. Before the week's test was kept from
idx_bets_created, every batch's generic plan intersected its users' bets with all of the
week's.
"""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
from psycopg.rows import dict_row

from deployer import seed as seed_mod
from tests.support import logged_plans, nodes, outline

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)  # a Wednesday noon
USERS, BATCH = 3000, 100


def test_each_batch_reads_its_users_bets_not_every_bet_of_the_week(db, test_manifest):
    with psycopg.connect(db, autocommit=True, row_factory=dict_row) as conn:
        seed_mod.seed(conn, users=USERS, seed=5, now=NOW, variables=test_manifest.template_vars())
        conn.execute("ANALYZE")
        conn.execute("UPDATE jobs.job_registry SET batch_size = %s, min_batch_size = %s, max_batch_size = %s"
                     " WHERE job_name = 'calculate_badges'", (BATCH, BATCH, BATCH))
        week = conn.execute("SELECT count(*) AS n FROM public.bets WHERE created_at >= '2026-11-30'"
                            " AND created_at < %s", (NOW,)).fetchone()["n"]
        indexes = {r["name"] for r in conn.execute(
            "SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'public.bets'::regclass")}

    def run(conn: psycopg.Connection) -> None:
        conn.execute("CALL jobs.run_job('calculate_badges', %s)", (NOW,))

    plans = [p["Plan"] for p in logged_plans(db, run, "auto_explain.log_analyze = on", "auto_explain.log_timing = off")
             if p["Query Text"].lstrip().startswith("WITH week_bets")]
    assert len(plans) >= USERS // BATCH
    assert week > 20 * BATCH, "too few bets this week for the check to tell"
    for plan in plans:
        read = max(round(n["Actual Rows"] * n["Actual Loops"]) for n in nodes(plan)
                   if n.get("Relation Name") == "bets" or n.get("Index Name") in indexes)
        assert read < week / 4, f"a batch read {read} of the week's {week} bets\n{outline(plan)}"
