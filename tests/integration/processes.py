"""Watching the real child processes (ffmpeg, servers) a test starts, and waiting on them."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path


async def wait_for(
    condition: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition"
) -> None:
    """Real-time wait (audio arrives in real time); polls without blocking the event loop."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


def ffmpeg_children() -> list[int]:
    """Live (or zombie) ffmpeg processes whose parent is this test process."""
    children = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == me and name == "ffmpeg":
            children.append(int(entry.name))
    return children


def pid_alive(pid: int) -> bool:
    """True for a running or zombie (unreaped) process."""
    return Path(f"/proc/{pid}").exists()


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that was free a moment ago (TCP, or UDP with ``socket.SOCK_DGRAM``)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
