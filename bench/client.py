"""dry_run (its time, and that it writes no WAL) and client_rss (peak memory of the
`deployer run` process, at the smallest and at this scale's largest data)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.conninfo

from deployer import run as runner
from deployer.local import bindir

from bench.common import NOW, Context, Section, median, timed
from bench.compare import JOBS
from bench.scales import TINY

RELATION = re.compile(r"rel \d+/(\d+)/\d+")


@dataclass(frozen=True)
class WalRecord:
    rmgr: str
    size: int
    xid: int
    databases: frozenset[int]  # the databases of the blocks it touches
    desc: str


def wal_position(ctx: Context) -> str:
    """Where the next WAL record goes: a record boundary. (pg_current_wal_lsn() is how far
    WAL was written, which can end inside a record another process was inserting; pg_waldump
    then found no whole record before it and failed.)"""
    return ctx.bench.execute("SELECT pg_current_wal_insert_lsn()::text")[0][0]


def flush_wal(ctx: Context, upto: str) -> None:
    """Wait until the WAL up to `upto` is on disk for pg_waldump to read. A commit that wrote
    nothing else is asynchronous: the WAL writer flushes it (and what precedes it) within a
    few wal_writer_delay."""
    ctx.bench.execute("SELECT pg_catalog.txid_current()")
    deadline = time.monotonic() + 60
    while not ctx.bench.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (upto,))[0][0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the WAL up to {upto} was not flushed within 60 s")
        time.sleep(0.05)


def wal_records(ctx: Context, start: str, end: str) -> list[WalRecord]:
    """The WAL records in [start, end), decoded by pg_waldump."""
    if start == end:
        return []
    flush_wal(ctx, end)
    done = subprocess.run([str(bindir() / "pg_waldump"), "-p", str(ctx.bench.wal_dir), "-s", start, "-e", end],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:  # a segment gone would otherwise read as no WAL at all
        raise RuntimeError(f"pg_waldump {start}..{end}: {done.stderr.strip()}")
    out = []
    for line in done.stdout.splitlines():
        if line.startswith("rmgr:"):
            size = int(line.split("len (rec/tot):")[1].split(",")[0].split("/")[1])
            xid = int(line.split("tx:")[1].split(",")[0])
            out.append(WalRecord(line.split()[1], size, xid, frozenset(int(d) for d in RELATION.findall(line)),
                                 line.split("desc:", 1)[-1].strip()))
    return out


def own_records(records: list[WalRecord], database: int) -> list[WalRecord]:
    """The records of the transactions that changed something in `database`: a change is
    logged under the transaction id of whoever made it. Records without one (the pruning
    of dead row versions any read of a page may do, the checkpointer's) change no row; those
    of other databases (autovacuum on the templates) are not the dry run's."""
    writers = {r.xid for r in records if r.xid and database in r.databases}
    return [r for r in records if r.xid in writers]


def one_dry_run(ctx: Context, template: str, job: str, run=runner.dry_run) -> dict:
    """A dry run (or, as a control, `runner.real_run`) on a fresh clone of an otherwise idle
    cluster, between two WAL positions. The position is the cluster's, so the window holds
    other processes' records too (autovacuum on the templates, the checkpointer);
    `own_records` keeps the run's."""
    with ctx.bench.clone(template) as dsn:
        database = ctx.bench.execute("SELECT oid::bigint FROM pg_database WHERE datname = %s",
                                     (psycopg.conninfo.conninfo_to_dict(dsn)["dbname"],))[0][0]
        ctx.bench.execute("CHECKPOINT")
        start = wal_position(ctx)
        result, seconds = timed(run, dsn, ctx.manifest, job, NOW, None)
        end = wal_position(ctx)
        records = wal_records(ctx, start, end)  # before the drop, whose checkpoint may remove the segments
    total = ctx.bench.execute("SELECT pg_wal_lsn_diff(%s, %s)::bigint", (end, start))[0][0]
    own = own_records(records, database)
    return {"seconds": seconds, "affected": result.affected, "wal_bytes": total,
            "own_wal_bytes": sum(r.size for r in own), "own_records": len(own),
            "records": sorted({f"{r.rmgr}: {r.desc[:40]}" for r in records})}


def dry_run(ctx: Context) -> Section:
    s = ctx.scale
    cron_jobs = ctx.bench.execute("SELECT count(*) FROM cron.job")[0][0]
    section = Section("dry_run", "Dry runs: time, and the WAL they write",
                      [("job", "job"), ("affected", "rows it would change"), ("dry_s", "dry run"),
                       ("wal_bytes", "WAL written (bytes)"), ("own_wal_bytes", "of it by the dry run"),
                       ("real_wal_bytes", "by a real run (the control)")])
    for job in JOBS:
        template = ctx.templates.for_job(job, s)
        runs = [one_dry_run(ctx, template, job) for _ in range(ctx.runs)]
        section.rows.append({"job": job, "affected": runs[0]["affected"], "dry_s": median([r["seconds"] for r in runs]),
                             "wal_bytes": max(r["wal_bytes"] for r in runs),
                             "own_wal_bytes": max(r["own_wal_bytes"] for r in runs),
                             "real_wal_bytes": one_dry_run(ctx, template, job, runner.real_run)["own_wal_bytes"]})
        background = sorted({rec for r in runs for rec in r["records"]})
        if background:
            section.notes.append(f"{job}: WAL records seen during its dry runs: {'; '.join(background)}.")
    worst = max(r["own_wal_bytes"] for r in section.rows)
    section.goals.append(f"dry_run writes no WAL — {'met' if worst == 0 else 'missed'} ({worst} bytes at most)")
    section.notes.append(
        "The templates of vs_bare; deployer's dry run (`deployer.run.dry_run`: the job function with p_dry_run "
        "in a READ ONLY transaction). WAL: pg_current_wal_lsn() before and after, after a CHECKPOINT, nothing else "
        f"of ours running, {cron_jobs} pg_cron jobs scheduled in the bench cluster; the records in between decoded "
        "with pg_waldump. The dry run's are those under a transaction id that touched its database: a change is "
        "logged under its transaction's id, while pruning (which any read may do), the checkpointer's records and "
        "autovacuum on other databases are not. Worst of the runs. The control, one real run measured the same "
        "way, shows that this count sees a job's writes.")
    return section


def deployer_command() -> list[str]:
    script = Path(sys.executable).with_name("deployer")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "deployer.cli"]


