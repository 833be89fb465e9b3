"""Mood lighting: Home Assistant lights follow the analyser's valence and arousal.

The driver listens to a `MoodSource` (the analyser's coordinator) and, while music plays, sends each
target light the mood's colour with ``light.turn_on``: RGB where the light has colour, a colour
temperature where it only has white tones, brightness alone where that is all it has. Only
visible changes are sent (hysteresis): a new mood (another quadrant, or a large step) at the next
reading, a drift of the smoothed mood at most once per drift interval per light. It remembers
each light's state before its first command and puts it back when the music stops (or holds the
last colour, as configured). Unavailable lights are skipped and picked up on return.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import voluptuous as vol
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_MAX_COLOR_TEMP_KELVIN,
    ATTR_MIN_COLOR_TEMP_KELVIN,
    ATTR_RGB_COLOR,
    ATTR_RGBW_COLOR,
    ATTR_RGBWW_COLOR,
    ATTR_SUPPORTED_COLOR_MODES,
    ATTR_TRANSITION,
    ATTR_XY_COLOR,
)
from homeassistant.components.light.const import (
    COLOR_MODES_BRIGHTNESS,
    COLOR_MODES_COLOR,
    ColorMode,
    LightEntityFeature,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError

from .const import (
    CONF_COLOUR_PRESET,
    CONF_CORNER_NEGATIVE_CALM,
    CONF_CORNER_NEGATIVE_ENERGETIC,
    CONF_CORNER_POSITIVE_CALM,
    CONF_CORNER_POSITIVE_ENERGETIC,
    CONF_DRIFT_INTERVAL_S,
    CONF_HYSTERESIS_DELTA_E,
    CONF_IMMEDIATE_DELTA_E,
    CONF_MAX_BRIGHTNESS_PCT,
    CONF_MIN_BRIGHTNESS_PCT,
    CONF_MOOD_LIGHTS,
    CONF_ON_MUSIC_STOP,
    CONF_SATURATION_FLOOR_PCT,
    CONF_TRANSITION_S,
    DEFAULT_HYSTERESIS_DELTA_E,
    DEFAULT_MAX_BRIGHTNESS_PCT,
    DEFAULT_MIN_BRIGHTNESS_PCT,
    DEFAULT_ON_MUSIC_STOP,
    DEFAULT_SATURATION_FLOOR_PCT,
    DEFAULT_TRANSITION_S,
    ON_MUSIC_STOP_RESTORE,
)
from .music_mood_core.colour import (
    CORNER_NEGATIVE_CALM,
    CORNER_NEGATIVE_ENERGETIC,
    CORNER_POSITIVE_CALM,
    CORNER_POSITIVE_ENERGETIC,
    DEFAULT_CORNER_COLOURS,
    DEFAULT_DRIFT_INTERVAL_S,
    DEFAULT_IMMEDIATE_DELTA_E,
    PRESET_CIRCUMPLEX,
    PRESETS,
    RGB,
    ColourChange,
    ColourHysteresis,
    ColourSettings,
    MoodColour,
    UpdatePacing,
    colour_temperature_kelvin,
    mood_colour,
)

_LOGGER = logging.getLogger(__name__)

LIGHT_DOMAIN: Final = "light"

CORNER_OPTION_KEYS: Final[Mapping[str, str]] = {
    CONF_CORNER_POSITIVE_ENERGETIC: CORNER_POSITIVE_ENERGETIC,
    CONF_CORNER_NEGATIVE_ENERGETIC: CORNER_NEGATIVE_ENERGETIC,
    CONF_CORNER_NEGATIVE_CALM: CORNER_NEGATIVE_CALM,
    CONF_CORNER_POSITIVE_CALM: CORNER_POSITIVE_CALM,
}

# Colour temperature range assumed when a white-tone light does not report its own.
FALLBACK_WARMEST_KELVIN: Final = 2700
FALLBACK_COOLEST_KELVIN: Final = 6500

# Readings arrive once per hop with some jitter; allow a little slack so no hop is skipped.
_HOP_SLACK: Final = 0.9

# What to put back for each colour mode a light was in before mood lighting took over.
_RESTORE_COLOUR_ATTRIBUTE: Final[Mapping[str, str]] = {
    ColorMode.HS: ATTR_HS_COLOR,
    ColorMode.XY: ATTR_XY_COLOR,
    ColorMode.RGB: ATTR_RGB_COLOR,
    ColorMode.RGBW: ATTR_RGBW_COLOR,
    ColorMode.RGBWW: ATTR_RGBWW_COLOR,
    ColorMode.COLOR_TEMP: ATTR_COLOR_TEMP_KELVIN,
}


class MoodReadingLike(Protocol):
    """The part of an analyser reading that mood lighting uses."""

    @property
    def valence(self) -> float: ...
    @property
    def arousal(self) -> float: ...
    @property
    def mood(self) -> str: ...
    @property
    def playing(self) -> bool: ...


class MoodSource(Protocol):
    """Where readings come from: the analyser's `AnalyserCoordinator` satisfies it."""

    @property
    def data(self) -> MoodReadingLike | None: ...
    @property
    def available(self) -> bool: ...
    @property
    def hop_seconds(self) -> float: ...
    def async_add_listener(self, update_callback: Callable[[], None]) -> Callable[[], None]: ...


