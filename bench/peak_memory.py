"""The peak memory of a benchmarked subprocess and everything it starts.

Each process's own high-water mark (``VmHWM``), polled over the process tree while it runs. Not
``RUSAGE_CHILDREN``: on Linux a child's ``ru_maxrss`` starts at its parent's RSS at fork (kept across exec), so
it would report the benchmark's own memory, not the measured command's.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def wait_measuring(process: subprocess.Popen) -> int:
    """Wait for ``process`` to end; the peak RSS (MB) of its largest process."""
    peaks: dict[int, int] = {}
    while process.poll() is None:
        for pid in _tree(process.pid):
            peaks[pid] = max(peaks.get(pid, 0), _high_water_kb(pid))
        time.sleep(0.05)
    return max(peaks.values(), default=0) // 1024


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid] + [descendant for child in children for descendant in _tree(int(child))]


def _high_water_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
