"""The UDP raw-PCM receiver: admin-typed local endpoints only, bounded datagrams and memory, and a
real ffmpeg sender whose audio decodes exactly as the same bytes from a file."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import pytest
from music_mood_core.audio import BYTES_PER_SAMPLE, ffmpeg_pcm_command
from music_mood_core.raw_pcm_decoder import RawPcmDecoder, RawPcmWaitingError
from music_mood_core.raw_pcm_format import parse_format
from music_mood_core.raw_pcm_source import RawPcmSourceError
from music_mood_core.raw_pcm_udp import (
    MAX_DATAGRAM_BYTES,
    UdpEndpointError,
    UdpPcmReceiver,
    validate_udp_endpoint,
)

from tests.integration.processes import free_port

MODEL_RATE = 22050
MIC = parse_format("16000:s16le:1")
STEREO = parse_format("48000:s16le:2")
# A UDP stream never ends, so ffmpeg keeps its last partial input packet (1024 frames) and the
# resampler's filter tail: the live output stops short of the whole by at most this much.
HELD_BACK_BYTES = 8192


@pytest.fixture(autouse=True)
def _sockets_allowed(request: pytest.FixtureRequest) -> None:
    """Home Assistant's test plugin turns sockets off (pytest-socket); these tests need UDP ones."""
    if request.config.pluginmanager.has_plugin("socket"):
        request.getfixturevalue("socket_enabled")


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 5000, ("127.0.0.1", 5000)),
        (" 0.0.0.0 ", 1024, ("0.0.0.0", 1024)),
        ("::1", 65535, ("::1", 65535)),
    ],
)
def test_literal_local_addresses_and_unprivileged_ports_are_accepted(
    host: str, port: int, expected: tuple[str, int]
) -> None:
    assert validate_udp_endpoint(host, port) == expected


@pytest.mark.parametrize(
    ("host", "port", "says"),
    [
        ("localhost", 5000, "not a name"),
        ("esp32.local", 5000, "not a name"),
        ("127.0.0.1:5000", 5000, "not a name"),
        ("239.1.2.3", 5000, "multicast"),
        ("127.0.0.1", 80, "1024 to 65535"),
        ("127.0.0.1", 65536, "1024 to 65535"),
        ("127.0.0.1", True, "1024 to 65535"),
        ("127.0.0.1", "5000", "1024 to 65535"),
        (None, 5000, "IP address"),
    ],
)
def test_names_privileged_ports_and_multicast_are_refused(
    host: object, port: object, says: str
) -> None:
    with pytest.raises(UdpEndpointError, match=says):
        validate_udp_endpoint(host, port)


def test_datagrams_are_cut_to_whole_frames_and_oversized_ones_dropped() -> None:
    async def scenario() -> tuple[bytes, int, int]:
        receiver = UdpPcmReceiver(
            "127.0.0.1", free_port(socket.SOCK_DGRAM), STEREO, max_datagram_bytes=1000
        )
        await receiver.open()
        port = receiver.bound_port
        assert port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(bytes(range(10)), ("127.0.0.1", port))  # 2 frames + 2 stray bytes
            sender.sendto(b"\xff" * 1004, ("127.0.0.1", port))  # over the limit: dropped whole
            sender.sendto(bytes(range(100, 108)), ("127.0.0.1", port))
        got = bytearray()
        try:
            while len(got) < 16:
                got += await asyncio.wait_for(receiver.read(4096), 5.0)
        finally:
            receiver.close()
        return bytes(got), receiver.dropped_datagrams, receiver.dropped_bytes

    got, dropped_datagrams, dropped_bytes = asyncio.run(scenario())
    # The stray bytes did not shift the next datagram's frames.
    assert got == bytes(range(8)) + bytes(range(100, 108))
    assert dropped_datagrams == 1
    assert dropped_bytes == 1004 + 2


