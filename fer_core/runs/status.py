"""Is the process that owns an active run still there? A run records its pid, host and the pid's start time; a reader
on the same host can then tell a live run from one whose process was killed (or whose pid a later process reuses)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

__all__ = ["ACTIVE_STATES", "STOPPED_GONE", "pid_alive", "process_identity", "process_gone"]

ACTIVE_STATES = ("starting", "preparing", "running")
STOPPED_GONE = "stopped (process gone)"


def pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True  # it exists, under another user
    except (OSError, ValueError, TypeError, OverflowError):
        return False
    return True


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc); None where /proc is not there."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text(encoding="ascii", errors="replace")
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """What a run records about the process that trains it: pid, host and the pid's start time."""
    pid = os.getpid() if pid is None else int(pid)
    return {"pid": pid, "host": socket.gethostname(), "pid_start": _process_start(pid)}


def process_gone(status: dict) -> bool:
    """True when the process that owns an active run is known to be gone: its pid is dead on this host, or now
    belongs to a process that started later. A run of another host (a shared folder) is never judged."""
    pid = status.get("pid")
    if not pid:
        return False
    if status.get("host") and status["host"] != socket.gethostname():
        return False
    if not pid_alive(pid):
        return True
    recorded, now = status.get("pid_start"), _process_start(int(pid))
    return bool(recorded and now and str(recorded) != now)
