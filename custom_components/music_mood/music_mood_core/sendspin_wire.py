"""The Sendspin protocol as a listening player speaks it: what is sent, what is read, and how.

Sendspin (Music Assistant's streaming protocol) runs over one WebSocket. Text frames carry JSON
``{"type": ..., "payload": {...}}`` messages; binary frames carry audio: one byte saying what it is
(4, a player's audio chunk), eight bytes of big-endian server time in microseconds at which the
chunk's first sample is to be heard, and the samples.

Music Mood joins as a player that asks for exactly what the model reads (16-bit PCM at the model's
sample rate; mono preferred, stereo accepted and mixed down here), so the server does the only
resampling and the samples analysed are the samples the speakers play. This is the unencrypted
hello that Sendspin servers accept from players built before the protocol's Noise encryption
(Music Assistant 2.8, and later servers in their transition mode): its audio header has no
send-ahead field, so it is 9 bytes.

Everything read here is untrusted network data: sizes are bounded, formats are checked against
what was offered, and a malformed message is an error with a reason, never a crash.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import numpy as np

from .host_address import HostAddress, HostAddressError, checked_host, checked_port

SENDSPIN_PATH: Final = "/sendspin"
DEFAULT_SENDSPIN_PORT: Final = 8927
PLAYER_ROLE: Final = "player@v1"
PROTOCOL_VERSION: Final = 1
AUDIO_CHUNK_TYPE: Final = 4
AUDIO_HEADER: Final = struct.Struct(">Bq")
# What the player says it can buffer; the server keeps its send-ahead below it. About 12 s of the
# stereo format at 22.05 kHz: a server may run that far ahead, and no further.
BUFFER_CAPACITY_BYTES: Final = 1_048_576
# A text message larger than this is not one Music Mood needs (metadata is not requested).
MAX_TEXT_BYTES: Final = 64 * 1024
# Largest binary frame read: far above a chunk of audio (tens of ms), far below any harm.
MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
_SAMPLE_BITS: Final = 16
_MAX_CLIENT_ID_CHARS: Final = 64
_MAX_NAME_CHARS: Final = 100


class SendspinError(Exception):
    """The server sent something a player cannot use; the message says what."""


class SendspinUrlError(ValueError):
    """Not a Sendspin server address Music Mood connects to; the message says what is."""


@dataclass(frozen=True, slots=True)
class SendspinServerUrl:
    """A validated server address: ``ws``/``wss``, a host and a port, the protocol's fixed path."""

    secure: bool
    address: HostAddress

    @property
    def url(self) -> str:
        return f"{'wss' if self.secure else 'ws'}://{self.address.netloc}{SENDSPIN_PATH}"


def parse_server_url(text: str) -> SendspinServerUrl:
    """``ws://host[:port][/sendspin]`` (or ``wss://``), the port defaulting to 8927.

    No credentials, query or fragment (the protocol has none), and no path but the protocol's own.
    """
    text = text.strip()
    if len(text) > 300:
        raise SendspinUrlError(f"the address is {len(text)} characters long (at most 300)")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise SendspinUrlError(f"{text[:80]!r} is not a valid address ({error})") from error
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise SendspinUrlError(
            f"{text[:80]!r} is not a Sendspin address: write ws://HOST:PORT (e.g. "
            f"ws://192.168.1.20:{DEFAULT_SENDSPIN_PORT}), or wss:// for an encrypted proxy"
        )
    if "@" in parts.netloc or parts.query or parts.fragment or "?" in text or "#" in text:
        raise SendspinUrlError("a Sendspin address has no user name, password, query or fragment")
    if parts.path not in ("", "/", SENDSPIN_PATH):
        raise SendspinUrlError(f"a Sendspin server listens on {SENDSPIN_PATH}, not {parts.path!r}")
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    try:
        address = HostAddress(
            checked_host(host), checked_port(DEFAULT_SENDSPIN_PORT if port is None else port)
        )
    except HostAddressError as error:
        raise SendspinUrlError(str(error)) from error
    return SendspinServerUrl(secure=scheme == "wss", address=address)


def checked_client_id(client_id: str) -> str:
    """The id a player registers under: stable, printable, short (the server keys groups by it)."""
    if not 1 <= len(client_id) <= _MAX_CLIENT_ID_CHARS or not all(
        character.isascii() and (character.isalnum() or character in "-_.")
        for character in client_id
    ):
        raise ValueError(f"a player id is 1-{_MAX_CLIENT_ID_CHARS} of [A-Za-z0-9._-]")
    return client_id


def _message(message_type: str, payload: dict[str, Any]) -> str:
    return json.dumps({"type": message_type, "payload": payload}, separators=(",", ":"))


def client_hello(client_id: str, name: str, sample_rate: int) -> str:
    """Announce a player that takes 16-bit PCM at ``sample_rate``, mono first, then stereo."""
    formats = [
        {
            "codec": "pcm",
            "channels": channels,
            "sample_rate": sample_rate,
            "bit_depth": _SAMPLE_BITS,
        }
        for channels in (1, 2)
    ]
    return _message(
        "client/hello",
        {
            "client_id": checked_client_id(client_id),
            "name": name[:_MAX_NAME_CHARS] or "Music Mood",
            "version": PROTOCOL_VERSION,
            "supported_roles": [PLAYER_ROLE],
            "device_info": {"product_name": "Music Mood", "manufacturer": "Music Mood"},
            f"{PLAYER_ROLE}_support": {
                "supported_formats": formats,
                "buffer_capacity": BUFFER_CAPACITY_BYTES,
                # Required by servers of this wire's generation (Music Assistant 2.8); later ones
                # read commands from client/state and only note the old place.
                "supported_commands": [],
            },
        },
    )


