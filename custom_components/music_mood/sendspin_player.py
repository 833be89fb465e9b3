"""Music Mood as a Sendspin player: Music Assistant streams a group's audio to it, timestamped.

One `SendspinPlayer` per analyser keeps a WebSocket to the server for as long as the entry is
loaded (the server keeps the player in its group across reconnects by its id), answers the
server's clock questions and buffers the audio of the stream that is playing. The stream loop
resolves it into a PCM source whenever it (re)starts: while nothing plays it reports "waiting for
media" instead of failing, and a stream that starts cuts the loop's back-off short.

Each chunk's play time, converted to the local monotonic clock (the event loop's), stays with its
samples, so a reading made from samples up to ``n`` can be shown when sample ``n`` is heard.
Nothing here imports Home Assistant: the caller passes an aiohttp session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final

import aiohttp

from .music_mood_core.audio import BYTES_PER_SAMPLE
from .music_mood_core.backoff import Backoff
from .music_mood_core.clock_sync import ClockSync
from .music_mood_core.pcm_source import PcmFormat, PcmStream, SourceUnavailableError
from .music_mood_core.sendspin_wire import (
    MAX_FRAME_BYTES,
    PLAYER_ROLE,
    MonoPcm,
    SendspinError,
    SendspinServerUrl,
    StreamFormat,
    client_goodbye,
    client_hello,
    client_state,
    client_time,
    parse_audio_chunk,
    parse_server_time,
    parse_stream_start,
    parse_text_message,
)

_LOGGER = logging.getLogger(__name__)

HELLO_TIMEOUT_S: Final = 10.0
# The first answer comes before the first resolve gives up on a fresh connection.
FIRST_CONNECT_WAIT_S: Final = 10.0
# A burst of round trips right after the hello, then one now and then to follow clock drift.
CLOCK_BURST: Final = 6
CLOCK_BURST_INTERVAL_S: Final = 0.1
CLOCK_INTERVAL_S: Final = 2.0
# Audio held for the analyser; a server sends ahead a few seconds at most. More than this means the
# analyser fell behind the music, so the stream is ended and started afresh.
MAX_BUFFERED_SECONDS: Final = 30.0
# Segments (first sample, server play time) kept for play-time questions about recent samples.
_SEGMENTS_KEPT: Final = 4096
LEAD_TIME_MS: Final = 200
MIN_BUFFER_MS: Final = 500
RECONNECT_MIN_S: Final = 1.0
RECONNECT_MAX_S: Final = 60.0


def local_clock_us() -> int:
    """The local monotonic clock in µs: the event loop's clock (``loop.time()``)."""
    return time.monotonic_ns() // 1000


