"""settle_batches: what settle_games' batches cost against its bare statement, batch size by
batch size. A game is settled whole in one transaction, with its winners' bankrolls; a user
whose bets are on games in different batches has the bankroll updated once per batch, where
the bare statement, one transaction for every game, updates it once. The larger the batch,
the fewer the bankroll updates, and the longer the bankrolls of the batch's users stay
locked against the app (placing a bet updates the bankroll). Each run, on a fresh clone of
the vs_bare template: ours with the manifest's adaptive batches, then with fixed batches of
growing size up to every game in one batch, against the bare statement."""

from __future__ import annotations

from bench import compare
from bench.common import CALL_JOB, NOW, Context, Section, connect, last_run, measured, median

JOB = "settle_games"
FIXED = (200, 1_000)  # games a batch; then every game in one batch
UPDATES = "SELECT n_tup_upd FROM pg_catalog.pg_stat_user_tables WHERE relid = 'public.bankrolls'::regclass"


def fixed(size: int) -> str:
    """Batches of exactly `size` games, and the time to take them."""
    return (f"UPDATE jobs.job_registry SET batch_size = {size}, min_batch_size = {size}, max_batch_size = {size},"
            f" time_budget = '1 hour' WHERE job_name = '{JOB}'")


def games(dsn: str) -> int:
    with connect(dsn) as conn:
        return conn.execute("SELECT count(DISTINCT game_id) FROM public.bets WHERE status = 'pending'").fetchone()[0]


def one_run(ctx: Context, template: str, setup: str | None) -> dict:
    """Ours on a fresh clone, batches set by `setup` (None: the manifest's): its time, its batches,
    and the bankroll updates it made (the table's statistics, flushed by the run's backend)."""
    with ctx.bench.clone(template) as dsn:
        with connect(dsn) as conn:
            if setup:
                conn.execute(setup)
            before = conn.execute(UPDATES).fetchone()[0]
        measures = measured(dsn, CALL_JOB, (JOB, NOW))
        record = last_run(dsn, JOB)
        with connect(dsn) as conn:
            updates = conn.execute(UPDATES).fetchone()[0] - before
    return {"seconds": measures["seconds"], "batches": record["batches"], "updates": updates, "record": record}


def settle_batches(ctx: Context) -> Section:
    section = Section("settle_batches", "settle_games: batch size against bankroll updates and the bare statement",
                      [("batches_of", "batches of (games)"), ("batches", "batches"), ("updates", "bankroll updates"),
                       ("ours_s", "ours"), ("ratio", "ours / bare"), ("hold_s", "a batch holds its locks")])
    template = ctx.templates.for_job(JOB, ctx.scale)
    with ctx.bench.clone(template) as dsn:
        every = games(dsn)
    sizes = [None, *(n for n in FIXED if n < every), every]
    setups = [("adaptive (manifest)" if n is None else f"{n:,}" + (" (every game)" if n == every else ""),
               n and fixed(n)) for n in sizes]
    runs: dict[str, list[dict]] = {label: [] for label, _ in setups}
    bare: list[float] = []
    for _ in range(ctx.runs):  # interleaved, so that drift hits every setup alike
        for label, setup in setups:
            runs[label].append(one_run(ctx, template, setup))
        bare.append(compare.bare(ctx, template, JOB, check=False)[0]["seconds"])
    bare_s = median(bare)
    for (label, _), size in zip(setups, sizes):
        seconds = median([r["seconds"] for r in runs[label]])
        last = runs[label][-1]
        # The batches that settled games (a full last batch is followed by one that finds none).
        settling = last["batches"] if size is None else -(-every // size)
        section.rows.append({"batches_of": label, "batches": last["batches"], "updates": last["updates"],
                             "ours_s": seconds, "ratio": seconds / bare_s, "hold_s": seconds / settling,
                             "status": last["record"]["status"]})
    adaptive, whole = section.rows[0], section.rows[-1]
    verdict = "met" if adaptive["ratio"] <= compare.BARE_GOAL else "missed"
    section.goals.append(
        f"settle_batches: the manifest's batches ≤ {compare.BARE_GOAL}× the bare statement — {verdict} "
        f"({adaptive['ratio']:.2f}×, {adaptive['updates']:,} bankroll updates); every game in one batch: "
        f"{whole['ratio']:.2f}×, {whole['updates']:,} updates, its locks held {whole['hold_s']:.2f} s")
    section.notes.append(
        f"The bare statement: {bare_s:.2f} s (median), one transaction crediting each user once. `a batch holds its "
        "locks`: the run's time over the batches that settled games, the mean time the batch's games and its users' bankrolls stay "
        "locked (the app's bets on those users wait that long). Bankroll updates: `n_tup_upd` of bankrolls on the "
        "clone after the run. Fixed batches: batch_size = min_batch_size = max_batch_size in the registry, "
        "time_budget 1 hour.")
    return section
