"""Constants shared by the Music Mood integration's Home Assistant glue, grouped by meaning.

Option defaults that are the core's own runtime defaults (the mood label's dead band and dwell,
the lighting pacing's immediate ΔE and drift interval) are not repeated here: import them from
``music_mood_core.mood`` and ``music_mood_core.colour``, where they are defined once.
"""

from __future__ import annotations

from typing import Final

# --- Integration
DOMAIN: Final = "music_mood"
# Folder under the HA config dir where users drop their own models.
USER_MODEL_DIR: Final = "music_mood"

# --- Config entry data: what an entry *is*. Changing these goes through reconfigure.
CONF_ENTRY_KIND: Final = "kind"
ENTRY_KIND_ANALYSER: Final = "analyser"
ENTRY_KIND_SERIAL_STRIP: Final = "serial_strip"

# Analyser entries.
CONF_SOURCE_TYPE: Final = "source_type"
SOURCE_TYPE_FFMPEG: Final = "ffmpeg"
SOURCE_TYPE_CAMERA: Final = "camera"
SOURCE_TYPE_MEDIA_PLAYER: Final = "media_player"
# Music Assistant: Music Mood as a Sendspin player (source = the server's ws:// address), or a
# universal group's HTTP stream (source = the Music Assistant media_player entity followed).
SOURCE_TYPE_SENDSPIN: Final = "sendspin"
SOURCE_TYPE_MUSIC_ASSISTANT_GROUP: Final = "music_assistant_group"
# Music Assistant group streams: the server's address when not its config entry's, its stream
# port and the codec asked for.
CONF_MUSIC_ASSISTANT_URL: Final = "music_assistant_url"
CONF_STREAM_PORT: Final = "stream_port"
CONF_STREAM_CODEC: Final = "stream_codec"
# Raw PCM a player writes (source = a FIFO or pipe file inside allowlist_external_dirs) or sends
# (source = a local IP address and port to listen on, "127.0.0.1:5004"), in a declared format.
SOURCE_TYPE_RAW_PCM_PIPE: Final = "raw_pcm_pipe"
SOURCE_TYPE_RAW_PCM_UDP: Final = "raw_pcm_udp"
CONF_PCM_SAMPLE_RATE: Final = "pcm_sample_rate"
CONF_PCM_CHANNELS: Final = "pcm_channels"
CONF_PCM_SAMPLE_FORMAT: Final = "pcm_sample_format"
CONF_SOURCE: Final = "source"
CONF_MODEL: Final = "model"

# Serial strip entries.
CONF_PORT: Final = "port"
CONF_BAUDRATE: Final = "baudrate"
CONF_LED_COUNT: Final = "led_count"
CONF_PROTOCOL: Final = "protocol"
DEFAULT_BAUDRATE: Final = 115200
DEFAULT_LED_COUNT: Final = 30
DEFAULT_PROTOCOL: Final = "adalight"

# --- Analyser options (options step "pipeline"): how it analyses. Applied by reload.
CONF_SMOOTHING_S: Final = "smoothing_seconds"
CONF_SILENCE_THRESHOLD_DB: Final = "silence_threshold_db"
CONF_SILENCE_DURATION_S: Final = "silence_duration_seconds"
# The mood label changes quadrant only past this distance from an axis, held for the dwell
# (defaults: music_mood_core.mood.DEFAULT_DEAD_BAND / DEFAULT_DWELL_S).
CONF_MOOD_DEAD_BAND: Final = "mood_dead_band"
CONF_MOOD_DWELL_S: Final = "mood_dwell_seconds"
CONF_LOOP_FILE: Final = "loop_file"
# Readings against the audio, -2..+5 s (music_mood_core.delay; default DEFAULT_DELAY_S there).
CONF_DELAY_S: Final = "delay_seconds"

DEFAULT_SMOOTHING_S: Final = 4.0
DEFAULT_SILENCE_THRESHOLD_DB: Final = -50.0
DEFAULT_SILENCE_DURATION_S: Final = 3.0
DEFAULT_LOOP_FILE: Final = False

# --- Analyser options (options step "mood_lighting"): which lights follow the mood, and how.
CONF_MOOD_LIGHTS: Final = "mood_lights"
CONF_COLOUR_PRESET: Final = "colour_preset"
CONF_CORNER_POSITIVE_ENERGETIC: Final = "colour_positive_energetic"
CONF_CORNER_NEGATIVE_ENERGETIC: Final = "colour_negative_energetic"
CONF_CORNER_NEGATIVE_CALM: Final = "colour_negative_calm"
CONF_CORNER_POSITIVE_CALM: Final = "colour_positive_calm"
CONF_MIN_BRIGHTNESS_PCT: Final = "min_brightness_pct"
CONF_MAX_BRIGHTNESS_PCT: Final = "max_brightness_pct"
CONF_SATURATION_FLOOR_PCT: Final = "saturation_floor_pct"
CONF_HYSTERESIS_DELTA_E: Final = "hysteresis_delta_e"
# From this ΔE on a change is a new mood and sent at once; smaller visible drifts wait the interval
# (defaults: music_mood_core.colour.DEFAULT_IMMEDIATE_DELTA_E / DEFAULT_DRIFT_INTERVAL_S).
CONF_IMMEDIATE_DELTA_E: Final = "immediate_delta_e"
CONF_DRIFT_INTERVAL_S: Final = "drift_interval_seconds"
# 0 means "match the analyser's update interval", so colours glide from one reading to the next.
CONF_TRANSITION_S: Final = "transition_seconds"
CONF_ON_MUSIC_STOP: Final = "on_music_stop"
ON_MUSIC_STOP_RESTORE: Final = "restore"
ON_MUSIC_STOP_HOLD: Final = "hold"

DEFAULT_MIN_BRIGHTNESS_PCT: Final = 15
DEFAULT_MAX_BRIGHTNESS_PCT: Final = 100
DEFAULT_SATURATION_FLOOR_PCT: Final = 35
DEFAULT_HYSTERESIS_DELTA_E: Final = 4.0
DEFAULT_TRANSITION_S: Final = 0.0
DEFAULT_ON_MUSIC_STOP: Final = ON_MUSIC_STOP_RESTORE

# --- Serial strip options.
CONF_KEEPALIVE_S: Final = "keepalive_seconds"
# Adalight firmware blanks the strip after ~15 s without a frame; resend well inside that.
DEFAULT_KEEPALIVE_S: Final = 2.0

# --- Timing
# Audio-source probing in the config flow: how long ffmpeg may take to deliver the first audio.
SOURCE_PROBE_TIMEOUT_S: Final = 15.0
# Live analyser: no audio for this long counts as a stalled stream and triggers a restart.
STALL_TIMEOUT_S: Final = 10.0
RESTART_BACKOFF_MIN_S: Final = 1.0
RESTART_BACKOFF_MAX_S: Final = 60.0
# Serial strip: reopening a lost port backs off between these.
STRIP_RECONNECT_INITIAL_S: Final = 1.0
STRIP_RECONNECT_MAX_S: Final = 60.0

# --- Services
SERVICE_ANALYZE: Final = "analyze"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

# --- Repair issues (translation keys under "issues" in strings.json)
ISSUE_MODEL_UNUSABLE: Final = "model_unusable"

# --- Analyser model file: looked at this often for a removed, broken or replaced model (a stat()
# every half minute: cheap, and soon enough after a user swaps the file).
MODEL_CHECK_INTERVAL_S: Final = 30.0