class SendspinStream:
    """One stream the server plays, as the stream loop reads it (a `PcmStream`).

    The player appends converted samples and their play times; the loop reads them. Ending the
    stream (the server's stream/end, a new stream, a lost connection) wakes a waiting read.
    """

    def __init__(
        self,
        stream_format: StreamFormat,
        max_buffered_bytes: int,
        to_local_us: Callable[[int], float | None],
    ) -> None:
        self.format = stream_format
        self._to_local_us = to_local_us
        self._mono = MonoPcm(stream_format)
        self._buffer = bytearray()
        self._max_buffered_bytes = max_buffered_bytes
        self._peak_buffered_bytes = 0
        self._received_samples = 0
        self._read_samples = 0
        # (first sample index, its play time on the server's clock in µs): converted to the local
        # clock when asked, with the clock estimate of that moment.
        self._segments: deque[tuple[int, int]] = deque(maxlen=_SEGMENTS_KEPT)
        self._ended: str | None = None
        self._interrupted = False
        self._data = asyncio.Event()

    # ---------------------------------------------------------------- filled by the player

    def append(self, server_play_us: int, data: bytes) -> None:
        if self._ended is not None:
            return
        samples = self._mono.convert(data)
        if not samples.size:
            return
        self._segments.append((self._received_samples, server_play_us))
        self._received_samples += samples.size
        self._buffer += samples.tobytes()
        self._peak_buffered_bytes = max(self._peak_buffered_bytes, len(self._buffer))
        if len(self._buffer) > self._max_buffered_bytes:
            behind_s = len(self._buffer) / BYTES_PER_SAMPLE / self.format.sample_rate
            self.end(f"the analyser fell {behind_s:.0f} s behind the music")
        self._data.set()

    def end(self, reason: str) -> None:
        if self._ended is None:
            self._ended = reason
        self._data.set()

    @property
    def ended(self) -> bool:
        return self._ended is not None

    @property
    def received_samples(self) -> int:
        return self._received_samples

    # ---------------------------------------------------------------- read by the stream loop

    @property
    def pid(self) -> int | None:
        return None

    @property
    def peak_buffered_bytes(self) -> int:
        return self._peak_buffered_bytes

    async def start(self) -> None:
        if self._ended is not None:
            raise OSError(self._ended)

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        try:
            async with asyncio.timeout(timeout_s):
                while len(self._buffer) < n_bytes:
                    if self._interrupted or self._ended is not None:
                        raise EOFError(self._ended or "interrupted")
                    self._data.clear()
                    await self._data.wait()
        except TimeoutError as error:  # its text is the status detail users read
            raise TimeoutError(f"no audio from the Sendspin server for {timeout_s:g} s") from error
        data = bytes(self._buffer[:n_bytes])
        del self._buffer[:n_bytes]
        self._read_samples += n_bytes // BYTES_PER_SAMPLE
        return data

    def interrupt(self) -> None:
        self._interrupted = True
        self._data.set()

    async def close(self) -> None:
        # The loop is done with it: later audio goes to a fresh stream counted from its own start.
        self.end("closed by the analyser")

    # ---------------------------------------------------------------- when samples are heard

    def server_time_us(self, sample_index: int) -> float | None:
        """When sample ``sample_index`` (counted from the stream's start) is heard, on the server's
        clock as the server stamped it; None for a sample not received (or long forgotten)."""
        if sample_index >= self._received_samples:
            return None
        for first, server_us in reversed(self._segments):
            if first <= sample_index:
                return server_us + (sample_index - first) * 1e6 / self.format.sample_rate
        return None

    def play_time_s(self, sample_index: int) -> float | None:
        """The same moment on the local monotonic clock (``loop.time()``), in seconds; None also
        while the clocks are not synchronised yet."""
        server_us = self.server_time_us(sample_index)
        if server_us is None:
            return None
        whole_us = int(server_us)
        local_us = self._to_local_us(whole_us)
        return None if local_us is None else (local_us + (server_us - whole_us)) / 1e6


class SendspinPcmSource:
    """The stream the server plays now, as a `PcmSource` for one stream-loop attempt."""

    real_time = True
    # Every chunk carries its play time: a negative delay advances readings against it.
    knows_play_time = True

    def __init__(self, stream: SendspinStream) -> None:
        self.stream = stream

    def open(self, pcm_format: PcmFormat) -> PcmStream:
        if pcm_format.sample_rate != self.stream.format.sample_rate:
            self.stream.end(
                f"the stream runs at {self.stream.format.sample_rate} Hz, the model needs "
                f"{pcm_format.sample_rate} Hz"
            )
        return self.stream