def _monotonic() -> float:
    # Looks time.monotonic up at each call, so a test's frozen clock reaches the driver.
    return time.monotonic()


def default_corner_option(option_key: str) -> RGB:
    return DEFAULT_CORNER_COLOURS[CORNER_OPTION_KEYS[option_key]]


def _percent_to_byte(percent: float) -> int:
    return max(0, min(255, round(float(percent) * 255.0 / 100.0)))


def _rgb_option(value: Any, fallback: RGB) -> RGB:
    try:
        red, green, blue = (max(0, min(255, int(channel))) for channel in value)
    except (TypeError, ValueError):
        return fallback
    return (red, green, blue)


@dataclass(frozen=True, slots=True)
class MoodLightingSettings:
    """Mood lighting as configured in an analyser's options."""

    lights: tuple[str, ...] = ()
    colour: ColourSettings = field(default_factory=ColourSettings)
    pacing: UpdatePacing = field(default_factory=UpdatePacing)
    # None: glide over the time to the next command of that kind (one hop for a new mood, the drift
    # interval for a drift), so the colour moves continuously between commands.
    transition_s: float | None = None
    restore_on_stop: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MoodLightingSettings:
        preset = options.get(CONF_COLOUR_PRESET, PRESET_CIRCUMPLEX)
        low = _percent_to_byte(options.get(CONF_MIN_BRIGHTNESS_PCT, DEFAULT_MIN_BRIGHTNESS_PCT))
        high = _percent_to_byte(options.get(CONF_MAX_BRIGHTNESS_PCT, DEFAULT_MAX_BRIGHTNESS_PCT))
        corners = {
            corner: _rgb_option(options.get(key), DEFAULT_CORNER_COLOURS[corner])
            for key, corner in CORNER_OPTION_KEYS.items()
        }
        floor = float(options.get(CONF_SATURATION_FLOOR_PCT, DEFAULT_SATURATION_FLOOR_PCT)) / 100.0
        transition = float(options.get(CONF_TRANSITION_S, DEFAULT_TRANSITION_S))
        min_delta_e = float(options.get(CONF_HYSTERESIS_DELTA_E, DEFAULT_HYSTERESIS_DELTA_E))
        immediate_delta_e = float(options.get(CONF_IMMEDIATE_DELTA_E, DEFAULT_IMMEDIATE_DELTA_E))
        drift_interval_s = float(options.get(CONF_DRIFT_INTERVAL_S, DEFAULT_DRIFT_INTERVAL_S))
        return cls(
            lights=tuple(options.get(CONF_MOOD_LIGHTS, ())),
            colour=ColourSettings(
                preset=preset if preset in PRESETS else PRESET_CIRCUMPLEX,
                corner_colours=corners,
                saturation_floor=max(0.0, min(1.0, floor)),
                min_brightness=min(low, high),
                max_brightness=max(low, high),
            ),
            pacing=UpdatePacing(
                hysteresis=ColourHysteresis(
                    min_delta_e=min_delta_e,
                    # A threshold below the visible one would make every visible change immediate.
                    immediate_delta_e=max(min_delta_e, immediate_delta_e),
                ),
                drift_interval_s=max(0.0, drift_interval_s),
            ),
            transition_s=transition if transition > 0 else None,
            restore_on_stop=options.get(CONF_ON_MUSIC_STOP, DEFAULT_ON_MUSIC_STOP)
            == ON_MUSIC_STOP_RESTORE,
        )


@dataclass(frozen=True, slots=True)
class CapturedLightState:
    """A light's state before mood lighting took it over, as the service call that restores it."""

    was_on: bool
    turn_on_data: Mapping[str, Any]

    @classmethod
    def capture(cls, state: State) -> CapturedLightState:
        if state.state != STATE_ON:
            return cls(was_on=False, turn_on_data={})
        data: dict[str, Any] = {}
        if (brightness := state.attributes.get(ATTR_BRIGHTNESS)) is not None:
            data[ATTR_BRIGHTNESS] = brightness
        colour_attribute = _RESTORE_COLOUR_ATTRIBUTE.get(str(state.attributes.get(ATTR_COLOR_MODE)))
        if colour_attribute is not None:
            value = state.attributes.get(colour_attribute)
            if value is not None:
                data[colour_attribute] = list(value) if isinstance(value, tuple | list) else value
        return cls(was_on=True, turn_on_data=data)


