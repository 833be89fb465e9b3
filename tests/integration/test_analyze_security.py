"""The analyze action: administrators only, http(s) and allow-listed files only, no error oracle,
bounded memory, audio duration and time, and a clean 400 through the REST API."""

from __future__ import annotations

import contextlib
import http.server
import logging
import socket
import socketserver
import subprocess
import threading
import tracemalloc
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
import voluptuous as vol
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.setup import async_setup_component

from custom_components.music_mood import analysis
from custom_components.music_mood.audio_source import parse_ffmpeg_input
from custom_components.music_mood.const import DOMAIN
from custom_components.music_mood.music_mood_core.audio import BYTES_PER_SAMPLE
from custom_components.music_mood.music_mood_core.model import load_model

from .assets import TEST_MODEL_ID
from .processes import ffmpeg_children, free_port

# What one analyze call may add to the Python heap, whatever the input. The decode the action used
# to keep in memory is 2.6 MB per minute of audio at 22.05 kHz: 476 MB for the 3-hour file below.
HEAP_GROWTH_CAP = 32 * 1024 * 1024
# The same bound seen by the kernel (allocator slack, executor thread stacks included).
RSS_GROWTH_CAP = 64 * 1024 * 1024
REST_GIVES_MESSAGE = (MAJOR_VERSION, MINOR_VERSION) >= (2026, 10)


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Tracebacks a user would see (Home Assistant logs some at debug level on purpose)."""
    return [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]


async def _analyze(hass: HomeAssistant, source: str, **data: str) -> dict:
    return await hass.services.async_call(
        DOMAIN,
        "analyze",
        {"source": source, "model": TEST_MODEL_ID, **data},
        blocking=True,
        return_response=True,
    )


async def _refusal(hass: HomeAssistant, source: str) -> ServiceValidationError:
    with pytest.raises(ServiceValidationError) as raised:
        await _analyze(hass, source)
    assert raised.value.translation_domain == DOMAIN
    return raised.value


# ------------------------------------------------------------------------------ who may call


async def test_a_non_admin_user_is_refused(
    hass: HomeAssistant, media_dir: Path, hass_read_only_user, hass_admin_user
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    data = {"source": str(media_dir / "short.wav"), "model": TEST_MODEL_ID}
    with pytest.raises(Unauthorized) as raised:
        await hass.services.async_call(
            DOMAIN,
            "analyze",
            data,
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    assert str(raised.value).startswith("Only administrators may run music_mood.analyze:")
    assert ffmpeg_children() == []  # refused before anything was opened

    response = await hass.services.async_call(
        DOMAIN,
        "analyze",
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert len(response["timeline"]) == 7


async def test_a_non_admin_user_is_refused_through_websocket_and_rest(
    hass: HomeAssistant,
    media_dir: Path,
    hass_ws_client,
    hass_client,
    hass_read_only_access_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "api", {})
    data = {"source": str(media_dir / "short.wav"), "model": TEST_MODEL_ID}
    websocket = await hass_ws_client(hass, hass_read_only_access_token)
    await websocket.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "analyze",
            "service_data": data,
            "return_response": True,
        }
    )
    answer = await websocket.receive_json()
    assert not answer["success"]
    assert "Only administrators may run music_mood.analyze" in answer["error"]["message"]
    assert not _tracebacks(caplog)

    client = await hass_client(hass_read_only_access_token)
    response = await client.post(f"/api/services/{DOMAIN}/analyze?return_response", json=data)
    assert response.status == HTTPStatus.UNAUTHORIZED


# ------------------------------------------------------------------------------ what it may read


@pytest.fixture
def unused_port(socket_enabled: None) -> Iterator[int]:
    port = free_port()
    yield port
    # Whatever the call did, nothing may be listening there afterwards.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something listens on port {port}"


@pytest.mark.parametrize(
    ("template", "translation_key"),
    [
        ("tcp://0.0.0.0:{port}?listen=1", "analyze_invalid_source"),
        ("tcp://127.0.0.1:{port}?listen=1&listen_timeout=5000", "analyze_invalid_source"),
        ("http://127.0.0.1:{port}/?listen=1", "analyze_invalid_source"),
        ("tcp://127.0.0.1:{port}", "analyze_unsupported_source"),
        ("udp://127.0.0.1:{port}", "analyze_unsupported_source"),
        ("rtsp://127.0.0.1:{port}/stream", "analyze_unsupported_source"),
        ("rtmp://127.0.0.1:{port}/live", "analyze_unsupported_source"),
        ("srt://127.0.0.1:{port}?mode=listener", "analyze_invalid_source"),
        ("pulse:default", "analyze_unsupported_source"),
        ("alsa:default", "analyze_unsupported_source"),
        ("ftp://127.0.0.1:{port}/song.ogg", "analyze_invalid_source"),
        ("gopher://127.0.0.1:{port}/", "analyze_invalid_source"),
        ("concat:/etc/passwd|/etc/hosts", "analyze_invalid_source"),
        ("subfile,,start,0,end,0,,:/etc/passwd", "analyze_invalid_source"),
    ],
)
async def test_only_http_urls_and_allow_listed_files_are_read(
    hass: HomeAssistant, media_dir: Path, unused_port: int, template: str, translation_key: str
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    refusal = await _refusal(hass, template.format(port=unused_port))
    assert refusal.translation_key == translation_key
    assert ffmpeg_children() == []  # refused before ffmpeg ever started


async def test_an_over_long_file_name_is_a_clean_refusal(
    hass: HomeAssistant, media_dir: Path
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    refusal = await _refusal(hass, str(media_dir / ("x" * 300 + ".ogg")))
    assert refusal.translation_key in {"analyze_invalid_source", "analyze_file_not_found"}


async def test_a_local_file_that_is_not_audio_gives_ffmpeg_s_reason(
    hass: HomeAssistant, media_dir: Path
) -> None:
    """Allow-listed files are the administrator's own: ffmpeg's reason helps, leaks nothing."""
    (media_dir / "notes.wav").write_text("shopping list\n" * 100)
    assert await async_setup_component(hass, DOMAIN, {})
    refusal = await _refusal(hass, str(media_dir / "notes.wav"))
    assert refusal.translation_key == "analyze_decode_failed"
    assert str(refusal).startswith(f"ffmpeg could not decode {media_dir / 'notes.wav'}: exit ")
    assert ffmpeg_children() == []


async def test_an_over_long_source_is_refused_by_the_schema(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(vol.Invalid, match="at most 4096"):
        await _analyze(hass, "http://example.com/" + "a" * 5000)
    assert ffmpeg_children() == []


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def _serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class _NotHttp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(HTTPStatus.NOT_FOUND)

    def log_message(self, format: str, *arguments: object) -> None:
        pass


class _NotAudio(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>login</body></html>" * 50
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *arguments: object) -> None:
        pass


async def test_every_network_failure_gives_the_same_message(
    hass: HomeAssistant, media_dir: Path, socket_enabled: None
) -> None:
    """No port-scanning oracle: closed, non-HTTP, 404 and non-audio all read alike."""
    assert await async_setup_component(hass, DOMAIN, {})
    refusals: dict[str, tuple[int, ServiceValidationError]] = {}
    closed = free_port()
    refusals["closed port"] = (closed, await _refusal(hass, f"http://127.0.0.1:{closed}/x.ogg"))
    for name, handler in (("ssh", _NotHttp), ("404", _NotFound), ("html", _NotAudio)):
        with _serving(handler) as port:
            refusals[name] = (port, await _refusal(hass, f"http://127.0.0.1:{port}/x.ogg"))

    keys = {refusal.translation_key for _, refusal in refusals.values()}
    assert keys == {"analyze_cannot_read"}
    texts = {str(refusal).replace(str(port), "PORT") for port, refusal in refusals.values()}
    assert texts == {"Could not read audio from http://127.0.0.1:PORT/x.ogg"}
    assert ffmpeg_children() == []


# ------------------------------------------------------------------------------ what it may cost


def _rss_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing from /proc/self/status")


class _MemoryWatch:
    """Peak Python heap growth (tracemalloc, numpy included) and peak RSS growth of this process."""

    def __enter__(self) -> _MemoryWatch:
        # "5" resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+).
        Path("/proc/self/clear_refs").write_text("5")
        self.rss_before = _rss_bytes("VmRSS")
        tracemalloc.start()
        tracemalloc.reset_peak()
        self.heap_before, _ = tracemalloc.get_traced_memory()
        return self

    def __exit__(self, *exc_info: object) -> None:
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.heap_growth = heap_peak - self.heap_before
        self.rss_growth = _rss_bytes("VmHWM") - self.rss_before

    def __str__(self) -> str:
        return f"heap +{self.heap_growth / 2**20:.1f} MiB, RSS +{self.rss_growth / 2**20:.1f} MiB"


def _long_silence(folder: Path, hours: float) -> Path:
    """A tiny FLAC (big frames of digital silence) that decodes to hours of audio."""
    target = folder / "long_silence.flac"
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
    command += ["-i", "anullsrc=r=8000:cl=mono", "-t", str(round(hours * 3600))]
    command += ["-c:a", "flac", "-frame_size", "65535", str(target)]
    subprocess.run(command, check=True)
    return target


@pytest.fixture
def short_limits(monkeypatch: pytest.MonkeyPatch) -> analysis.AnalysisLimits:
    """A one-minute cap (the real one is 30 min) so the refusal comes within seconds."""
    monkeypatch.setattr(analysis, "MAX_DURATION_S", 60.0)
    return analysis.AnalysisLimits(max_duration_s=60.0)


async def test_a_tiny_file_of_hours_of_audio_is_refused_with_flat_memory(
    hass: HomeAssistant,
    media_dir: Path,
    short_limits: analysis.AnalysisLimits,
    record_property,
) -> None:
    long_file = _long_silence(media_dir, hours=3)
    assert long_file.stat().st_size < 100_000
    assert await async_setup_component(hass, DOMAIN, {})
    with _MemoryWatch() as memory:
        refusal = await _refusal(hass, str(long_file))
    assert refusal.translation_key == "analyze_too_long"
    assert "more than 1 min of audio" in str(refusal)
    record_property("heap_growth_bytes", memory.heap_growth)
    record_property("rss_growth_bytes", memory.rss_growth)
    print(f"3 h FLAC: {memory}")
    assert memory.heap_growth < HEAP_GROWTH_CAP
    assert memory.rss_growth < RSS_GROWTH_CAP
    assert ffmpeg_children() == []


async def test_an_endless_http_stream_is_refused_with_flat_memory(
    hass: HomeAssistant,
    media_dir: Path,
    stream_server,
    short_limits: analysis.AnalysisLimits,
    record_property,
) -> None:
    server = stream_server(media_dir / "short.wav", pace=False, loop=True)
    assert await async_setup_component(hass, DOMAIN, {})
    with _MemoryWatch() as memory:
        refusal = await _refusal(hass, server.url)
    assert refusal.translation_key == "analyze_too_long"
    print(f"endless stream: {memory}")
    record_property("heap_growth_bytes", memory.heap_growth)
    record_property("rss_growth_bytes", memory.rss_growth)
    assert memory.heap_growth < HEAP_GROWTH_CAP
    assert memory.rss_growth < RSS_GROWTH_CAP
    assert ffmpeg_children() == []


async def test_analysis_reads_in_bounded_chunks(
    hass: HomeAssistant, media_dir: Path, stream_server, short_limits: analysis.AnalysisLimits
) -> None:
    """Counted, not timed: the reader never held more than its chunks while reading past the cap."""
    server = stream_server(media_dir / "short.wav", pace=False, loop=True)
    model = load_model(Path(hass.config.path("music_mood")) / "tiny.onnx")
    stats = analysis.AnalysisStats()
    ffmpeg_input = await hass.async_add_executor_job(parse_ffmpeg_input, hass, server.url)
    with pytest.raises(analysis.AnalysisTooLongError):
        await analysis.async_analyze_timeline(
            hass, ffmpeg_input, model, "ffmpeg", limits=short_limits, stats=stats
        )
    sample_rate = model.info.sample_rate
    assert stats.samples_read > 60 * sample_rate  # it did read past the cap, then stopped
    chunk_bytes = 32 * round(model.info.hop_s * sample_rate) * BYTES_PER_SAMPLE
    assert 0 < stats.peak_buffered_bytes <= 2 * chunk_bytes + 64 * 1024
    model.close()


async def test_a_slow_endless_stream_hits_the_time_limit(
    hass: HomeAssistant, media_dir: Path, stream_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A radio paced in real time would take 30 min to reach the cap: the time limit ends it."""
    monkeypatch.setattr(analysis, "TIMEOUT_S", 2.0)
    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    assert await async_setup_component(hass, DOMAIN, {})
    refusal = await _refusal(hass, server.url)
    assert refusal.translation_key == "analyze_timeout"
    assert "2 seconds" in str(refusal)
    assert ffmpeg_children() == []


