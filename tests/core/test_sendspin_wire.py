"""The Sendspin wire as a listening player reads it: addresses, messages, audio chunks, clocks."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from music_mood_core.clock_sync import ClockSync
from music_mood_core.host_address import HostAddressError, checked_host, checked_port
from music_mood_core.sendspin_wire import (
    MAX_TEXT_BYTES,
    MonoPcm,
    SendspinError,
    SendspinUrlError,
    StreamFormat,
    TimeSample,
    client_hello,
    client_state,
    parse_audio_chunk,
    parse_server_time,
    parse_server_url,
    parse_stream_start,
    parse_text_message,
)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("ws://192.168.1.20:8927", "ws://192.168.1.20:8927/sendspin"),
        ("ws://192.168.1.20", "ws://192.168.1.20:8927/sendspin"),
        ("WS://Music.Local:9000/sendspin", "ws://music.local:9000/sendspin"),
        ("wss://ma.example.org/", "wss://ma.example.org:8927/sendspin"),
        ("ws://[fe80::1]:8927", "ws://[fe80::1]:8927/sendspin"),
        ("  ws://homeassistant.local.:8927  ", "ws://homeassistant.local:8927/sendspin"),
    ],
)
def test_server_urls_that_are_accepted(text: str, url: str) -> None:
    assert parse_server_url(text).url == url


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("http://192.168.1.20:8927", "not a Sendspin address"),
        ("ws://", "not a Sendspin address"),
        ("ws://user:secret@host:8927", "no user name"),
        ("ws://host:8927/sendspin?token=1", "no user name"),
        ("ws://host:8927/#x", "no user name"),
        ("ws://host:8927/other", "listens on /sendspin"),
        ("ws://host:0", "port is a whole number"),
        ("ws://host:99999", "not a valid address"),
        ("ws://-bad-.local:8927", "is not a host"),
        ("ws://ho st:8927", "is not a host"),
        ("ws://999.1.1.1:8927", "not an IPv4 address"),
        ("ws://[zz::1]:8927", "not a valid address"),
        ("ws://" + "a" * 400, "at most 300"),
    ],
)
def test_server_urls_that_are_refused_say_why(text: str, why: str) -> None:
    with pytest.raises(SendspinUrlError, match=why):
        parse_server_url(text)


def test_host_grammar() -> None:
    assert checked_host("[::1]") == "::1"
    assert checked_host("MA.Local") == "ma.local"
    assert checked_host("10.0.0.7") == "10.0.0.7"
    for bad in ("", "a/b", "a@b", "host:80", "x" * 254, "a..b", "[1.2.3.4]"):
        with pytest.raises(HostAddressError):
            checked_host(bad)
    assert checked_port("8097") == 8097
    for bad_port in (0, 65536, True, "80a", 8.5, None):
        with pytest.raises(HostAddressError):
            checked_port(bad_port)


def test_hello_offers_the_models_rate_mono_first_and_no_commands() -> None:
    hello = json.loads(client_hello("music-mood-abc", "Living room mood", 22050))
    assert hello["type"] == "client/hello"
    payload = hello["payload"]
    assert payload["client_id"] == "music-mood-abc"
    assert payload["supported_roles"] == ["player@v1"]
    formats = payload["player@v1_support"]["supported_formats"]
    assert [(f["codec"], f["channels"], f["sample_rate"], f["bit_depth"]) for f in formats] == [
        ("pcm", 1, 22050, 16),
        ("pcm", 2, 22050, 16),
    ]
    assert payload["player@v1_support"]["supported_commands"] == []
    state = json.loads(client_state(lead_time_ms=200, min_buffer_ms=500))["payload"]
    assert state["available"] is True
    assert state["player"]["supported_commands"] == []
    with pytest.raises(ValueError, match="player id"):
        client_hello("bad id with spaces", "x", 22050)


def test_stream_start_must_be_what_was_offered() -> None:
    offered = {"codec": "pcm", "sample_rate": 22050, "channels": 2, "bit_depth": 16}
    assert parse_stream_start({"player": offered}, 22050) == StreamFormat(22050, 2)
    for change in (
        {"codec": "flac"},
        {"sample_rate": 48000},
        {"channels": 6},
        {"bit_depth": 24},
        {"channels": "2"},
    ):
        with pytest.raises(SendspinError, match="asked for 16-bit PCM at 22050 Hz"):
            parse_stream_start({"player": offered | change}, 22050)
    with pytest.raises(SendspinError, match="no player format"):
        parse_stream_start({}, 22050)


def test_malformed_messages_are_errors_not_crashes() -> None:
    assert parse_text_message('{"type":"stream/end","payload":{}}') == ("stream/end", {})
    for bad in ("not json", "[1]", '{"payload":{}}', '{"type":"x","payload":[]}'):
        with pytest.raises(SendspinError):
            parse_text_message(bad)
    with pytest.raises(SendspinError, match="at most"):
        parse_text_message(" " * (MAX_TEXT_BYTES + 1))
    with pytest.raises(SendspinError, match="three integer timestamps"):
        parse_server_time({"client_transmitted": 1, "server_received": True}, 5)


def test_audio_chunks_and_other_binaries() -> None:
    samples = np.array([1, -2, 3], dtype="<i2").tobytes()
    assert parse_audio_chunk(struct.pack(">Bq", 4, 123_456_789) + samples) == (
        123_456_789,
        samples,
    )
    assert parse_audio_chunk(struct.pack(">Bq", 8, 5) + b"jpeg") is None  # artwork: not ours
    with pytest.raises(SendspinError, match="shorter than its header"):
        parse_audio_chunk(b"\x04\x00")


def test_mono_conversion_carries_split_frames_and_mixes_stereo_down() -> None:
    left = np.array([100, -100, 3, -3, 32767], dtype=np.int16)
    right = np.array([200, -201, 0, 0, 32767], dtype=np.int16)
    stereo = np.column_stack([left, right]).astype("<i2").tobytes()
    mono = MonoPcm(StreamFormat(22050, 2))
    # Split in the middle of a sample and of a frame: nothing is lost or shifted.
    parts = [mono.convert(stereo[:3]), mono.convert(stereo[3:7]), mono.convert(stereo[7:])]
    np.testing.assert_array_equal(np.concatenate(parts), [150, -151, 2, -2, 32767])
    passthrough = MonoPcm(StreamFormat(22050, 1))
    data = np.arange(-5, 5, dtype="<i2").tobytes()
    got = np.concatenate([passthrough.convert(data[:5]), passthrough.convert(data[5:])])
    np.testing.assert_array_equal(got, np.arange(-5, 5))


def test_clock_sync_takes_the_fastest_round_trip() -> None:
    clock = ClockSync()
    assert not clock.synchronised
    assert clock.uncertainty_us is None
    with pytest.raises(ValueError, match="not synchronised"):
        clock.to_local_us(0)
    # The server's clock runs 1_000_000 µs ahead. A slow, asymmetric trip (900 µs out, 100 back)
    # misjudges the offset by 400 µs; a fast symmetric one (20 µs each way) gets it right.
    clock.add(TimeSample(0, 1_000_900, 1_000_910, 1_010))
    assert clock.to_local_us(2_000_000) == pytest.approx(1_000_000 - 400)
    clock.add(TimeSample(5_000, 1_005_020, 1_005_030, 5_050))
    assert clock.to_local_us(2_000_000) == pytest.approx(1_000_000)
    assert clock.uncertainty_us == pytest.approx(20)
    clock.add(TimeSample(9_000, 1_009_000, 1_009_500, 9_100))  # impossible: ignored
    assert clock.uncertainty_us == pytest.approx(20)