def test_a_sender_nobody_reads_costs_at_most_the_buffer_keeping_the_newest_audio() -> None:
    limit = 4000

    async def scenario() -> tuple[bytes, int, int]:
        receiver = UdpPcmReceiver(
            "127.0.0.1", free_port(socket.SOCK_DGRAM), STEREO, max_buffered_bytes=limit
        )
        await receiver.open()
        port = receiver.bound_port
        assert port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for index in range(50):
                sender.sendto(bytes([index]) * 400, ("127.0.0.1", port))
        # Let every datagram arrive before reading (a sender far ahead of its reader).
        # (Polled: the receiver has no event for "this much arrived", and needs none.)
        while receiver.received_bytes < 50 * 400:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        buffered = receiver.buffered_bytes
        try:
            return await receiver.read(1 << 20), buffered, receiver.dropped_bytes
        finally:
            receiver.close()

    got, buffered, dropped = asyncio.run(scenario())
    assert buffered <= limit
    assert got == b"".join(bytes([index]) * 400 for index in range(40, 50))
    assert dropped == 40 * 400


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = int(taken.getsockname()[1])

        async def scenario() -> None:
            await UdpPcmReceiver("127.0.0.1", port, MIC).open()

        with pytest.raises(RawPcmSourceError, match=f"cannot listen on udp 127.0.0.1:{port}"):
            asyncio.run(scenario())


def test_an_address_that_is_not_this_machines_is_a_clear_error() -> None:
    async def scenario() -> None:
        # 192.0.2.0/24 is reserved for documentation: no interface here has it.
        await UdpPcmReceiver("192.0.2.1", free_port(socket.SOCK_DGRAM), MIC).open()

    with pytest.raises(RawPcmSourceError, match="not one of this machine's"):
        asyncio.run(scenario())


def test_the_receiver_refuses_limits_it_cannot_keep() -> None:
    with pytest.raises(ValueError, match="max_datagram_bytes"):
        UdpPcmReceiver("127.0.0.1", 5000, MIC, max_datagram_bytes=MAX_DATAGRAM_BYTES + 1)
    with pytest.raises(ValueError, match="one frame"):
        UdpPcmReceiver("127.0.0.1", 5000, STEREO, max_buffered_bytes=3)
    with pytest.raises(UdpEndpointError):
        UdpPcmReceiver("localhost", 5000, MIC)


def test_no_sender_means_waiting_for_audio() -> None:
    async def scenario() -> str:
        receiver = UdpPcmReceiver("127.0.0.1", free_port(socket.SOCK_DGRAM), MIC)
        decoder = RawPcmDecoder(receiver, MIC, MODEL_RATE)
        await decoder.start()
        try:
            with pytest.raises(RawPcmWaitingError) as caught:
                await decoder.read_exactly(4096, 0.5)
        finally:
            await decoder.close()
        return str(caught.value)

    assert "waiting for audio: nothing has arrived from udp 127.0.0.1:" in asyncio.run(scenario())


def test_a_real_ffmpeg_sender_decodes_exactly_as_the_same_bytes_from_a_file(
    tmp_path: Path,
) -> None:
    """ffmpeg streams a 16 kHz mono microphone-like signal over udp:// in real time."""
    seconds = 3
    generator = f"sine=frequency=523:sample_rate=16000:duration={seconds}"
    sent = tmp_path / "sent.raw"
    # What the sender sends, written to a file by the same generator.
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", generator,
         "-ac", "1", "-f", "s16le", f"file:{sent}"],
        check=True, timeout=60,
    )  # fmt: skip
    reference = subprocess.run(
        ffmpeg_pcm_command(f"file:{sent}", MODEL_RATE, input_options=MIC.ffmpeg_input_options()),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout

    async def scenario() -> tuple[bytes, int, int]:
        port = free_port(socket.SOCK_DGRAM)
        receiver = UdpPcmReceiver("127.0.0.1", port, MIC)
        decoder = RawPcmDecoder(receiver, MIC, MODEL_RATE)
        await decoder.start()
        sender = await asyncio.create_subprocess_exec(
            "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", generator,
            "-ac", "1", "-f", "s16le", f"udp://127.0.0.1:{port}?pkt_size=640",
        )  # fmt: skip
        live = bytearray()
        try:
            while len(live) < len(reference) - HELD_BACK_BYTES:
                live += await decoder.read_chunk(4096, 20.0)
            assert await sender.wait() == 0
        finally:
            if sender.returncode is None:
                sender.kill()
                await sender.wait()
            await decoder.close()
        return bytes(live), receiver.received_bytes, receiver.dropped_bytes

    live, received, dropped = asyncio.run(scenario())
    assert received == sent.stat().st_size
    assert dropped == 0
    assert len(reference) == seconds * MODEL_RATE * BYTES_PER_SAMPLE
    assert live == reference[: len(live)]
