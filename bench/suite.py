"""One run of the suite: start the bench cluster, run the chosen scenarios (each builds the
templates it needs the first time), collect a Report."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from deployer import manifest

from bench import client, compare, cost, online, settle_batches, unanalyzed, windows
from bench.cluster import bench_cluster
from bench.common import Context
from bench.data import Templates
from bench.report import Report
from bench.scales import SCALES

SCENARIOS = {
    "vs_bare": compare.vs_bare,
    "vs_row_client": compare.vs_row_client,
    "online": online.online,
    "cost_follows_work": cost.cost_follows_work,
    "dry_run": client.dry_run,
    "client_rss": client.client_rss,
    "unanalyzed": unanalyzed.unanalyzed,
    "settle_batches": settle_batches.settle_batches,
    "daily_windows": windows.daily_windows,
}
ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "bench" / "plans"


def progress(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def code_version() -> str:
    """Which job set was measured: the commit, whether sql/ or deployer/ differ from it, and a
    digest of sql/ as it is."""
    digest = hashlib.sha256()
    for path in sorted(p for p in (ROOT / "sql").rglob("*") if p.is_file()):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    try:
        head = _git("rev-parse", "--short", "HEAD") or "unknown"
        changed = " + uncommitted changes" if _git("status", "--porcelain", "--", "sql", "deployer") else ""
    except OSError:
        head, changed = "unknown", ""
    return f"commit {head}{changed}, sql/ digest {digest.hexdigest()[:12]}"


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB"


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()[:1])


def run(scale: str, runs: int = 3, only: list[str] | None = None, plans_dir: Path = PLANS,
        jobs: list[str] | None = None) -> Report:
    """Run the scenarios named in `only` (all by default, in SCENARIOS order) at `scale`;
    vs_bare and vs_row_client on the `jobs` (all they know by default)."""
    chosen = [name for name in SCENARIOS if not only or name in only]
    started = time.perf_counter()
    report = Report(scale=scale, runs=runs, machine=machine(), code=code_version(),
                    started=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    load_before = load_average()
    with bench_cluster() as bench:
        m = manifest.load()
        templates = Templates(bench, m)
        ctx = Context(bench=bench, templates=templates, manifest=m, scale=SCALES[scale], runs=runs,
                      plans_dir=plans_dir, jobs=jobs)
        report.settings = bench.settings()
        for name in chosen:
            began = time.perf_counter()
            section = SCENARIOS[name](ctx)
            section.seconds = time.perf_counter() - began
            report.sections.append(section)
            progress(f"{name}: done in {section.seconds:.1f} s")
        report.cron_jobs = bench.execute("SELECT count(*) FROM cron.job")[0][0]
        report.templates = templates.log
    report.seconds = time.perf_counter() - started
    report.load = f"{load_before} at the start, {load_average()} at the end"
    return report