def light_command(
    state: State, colour: MoodColour, valence: float, arousal: float, transition_s: float
) -> dict[str, Any] | None:
    """The ``light.turn_on`` data showing ``colour`` on this light; None if it can show nothing."""
    modes = {str(mode) for mode in state.attributes.get(ATTR_SUPPORTED_COLOR_MODES) or ()}
    data: dict[str, Any] = {ATTR_ENTITY_ID: state.entity_id}
    if modes & {str(mode) for mode in COLOR_MODES_COLOR}:
        data[ATTR_RGB_COLOR] = list(colour.rgb)
    elif ColorMode.COLOR_TEMP in modes:
        warmest = int(state.attributes.get(ATTR_MIN_COLOR_TEMP_KELVIN) or FALLBACK_WARMEST_KELVIN)
        coolest = int(state.attributes.get(ATTR_MAX_COLOR_TEMP_KELVIN) or FALLBACK_COOLEST_KELVIN)
        data[ATTR_COLOR_TEMP_KELVIN] = colour_temperature_kelvin(valence, arousal, warmest, coolest)
    elif not modes & {str(mode) for mode in COLOR_MODES_BRIGHTNESS}:
        # On/off-only lights cannot show a mood; switching them would just flicker.
        return None
    data[ATTR_BRIGHTNESS] = colour.brightness
    if int(state.attributes.get(ATTR_SUPPORTED_FEATURES) or 0) & LightEntityFeature.TRANSITION:
        data[ATTR_TRANSITION] = round(transition_s, 2)
    return data


@dataclass(slots=True)
class _LightTrack:
    """What the driver knows about one target light."""

    captured: CapturedLightState | None = None
    last_colour: MoodColour | None = None
    last_mood: str | None = None
    last_command: dict[str, Any] | None = None
    last_sent_at: float | None = None
    failing: bool = False


class MoodLightingDriver:
    """Drives the configured lights from a mood source while enabled and music plays."""

    def __init__(
        self,
        hass: HomeAssistant,
        source: MoodSource,
        settings: MoodLightingSettings,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.hass = hass
        self.source = source
        self.settings = settings
        self._clock = clock or _monotonic
        self._tracks: dict[str, _LightTrack] = {}
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def enabled(self) -> bool:
        return self._unsubscribe is not None

    @property
    def driving(self) -> bool:
        """True while some light has been taken over and not yet given back."""
        return any(track.captured is not None for track in self._tracks.values())

    @callback
    def async_enable(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.source.async_add_listener(self._async_source_updated)
            self._async_source_updated()

    @callback
    def async_disable(self) -> None:
        """Stop driving; the lights are restored or held as configured."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._async_release()

    @callback
    def _async_source_updated(self) -> None:
        reading = self.source.data
        if reading is None or not reading.playing or not self.source.available:
            self._async_release()
            return
        colour = mood_colour(reading.valence, reading.arousal, self.settings.colour)
        hop_s = self.source.hop_seconds
        pacing = self.settings.pacing
        now = self._clock()
        for entity_id in self.settings.lights:
            track = self._tracks.setdefault(entity_id, _LightTrack())
            state = self.hass.states.get(entity_id)
            if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
                # Whatever it shows when it returns is not what we sent: send again then.
                track.last_colour = track.last_command = None
                continue
            change = pacing.decide(
                track.last_colour,
                colour,
                mood_changed=reading.mood != track.last_mood,
                seconds_since_last=None if track.last_sent_at is None else now - track.last_sent_at,
                min_gap_s=hop_s * _HOP_SLACK,
            )
            if change is ColourChange.NONE:
                continue
            glide_s = hop_s if change is ColourChange.MOOD else max(pacing.drift_interval_s, hop_s)
            transition_s = self.settings.transition_s or glide_s
            command = light_command(state, colour, reading.valence, reading.arousal, transition_s)
            # A dimmer or white-tone light may have nothing new to show for a new colour.
            if command is None or command == track.last_command:
                continue
            if track.captured is None:
                track.captured = CapturedLightState.capture(state)
            track.last_colour = colour
            track.last_mood = reading.mood
            track.last_command = command
            track.last_sent_at = now
            self.hass.async_create_task(
                self._async_call(SERVICE_TURN_ON, command, track), eager_start=True
            )

    @callback
    def _async_release(self) -> None:
        """Music stopped (or driving was switched off): give the lights back."""
        tracks, self._tracks = self._tracks, {}
        if not self.settings.restore_on_stop:
            return
        for entity_id, track in tracks.items():
            captured = track.captured
            if captured is None:
                continue
            state = self.hass.states.get(entity_id)
            if state is None or state.state == STATE_UNAVAILABLE:
                continue
            if captured.was_on:
                data = {ATTR_ENTITY_ID: entity_id, **captured.turn_on_data}
                self.hass.async_create_task(
                    self._async_call(SERVICE_TURN_ON, data, track), eager_start=True
                )
            elif state.state != STATE_OFF:
                self.hass.async_create_task(
                    self._async_call(SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, track),
                    eager_start=True,
                )

    async def _async_call(self, service: str, data: dict[str, Any], track: _LightTrack) -> None:
        """One light service call; a light that refuses is logged once until it accepts again."""
        try:
            await self.hass.services.async_call(LIGHT_DOMAIN, service, data, blocking=True)
        except (HomeAssistantError, vol.Invalid, ValueError) as err:
            if not track.failing:
                _LOGGER.warning(
                    "Mood lighting: %s refused %s: %s", data[ATTR_ENTITY_ID], service, err
                )
            track.failing = True
            return
        if track.failing:
            _LOGGER.info("Mood lighting: %s accepts commands again", data[ATTR_ENTITY_ID])
        track.failing = False
