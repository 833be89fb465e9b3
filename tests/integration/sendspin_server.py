"""A real Sendspin server (aiosendspin's server role) streaming a WAV file, run as its own process.

    python sendspin_server.py WAV_FILE PORT

Prints ``ready`` once listening and ``client <id>`` when a player has joined. Each line ``play``
on stdin streams the whole file to the group of the player that joined (16-bit PCM, the file's
rate and channels; the server converts to the format the player asked for), then ends the stream
(stream/end) once the audio has been heard and prints ``ended``. Timestamps are the server's own
clock (CLOCK_MONOTONIC_RAW), as for any player.

It needs aiosendspin[server] and an aiohttp whose web responses are truthy (3.12 or later): Home
Assistant 2025.4 pins aiohttp 3.11, so the tests start it with another interpreter when needed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import wave
from pathlib import Path

from aiosendspin.noise.keys import Identity
from aiosendspin.noise.trust_store import InMemoryServerPairingStore
from aiosendspin.server import AudioFormat, ClientConnectedEvent, SendspinServer

_CHUNK_S = 0.02
# How far ahead of play time audio is sent: a real server sends a second or more ahead.
_SEND_AHEAD_US = 1_000_000


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _stream(server: SendspinServer, client_id: str, pcm: bytes, fmt: AudioFormat) -> None:
    client = server.get_client(client_id)
    assert client is not None
    stream = client.group.start_stream()
    frame_bytes = fmt.channels * 2
    chunk_bytes = int(fmt.sample_rate * _CHUNK_S) * frame_bytes
    last_start_us = last_us = 0
    for start in range(0, len(pcm), chunk_bytes):
        chunk = pcm[start : start + chunk_bytes]
        stream.prepare_audio(chunk, fmt)
        last_start_us = await stream.commit_audio()
        last_us = len(chunk) // frame_bytes * 1_000_000 // fmt.sample_rate
        await stream.sleep_to_limit_buffer(_SEND_AHEAD_US)
    # Let the last chunk be heard before the stream ends, as a player's group would.
    await asyncio.sleep(max(0.0, (last_start_us + last_us - stream.now_us()) / 1e6) + 0.2)
    client.group.stop_stream()
    _say("ended")


async def _main(wav_path: Path, port: int) -> None:
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise SystemExit("16-bit WAV files only")
        fmt = AudioFormat(sample_rate=wav.getframerate(), bit_depth=16, channels=wav.getnchannels())
        pcm = wav.readframes(wav.getnframes())
    loop = asyncio.get_running_loop()
    server = SendspinServer(
        loop,
        Identity.generate(),
        "Music Mood test server",
        pairing_store=InMemoryServerPairingStore(),
        allow_unencrypted=True,
    )
    joined: asyncio.Queue[str] = asyncio.Queue()

    def on_event(_server: SendspinServer, event: object) -> None:
        if isinstance(event, ClientConnectedEvent):
            joined.put_nowait(event.client_id)

    server.add_event_listener(on_event)
    await server.start_server(port=port, host="127.0.0.1", discover_clients=False)
    _say("ready")
    client_id = await joined.get()
    _say(f"client {client_id}")
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            while not joined.empty():  # the player reconnected: stream to it under its id
                client_id = joined.get_nowait()
            if line.strip() == b"play":
                await _stream(server, client_id, pcm, fmt)
    finally:
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("wav", type=Path)
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    asyncio.run(_main(args.wav, args.port))


if __name__ == "__main__":
    main()
