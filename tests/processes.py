"""Child processes that lead a process group (Chromium and its helpers, make and the
server it starts): ended as a whole."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_process_group(process: subprocess.Popen[bytes], grace_seconds: float = 10) -> None:
    """SIGTERM to the group the process leads, SIGKILL if it outlives `grace_seconds`."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
