"""A run's own log file (``runs/<id>/run.log``): the worker's log records for that run.

While a run executes, every record logged by the thread executing it (and by its lease
heartbeat) is appended to the run's file: the config, the device, epoch summaries, warnings and
the traceback of a failure. A resumed run appends to the same file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOG_FILE = "run.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _ThisRun(logging.Filter):
    """Records of the executing thread and of the run's heartbeat thread only, so two runs in
    one process (threads of one test, say) never write into each other's file."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.thread_id = threading.get_ident()
        self.heartbeat = f"lease-{run_id}"

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread_id or record.threadName == self.heartbeat


@contextmanager
def run_log(path: Path, run_id: str) -> Iterator[logging.Logger]:
    """Appends this run's records to ``path`` while the block runs; yields its logger."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(_ThisRun(run_id))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    previous_level = root.level
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    root.addHandler(handler)
    logging.captureWarnings(True)
    try:
        yield logging.getLogger(f"partlens.run.{run_id}")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.close()


def read_log_tail(path: Path, max_bytes: int = 64_000) -> str:
    """The last ``max_bytes`` of a run's log ('' before the run wrote any)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(size - max_bytes, 0))
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
