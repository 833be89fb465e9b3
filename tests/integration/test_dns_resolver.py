"""The test venvs' Home Assistant can resolve names (its aiodns/pycares pair works together).

Home Assistant's HTTP client resolves through aiohttp's AsyncResolver, i.e. aiodns on pycares. pip
takes the newest pycares unless scripts/lib/constraints pins it; pycares 5 under Home Assistant
2025.4.4's aiodns 3.2.0 fails every lookup with a TypeError, and so every outbound request.
"""

from __future__ import annotations

import socket

from aiohttp.resolver import AsyncResolver


async def test_home_assistants_resolver_resolves_localhost() -> None:
    resolver = AsyncResolver()  # the resolver class of Home Assistant's client sessions
    try:
        # From /etc/hosts: no network, no socket needed.
        hosts = await resolver.resolve("localhost", 80, family=socket.AF_INET)
    finally:
        await resolver.close()
    assert "127.0.0.1" in [host["host"] for host in hosts]
