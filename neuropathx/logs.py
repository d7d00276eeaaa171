"""Route a stage's logging, warnings and stray output into its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def log_to_file(path: str | Path) -> Iterator[logging.Logger]:
    """Send logging (INFO and up), warnings, stdout and stderr to ``path`` while active.

    An exception escaping the block is logged with its traceback before it propagates,
    so the log says why a job failed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    with open(path, "w", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                try:
                    yield logging.getLogger("neuropathx")
                except Exception:
                    logging.getLogger("neuropathx").exception("stage failed")
                    raise
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            root.setLevel(old_level)
