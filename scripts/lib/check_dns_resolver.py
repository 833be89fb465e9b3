"""Exits non-zero unless Home Assistant's DNS resolver works in this venv: resolves localhost.

Home Assistant's HTTP client resolves names with aiohttp's AsyncResolver (aiodns on pycares). A
pycares release that its aiodns does not support fails every lookup with a TypeError, which breaks
every outbound request of that Home Assistant. localhost comes from /etc/hosts: no network needed.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from importlib.metadata import version

from aiohttp.resolver import AsyncResolver


async def resolve_localhost() -> list[str]:
    resolver = AsyncResolver()
    try:
        hosts = await resolver.resolve("localhost", 80, family=socket.AF_INET)
    finally:
        await resolver.close()
    return [str(host["host"]) for host in hosts]


def main() -> int:
    try:
        addresses = asyncio.run(resolve_localhost())
    except Exception as error:  # any failure is the answer: report it plainly
        print(
            f"Home Assistant's DNS resolver is broken in this venv (aiodns {version('aiodns')}, "
            f"pycares {version('pycares')}): {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    if "127.0.0.1" not in addresses:
        print(f"localhost resolved to {addresses}, not 127.0.0.1", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