# ------------------------------------------------------------------------------ the REST API


async def test_a_bad_source_through_rest_is_a_400_without_traceback(
    hass: HomeAssistant,
    media_dir: Path,
    hass_client,
    hass_ws_client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "api", {})
    websocket = await hass_ws_client(hass)
    client = await hass_client()
    message = "/etc/passwd is outside the directories Home Assistant may read"

    response = await client.post(
        f"/api/services/{DOMAIN}/analyze?return_response", json={"source": "/etc/passwd"}
    )
    assert response.status == HTTPStatus.BAD_REQUEST
    if REST_GIVES_MESSAGE:
        assert (await response.json())["message"] == message
    else:
        # This Home Assistant's REST API answers every voluptuous error with a bare 400; the
        # reason is in the log, as one line.
        assert any(record.getMessage().endswith(message) for record in caplog.records)
    assert not _tracebacks(caplog)

    await websocket.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "analyze",
            "service_data": {"source": "/etc/passwd"},
            "return_response": True,
        }
    )
    answer = await websocket.receive_json()
    assert not answer["success"]
    assert message in answer["error"]["message"]
    assert not _tracebacks(caplog)

    # A good call through REST still answers with the timeline.
    response = await client.post(
        f"/api/services/{DOMAIN}/analyze?return_response",
        json={"source": str(media_dir / "short.wav"), "model": TEST_MODEL_ID},
    )
    assert response.status == HTTPStatus.OK
    assert len((await response.json())["service_response"]["timeline"]) == 7