def client_state(*, lead_time_ms: int, min_buffer_ms: int) -> str:
    """A listening player is always synchronised; it has no volume or mute to offer.

    ``state`` is how servers of this wire's generation read it, ``available`` how later ones do.
    """
    return _message(
        "client/state",
        {
            "state": "synchronized",
            "available": True,
            "player": {
                "output_delay_ms": 0,
                "required_lead_time_ms": lead_time_ms,
                "min_buffer_ms": min_buffer_ms,
                "supported_commands": [],
            },
        },
    )


def client_time(client_transmitted_us: int) -> str:
    return _message("client/time", {"client_transmitted": int(client_transmitted_us)})


def client_goodbye() -> str:
    return _message("client/goodbye", {"reason": "shutdown"})


def parse_text_message(data: str) -> tuple[str, dict[str, Any]]:
    """``(type, payload)`` of a server message; SendspinError for anything else."""
    if len(data) > MAX_TEXT_BYTES:
        raise SendspinError(f"a {len(data)}-character message (at most {MAX_TEXT_BYTES})")
    try:
        message = json.loads(data)
    except ValueError as error:
        raise SendspinError(f"a message that is not JSON ({error})") from error
    if not isinstance(message, dict):
        raise SendspinError("a message that is not a JSON object")
    message_type, payload = message.get("type"), message.get("payload", {})
    if not isinstance(message_type, str) or not isinstance(payload, dict):
        raise SendspinError("a message without a type or with a payload that is not an object")
    return message_type, payload


@dataclass(frozen=True, slots=True)
class TimeSample:
    """One ``client/time`` -> ``server/time`` round trip, all in microseconds."""

    client_transmitted: int
    server_received: int
    server_transmitted: int
    client_received: int


def parse_server_time(payload: dict[str, Any], client_received_us: int) -> TimeSample:
    values = [
        payload.get(key) for key in ("client_transmitted", "server_received", "server_transmitted")
    ]
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        raise SendspinError("a server/time message without its three integer timestamps")
    sent, received, transmitted = (int(value) for value in values)  # type: ignore[arg-type]
    return TimeSample(sent, received, transmitted, client_received_us)


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """The PCM a stream carries: one of the two formats the hello offered."""

    sample_rate: int
    channels: int

    @property
    def frame_bytes(self) -> int:
        return 2 * self.channels


def parse_stream_start(payload: dict[str, Any], sample_rate: int) -> StreamFormat:
    """The player part of ``stream/start``, checked against what was offered."""
    player = payload.get("player")
    if not isinstance(player, dict):
        raise SendspinError("stream/start has no player format")
    codec, rate = player.get("codec"), player.get("sample_rate")
    channels, bits = player.get("channels"), player.get("bit_depth")
    if codec != "pcm" or rate != sample_rate or bits != _SAMPLE_BITS or channels not in (1, 2):
        raise SendspinError(
            f"the server streams {str(codec)[:20]} {str(rate)[:10]} Hz, {str(bits)[:4]}-bit, "
            f"{str(channels)[:4]} channel(s); Music Mood asked for {_SAMPLE_BITS}-bit PCM at "
            f"{sample_rate} Hz, 1 or 2 channels"
        )
    return StreamFormat(sample_rate=sample_rate, channels=int(channels))


def parse_audio_chunk(frame: bytes) -> tuple[int, bytes] | None:
    """``(server play time in µs, samples)`` of a player audio chunk; None for other binaries."""
    if len(frame) < AUDIO_HEADER.size:
        raise SendspinError(f"a {len(frame)}-byte binary message (shorter than its header)")
    message_type, timestamp_us = AUDIO_HEADER.unpack_from(frame)
    if message_type != AUDIO_CHUNK_TYPE:
        return None
    return timestamp_us, frame[AUDIO_HEADER.size :]


class MonoPcm:
    """Turns a stream's chunks into int16 mono samples; a frame split across chunks is carried."""

    __slots__ = ("_carry", "_format")

    def __init__(self, stream_format: StreamFormat) -> None:
        self._format = stream_format
        self._carry = b""

    def convert(self, data: bytes) -> np.ndarray[Any, np.dtype[np.int16]]:
        data = self._carry + data
        usable = len(data) - len(data) % self._format.frame_bytes
        self._carry = data[usable:]
        samples = np.frombuffer(data[:usable], dtype="<i2")
        if self._format.channels == 1:
            return samples.astype(np.int16)
        frames = samples.reshape(-1, 2).astype(np.int32)
        # The mean of the two channels, rounded half away from zero (symmetric for +/- signals).
        total = frames[:, 0] + frames[:, 1]
        mean: np.ndarray[Any, np.dtype[np.int16]] = (
            np.sign(total) * ((np.abs(total) + 1) // 2)
        ).astype(np.int16)
        return mean
