"""The release a deploy records: the deployer's version, and the git commit of the checkout
it runs from when known (`deployer --version`, jobs.deployments.version)."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path


def release() -> str:
    """The deployer's version, and the git commit of the checkout it runs from when known."""
    try:
        version = metadata.version("snapbet-jobs")
    except metadata.PackageNotFoundError:
        version = "unknown"
    root = Path(__file__).resolve().parent.parent
    if (root / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True, timeout=5, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5, check=True).stdout.strip()
            version += f"+{commit}" + (".dirty" if dirty else "")
        except (OSError, subprocess.SubprocessError):
            pass
    return version
