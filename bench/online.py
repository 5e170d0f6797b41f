"""online: the app's own writes while a job runs. pgbench (loopback, a fixed rate from several
clients) updates random posts while (a) nothing, (b) our expire_content, (c) the bare
statement expires every post; the app's update latencies are read from pgbench's
per-transaction logs.

pgbench runs in segments of -T seconds, one after the other until the job has finished, so
it stops by itself and never runs much longer than the job. A transaction counts when it
overlaps the job's run. With --rate, pgbench measures latency from each transaction's
scheduled start, so time spent queued behind a blocked one counts too.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench import baselines
from bench.common import NOW, Context, Section, call_job, median
from deployer.local import bindir

P99_GOAL_MS = 50.0
SCRIPT = """\\set k random(1, :n)
UPDATE posts SET caption = 'edited ' || :k WHERE id = (SELECT id FROM bench_ids WHERE k = :k);
"""
LEAD_IN_S = 1.0  # of app load before the job starts
SHORT_BATCH = "40 milliseconds"


def pgbench(ctx: Context, dsn: str, workdir: Path, segment: int, seconds: int) -> subprocess.Popen:
    s = ctx.scale
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    cmd = [str(bindir() / "pgbench"), "-n", "-f", str(workdir / "update.sql"), "-D", f"n={s.posts}",
           "-c", str(s.online_clients), "-j", str(min(2, s.online_clients)), "-R", str(s.online_rate),
           "-T", str(seconds), "--log", f"--log-prefix={workdir}/seg{segment}",
           "-h", "127.0.0.1", "-p", str(ctx.bench.port), "-U", "postgres", info["dbname"]]
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed: {err.strip().splitlines()[-1:]}")


def latencies(workdir: Path, start: float, end: float) -> list[float]:
    """Latencies (ms) of the transactions that overlap [start, end] (epoch seconds)."""
    out = []
    for log in workdir.glob("seg*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) < 6 or not fields[2].isdigit():
                continue
            latency = int(fields[2]) / 1e6
            finished = int(fields[4]) + int(fields[5]) / 1e6
            if finished - latency < end and finished > start:
                out.append(latency * 1000)
    return out


def under_load(ctx: Context, dsn: str, work) -> dict:
    """Run `work` (or just wait one segment when None) under pgbench; latency figures."""
    seg = ctx.scale.online_segment_s
    with tempfile.TemporaryDirectory(prefix="bench-online-") as tmp:
        workdir = Path(tmp)
        (workdir / "update.sql").write_text(SCRIPT)
        proc = pgbench(ctx, dsn, workdir, 0, seg)
        window, failure = {}, []

        def job() -> None:
            window["start"] = time.time()
            try:
                if work is None:
                    time.sleep(seg - LEAD_IN_S)
                else:
                    work(dsn)
            except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)
            window["end"] = time.time()

        time.sleep(LEAD_IN_S)
        thread = threading.Thread(target=job)
        thread.start()
        segment = 0
        while True:
            finish(proc)
            if not thread.is_alive():
                break
            segment += 1
            proc = pgbench(ctx, dsn, workdir, segment, seg)
        thread.join()
        if failure:
            raise failure[0]
        lat = sorted(latencies(workdir, window["start"], window["end"]))
    return {"job_s": window["end"] - window["start"], "count": len(lat), "p50_ms": pct(lat, 0.50),
            "p99_ms": pct(lat, 0.99), "max_ms": lat[-1] if lat else float("nan")}


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    return values[max(0, min(len(values) - 1, int(round(p * len(values) + 0.5)) - 1))]


def online(ctx: Context) -> Section:
    s = ctx.scale
    template = ctx.templates.posts(s.posts)
    variants = {
        "no job": None,
        "ours": lambda dsn: call_job(dsn, "expire_content", NOW),
        f"ours, batch_time {SHORT_BATCH}": _ours_with_batch_time(SHORT_BATCH),
        "bare statement": lambda dsn: baselines.bare(dsn, ctx.manifest, "expire_content", NOW),
    }
    section = Section("online", "The app's updates of posts while expire_content runs",
                      [("while", "while"), ("job_s", "job time under load"), ("count", "app updates"),
                       ("p50_ms", "p50"), ("p99_ms", "p99"), ("max_ms", "max")])
    for name, work in variants.items():
        runs = [_one(ctx, template, work) for _ in range(1 if work is None else ctx.runs)]
        row = {"while": name, **{k: median([r[k] for r in runs]) for k in ("job_s", "count", "p50_ms", "p99_ms",
                                                                          "max_ms")}}
        section.rows.append(row)
    rows = {r["while"]: r for r in section.rows}
    for name in ("ours", f"ours, batch_time {SHORT_BATCH}"):
        p99 = rows[name]["p99_ms"]
        verdict = "met" if p99 <= P99_GOAL_MS else "missed"
        section.goals.append(f"online: p99 of the app's updates during {name} ≤ {P99_GOAL_MS:.0f} ms — {verdict} "
                             f"({p99:.1f} ms; {rows['bare statement']['p99_ms']:.0f} ms during the bare statement)")
    section.notes.append(
        f"pgbench: {s.online_clients} clients, {s.online_rate} updates/s in all (--rate), loopback, "
        f"`UPDATE posts SET caption = ... WHERE id = <random one of the {s.posts:,} posts>` (ids from the "
        f"helper table bench_ids, k = random(1, {s.posts:,})), in segments of -T {s.online_segment_s} s until "
        "the job ends. Latency from the scheduled start (--rate), so waiting behind a lock counts; medians of "
        "the runs' percentiles (one run of the app alone, for reference). Every post is being expired, so the "
        "app's updates hit the job's rows.")
    return section


def _ours_with_batch_time(batch_time: str):
    """Our run with the manifest's batch_time replaced: shorter batches hold their row locks
    for less time against the app's writes, at the price of more of them."""
    def work(dsn: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE jobs.job_registry SET batch_time = %s WHERE job_name = 'expire_content'",
                         (batch_time,))
        call_job(dsn, "expire_content", NOW)
    return work


def _one(ctx: Context, template: str, work) -> dict:
    with ctx.bench.clone(template) as dsn:
        return under_load(ctx, dsn, work)
