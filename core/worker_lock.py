"""The data folder's worker lock: one process at a time writes the stores from the bus.

The worker holds it for as long as it runs; `python -m core rebuild-deliveries` holds it while it
rebuilds, so the two never write the delivery tables at once.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_FILE = "worker.lock"


def acquire_lock(data_dir: Path) -> IO[str] | None:
    """An exclusive lock on the data folder's worker lock file, or None if another process
    holds it. Keep the returned file open for as long as the lock is needed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def is_worker_running(data_dir: Path) -> bool:
    handle = acquire_lock(data_dir)
    if handle is None:
        return True
    handle.close()
    return False