class SendspinPlayer:
    """A Sendspin player kept connected for as long as the analyser runs."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        server: SendspinServerUrl,
        *,
        client_id: str,
        name: str,
        on_change: Callable[[], None],
    ) -> None:
        self._session = session
        self.server = server
        self._client_id = client_id
        self._name = name
        self._on_change = on_change
        self.clock = ClockSync()
        self._sample_rate: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._answered = asyncio.Event()
        self.connected = False
        self.last_error: str | None = None
        self.stream: SendspinStream | None = None
        # The format of what the server plays to this player now; None while nothing plays.
        self._playing: StreamFormat | None = None
        # Why the stream the server plays cannot be analysed (a format that was not offered).
        self._unsupported: str | None = None
        self.streams_started = 0

    # ---------------------------------------------------------------- lifecycle

    def ensure_running(
        self, sample_rate: int, spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]
    ) -> None:
        """Connect (again) with a hello for ``sample_rate`` unless that connection already runs."""
        if self._task is not None and not self._task.done() and sample_rate == self._sample_rate:
            return
        if self._task is not None:
            self._task.cancel()
        self._sample_rate = sample_rate
        self._answered.clear()
        self._task = spawn(self._async_run(sample_rate))

    async def async_stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_connected(False)
        self._end_stream("the analyser stopped")

    async def async_resolve(
        self, sample_rate: int, spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]
    ) -> SendspinPcmSource:
        """The stream playing now; SourceUnavailableError while none plays or no server answers."""
        self.ensure_running(sample_rate, spawn)
        if not self._answered.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FIRST_CONNECT_WAIT_S):
                    await self._answered.wait()
        if not self.connected:
            raise SourceUnavailableError(
                "source_error",
                f"cannot reach the Sendspin server at {self.server.url}"
                + (f" ({self.last_error})" if self.last_error else ""),
            )
        if self._unsupported is not None:
            raise SourceUnavailableError("unsupported_media", self._unsupported)
        if self._playing is None:
            raise SourceUnavailableError(
                "waiting_for_media",
                f"connected to {self.server.url} as the player {self._name!r}; nothing plays "
                "to it (add it to the group that plays in Music Assistant)",
            )
        stream = self.stream
        if stream is None or stream.ended:
            stream = self._open_stream(self._playing)
        return SendspinPcmSource(stream)

    def diagnostics(self) -> dict[str, Any]:
        """The player's connection and clock, for the analyser's diagnostics."""
        stream = self.stream
        return {
            "server": self.server.url,
            "connected": self.connected,
            "last_error": self.last_error,
            "clock_uncertainty_ms": None
            if self.clock.uncertainty_us is None
            else self.clock.uncertainty_us / 1000.0,
            "streams_started": self.streams_started,
            "stream": None
            if stream is None
            else {
                "channels": stream.format.channels,
                "sample_rate": stream.format.sample_rate,
                "received_samples": stream.received_samples,
                "ended": stream.ended,
                "peak_buffered_bytes": stream.peak_buffered_bytes,
            },
            "unsupported": self._unsupported,
        }

    def seconds_until_heard(self, end_sample: int) -> float | None:
        """Seconds until the current stream's samples before ``end_sample`` have been heard
        (negative once they have been); None while that is not known."""
        stream = self.stream
        if stream is None or end_sample < 1:
            return None
        heard_s = stream.play_time_s(end_sample - 1)
        if heard_s is None:
            return None
        return heard_s + 1.0 / stream.format.sample_rate - local_clock_us() / 1e6

    # ---------------------------------------------------------------- the connection task

    async def _async_run(self, sample_rate: int) -> None:
        backoff = Backoff(RECONNECT_MIN_S, RECONNECT_MAX_S)
        while True:
            try:
                await self._async_session(sample_rate, backoff)
                self.last_error = "the server closed the connection"
            except (aiohttp.ClientError, OSError, SendspinError, TimeoutError) as error:
                self.last_error = str(error) or type(error).__name__
            except Exception as error:  # a broken player must retry, never die silently
                _LOGGER.exception("Sendspin player %s failed", self._name)
                self.last_error = f"{type(error).__name__}: {error}"
            self._set_connected(False)
            self._answered.set()
            await asyncio.sleep(backoff.next_delay())

    async def _async_session(self, sample_rate: int, backoff: Backoff) -> None:
        async with self._session.ws_connect(
            self.server.url, heartbeat=30, max_msg_size=MAX_FRAME_BYTES, autoping=True
        ) as socket:
            await _async_join(socket, self._client_id, self._name, sample_rate)
            self.clock = ClockSync()
            self._set_connected(True)
            self._answered.set()
            backoff.reset()
            clock_task = asyncio.create_task(self._async_ask_time(socket))
            try:
                await self._async_receive(socket, sample_rate)
            finally:
                clock_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock_task
                if not socket.closed:
                    with contextlib.suppress(aiohttp.ClientError, OSError):
                        await socket.send_str(client_goodbye())

    async def _async_ask_time(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        for _ in range(CLOCK_BURST):
            await socket.send_str(client_time(local_clock_us()))
            await asyncio.sleep(CLOCK_BURST_INTERVAL_S)
        while True:
            await asyncio.sleep(CLOCK_INTERVAL_S)
            await socket.send_str(client_time(local_clock_us()))

    async def _async_receive(
        self, socket: aiohttp.ClientWebSocketResponse, sample_rate: int
    ) -> None:
        async for message in socket:
            if message.type is aiohttp.WSMsgType.BINARY:
                self._on_audio(message.data)
            elif message.type is aiohttp.WSMsgType.TEXT:
                self._on_text(message.data, sample_rate)
            elif message.type is aiohttp.WSMsgType.ERROR:
                raise SendspinError(f"connection error ({socket.exception()})")

    def _on_text(self, data: str, sample_rate: int) -> None:
        message_type, payload = parse_text_message(data)
        if message_type == "server/time":
            self.clock.add(parse_server_time(payload, local_clock_us()))
        elif message_type == "stream/start":
            if "player" not in payload:
                return  # a stream for roles Music Mood does not have
            try:
                stream_format = parse_stream_start(payload, sample_rate)
            except SendspinError as error:  # the server's choice, not a broken connection
                self._stop_playing(str(error))
                self._unsupported = str(error)
                return
            self._start_stream(stream_format)
        elif message_type == "stream/end":
            if _concerns_player(payload):
                self._stop_playing("the group stopped playing")
        elif message_type == "stream/clear" and _concerns_player(payload) and self._playing:
            # A seek: what was sent ahead is not heard. A new stream keeps the excerpts honest.
            self._start_stream(self._playing)

    def _start_stream(self, stream_format: StreamFormat) -> None:
        self._unsupported = None
        self._playing = stream_format
        self._open_stream(stream_format)
        self._on_change()

    def _open_stream(self, stream_format: StreamFormat) -> SendspinStream:
        """A stream counted from the next chunk on (the previous one, if any, ends)."""
        self._end_stream("a new stream started")
        max_bytes = int(MAX_BUFFERED_SECONDS * stream_format.sample_rate) * BYTES_PER_SAMPLE
        self.stream = SendspinStream(stream_format, max_bytes, self._to_local_us)
        self.streams_started += 1
        return self.stream

    def _stop_playing(self, reason: str) -> None:
        self._playing = None
        self._unsupported = None
        self._end_stream(reason)
        self._on_change()

    def _on_audio(self, frame: bytes) -> None:
        chunk = parse_audio_chunk(frame)
        if chunk is None or self._playing is None:
            return
        stream = self.stream
        if stream is None or stream.ended:
            # The analyser closed the last one (a restart) while the group plays on.
            stream = self._open_stream(self._playing)
            self._on_change()
        server_play_us, data = chunk
        stream.append(server_play_us, data)

    def _to_local_us(self, server_us: int) -> float | None:
        return self.clock.to_local_us(server_us) if self.clock.synchronised else None

    def _end_stream(self, reason: str) -> None:
        if self.stream is not None:
            self.stream.end(reason)

    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if not connected:
            self._playing = None
            self._unsupported = None
            self._end_stream(f"lost the connection to {self.server.url}")
        self._on_change()


async def _async_join(
    socket: aiohttp.ClientWebSocketResponse, client_id: str, name: str, sample_rate: int
) -> None:
    """Hello, the server's answer, the player's state: Music Mood is a player of the server."""
    await socket.send_str(client_hello(client_id, name, sample_rate))
    async with asyncio.timeout(HELLO_TIMEOUT_S):
        message = await socket.receive()
    if message.type is not aiohttp.WSMsgType.TEXT:
        raise SendspinError(f"the server answered the hello with {message.type.name}")
    message_type, payload = parse_text_message(message.data)
    if message_type != "server/hello":
        raise SendspinError(f"the server answered the hello with {message_type[:40]!r}")
    if PLAYER_ROLE not in (payload.get("active_roles") or []):
        raise SendspinError("the server did not accept Music Mood as a player")
    await socket.send_str(client_state(lead_time_ms=LEAD_TIME_MS, min_buffer_ms=MIN_BUFFER_MS))


async def async_check_server(
    session: aiohttp.ClientSession,
    server: SendspinServerUrl,
    *,
    client_id: str,
    name: str,
    sample_rate: int,
) -> None:
    """Test before configure: the server accepts Music Mood as a player (then it says goodbye).

    SendspinError, aiohttp.ClientError, OSError or TimeoutError when it does not.
    """
    async with session.ws_connect(server.url, max_msg_size=MAX_FRAME_BYTES) as socket:
        await _async_join(socket, client_id, name, sample_rate)
        await socket.send_str(client_goodbye())


def _concerns_player(payload: dict[str, Any]) -> bool:
    roles = payload.get("roles")
    return roles is None or (isinstance(roles, list) and "player" in roles)