def peak_rss(dsn: str, job: str) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time of `deployer run <job> --force --json` on dsn."""
    cmd = [*deployer_command(), "run", job, "--now", NOW.isoformat(), "--force", "--json", "--dsn", dsn]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc, seconds = timed(_wait, subprocess.Popen(cmd, stdout=out, stderr=err))
        if proc["status"] != 0:
            err.seek(0)
            raise RuntimeError(f"deployer run {job} failed: {err.read().decode(errors='replace').strip()}")
    return proc["maxrss_kib"] / 1024, seconds


def _wait(proc: subprocess.Popen) -> dict:
    """Wait for this one child and read its own resource usage (not other children's)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"status": proc.returncode, "maxrss_kib": usage.ru_maxrss}


def client_rss(ctx: Context) -> Section:
    s = ctx.scale
    section = Section("client_rss", "Peak RSS of the `deployer run` process",
                      [("job", "job"), ("data", "data"), ("rss_mib", "peak RSS (MiB)"), ("run_s", "run")])
    for size in (TINY, s):
        for job in JOBS:
            with ctx.bench.clone(ctx.templates.for_job(job, size)) as dsn:
                rss, seconds = peak_rss(dsn, job)
            rows = size.posts if job == "expire_content" else size.users
            section.rows.append({"job": job, "data": f"{rows:,} rows", "rss_mib": rss, "run_s": seconds})
    for job in JOBS:
        small, large = (r["rss_mib"] for r in section.rows if r["job"] == job)
        flat = large <= small * 1.1 + 2
        section.goals.append(f"client_rss {job}: flat from the smallest to the largest data — "
                             f"{'met' if flat else 'missed'} ({small:.1f} → {large:.1f} MiB)")
    section.notes.append("`deployer run <job> --force --json` as a child process, one run each on a fresh clone of "
                         f"the templates of vs_bare at {TINY.posts:,} rows and at this scale's size; "
                         "ru_maxrss from wait4().")
    return section
