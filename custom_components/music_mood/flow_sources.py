"""The analyser flow's source types: one row per type, with its source-step fields and its test.

A row says what the source step asks for (``fields``) and how that input is tested before an entry
is created or reconfigured (``validate``). To add a source type: a SOURCE_TYPE_* constant in
const.py, a row in SOURCE_TYPE_FLOWS, its label under "selector" > "source_type" in strings.json,
and labels for any further fields under the "source" and "reconfigure_source" steps. Every type
keeps CONF_SOURCE: the entry's unique id is made from it (source_identity.source_unique_id).
A source that delivers PCM itself tests its `PcmSource` with `async_probe_pcm_source`, as the
ffmpeg rows do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    TextSelector,
)

from .audio_source import (
    REASON_CANNOT_CONNECT,
    REASON_ENTITY_NOT_FOUND,
    AudioSource,
    FfmpegInput,
    SourceError,
)
from .const import (
    CONF_SOURCE,
    SOURCE_PROBE_TIMEOUT_S,
    SOURCE_TYPE_CAMERA,
    SOURCE_TYPE_FFMPEG,
    SOURCE_TYPE_MEDIA_PLAYER,
    SOURCE_TYPE_MUSIC_ASSISTANT_GROUP,
    SOURCE_TYPE_RAW_PCM_PIPE,
    SOURCE_TYPE_RAW_PCM_UDP,
    SOURCE_TYPE_SENDSPIN,
)
from .flow_helpers import required_key
from .flow_music_assistant import (
    async_validate_group_stream,
    async_validate_sendspin,
    group_stream_fields,
    sendspin_fields,
)
from .flow_raw_pcm import async_validate_pipe, async_validate_udp, raw_pcm_fields
from .music_mood_core.audio import BYTES_PER_SAMPLE
from .music_mood_core.ffmpeg_process import DEFAULT_MAX_BUFFERED_BYTES
from .music_mood_core.pcm_source import FfmpegPcmSource, PcmFormat, PcmSource


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """What a source test gets: the form's input and the sample rate the chosen model wants."""

    hass: HomeAssistant
    source_type: str
    user_input: Mapping[str, Any]
    sample_rate: int

    @property
    def source(self) -> str:
        return str(self.user_input[CONF_SOURCE]).strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTypeFlow:
    """How the analyser flow asks for one type of source and tests it."""

    # The source step's fields, pre-filled from `defaults` (the input shown again, or entry data).
    fields: Callable[[Mapping[str, Any]], dict[vol.Marker, Any]]
    # The entry data this source contributes (CONF_SOURCE and any further fields); raises
    # SourceError, whose reason is a form error under "config" > "error", when it cannot be used.
    validate: Callable[[SourceCheck], Awaitable[dict[str, Any]]]


def _source_field(selector: Any) -> Callable[[Mapping[str, Any]], dict[vol.Marker, Any]]:
    def fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
        return {required_key(CONF_SOURCE, defaults.get(CONF_SOURCE)): selector}

    return fields


async def async_probe_pcm_source(pcm_source: PcmSource, sample_rate: int) -> None:
    """Test before configure: the source must open and deliver a quarter second of audio at the
    model's rate; SourceError("cannot_connect") otherwise. For any source type's validator."""
    probe_samples = sample_rate // 4
    stream = pcm_source.open(
        PcmFormat(sample_rate, probe_samples, max_buffered_bytes=DEFAULT_MAX_BUFFERED_BYTES)
    )
    try:
        await stream.start()
        await stream.read_exactly(BYTES_PER_SAMPLE * probe_samples, SOURCE_PROBE_TIMEOUT_S)
    except (OSError, EOFError, TimeoutError) as error:  # the PcmStream protocol's failures
        raise SourceError(REASON_CANNOT_CONNECT, str(error)) from error
    finally:
        await stream.close()


def _ffmpeg_probe_source(ffmpeg_input: FfmpegInput, ffmpeg_binary: str) -> FfmpegPcmSource:
    def command(pcm_format: PcmFormat) -> list[str]:
        # Not live: a local file is read as fast as ffmpeg decodes it, not paced.
        return ffmpeg_input.command(ffmpeg_binary, pcm_format.sample_rate, live=False)

    return FfmpegPcmSource(command)


async def _async_probe(check: SourceCheck) -> dict[str, Any]:
    """ffmpeg must open the source (URL, file, capture device, camera stream) and decode audio."""
    ffmpeg_input = await AudioSource(check.hass, check.source_type, check.source).async_resolve()
    ffmpeg_binary = get_ffmpeg_manager(check.hass).binary
    await async_probe_pcm_source(
        _ffmpeg_probe_source(ffmpeg_input, ffmpeg_binary), check.sample_rate
    )
    return {CONF_SOURCE: check.source}


async def _async_media_player_exists(check: SourceCheck) -> dict[str, Any]:
    # What a player plays changes all the time, so it is not probed now: the analyser follows it
    # and its status says when it cannot.
    if check.hass.states.get(check.source) is None:
        raise SourceError(REASON_ENTITY_NOT_FOUND, check.source)
    return {CONF_SOURCE: check.source}


SOURCE_TYPE_FLOWS: Final[Mapping[str, SourceTypeFlow]] = {
    SOURCE_TYPE_FFMPEG: SourceTypeFlow(fields=_source_field(TextSelector()), validate=_async_probe),
    SOURCE_TYPE_CAMERA: SourceTypeFlow(
        fields=_source_field(EntitySelector(EntitySelectorConfig(domain="camera"))),
        validate=_async_probe,
    ),
    SOURCE_TYPE_MEDIA_PLAYER: SourceTypeFlow(
        fields=_source_field(EntitySelector(EntitySelectorConfig(domain="media_player"))),
        validate=_async_media_player_exists,
    ),
    SOURCE_TYPE_SENDSPIN: SourceTypeFlow(fields=sendspin_fields, validate=async_validate_sendspin),
    SOURCE_TYPE_MUSIC_ASSISTANT_GROUP: SourceTypeFlow(
        fields=group_stream_fields, validate=async_validate_group_stream
    ),
    SOURCE_TYPE_RAW_PCM_PIPE: SourceTypeFlow(fields=raw_pcm_fields, validate=async_validate_pipe),
    SOURCE_TYPE_RAW_PCM_UDP: SourceTypeFlow(fields=raw_pcm_fields, validate=async_validate_udp),
}
