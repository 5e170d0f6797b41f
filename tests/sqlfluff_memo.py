"""`deployer` as `python -m deployer.cli` runs it, with sqlfluff's results kept for the test
session: support.cli(..., sqlfluff_memo=True) runs this file instead of the module.

sqlfluff takes most of a `deployer lint` (the seed template alone, over ten seconds a pass),
and the lint tests run it again and again over templates that are the same but for one
deliberate mistake. Here `Linter.lint_string` keeps each result, keyed by everything it
depends on (sqlfluff's version, its whole configuration, the file name and the SQL text), in
the directory $JOBSET_TEST_SQLFLUFF_MEMO that the test session shares between its workers:
the same input gives sqlfluff's own result back (its LintedFile, pickled, without the parse
tree, as sqlfluff's parallel runner hands one back), any other input is linted anew, once
(a process about to lint what another is linting waits for its result). Everything of
deployer runs as it does in `python -m deployer.cli`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import re
import runpy
import sys
import tempfile
from pathlib import Path

MEMO = "JOBSET_TEST_SQLFLUFF_MEMO"


def _described(value: object) -> str:
    """A setting that is an object (the dialect, the templater), without its address."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _keep_results(directory: Path) -> None:
    import sqlfluff
    from sqlfluff.core import Linter

    lint_string = Linter.lint_string

    def remembered(self, in_str="", fname="<string input>", fix=False, config=None, encoding="utf8"):
        settings = getattr(config or self.config, "_configs", None)
        if fix or settings is None:
            return lint_string(self, in_str, fname, fix, config, encoding)
        key = hashlib.sha256(json.dumps([sqlfluff.__version__, settings, fname, in_str, encoding],
                                        sort_keys=True, default=_described).encode()).hexdigest()
        path = directory / f"{key}.pickle"
        with open(directory / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker linting the same: wait for its result
            try:
                return pickle.loads(path.read_bytes())
            except (OSError, EOFError, pickle.UnpicklingError):
                pass
            # Without its parse tree, as sqlfluff's own parallel runner hands a file back: what
            # deployer reads is the violations.
            result = lint_string(self, in_str, fname, fix, config, encoding)._replace(tree=None)
            fd, partial = tempfile.mkstemp(dir=directory, suffix=".partial")
            with os.fdopen(fd, "wb") as out:
                pickle.dump(result, out)
            os.replace(partial, path)
            return result

    Linter.lint_string = remembered


if __name__ == "__main__":
    sys.path[0] = os.getcwd()  # as `python -m` has it, not this file's directory
    if os.environ.get(MEMO):
        _keep_results(Path(os.environ[MEMO]))
    runpy.run_module("deployer.cli", run_name="__main__", alter_sys=True)
