"""Constants shared by the Music Mood integration's Home Assistant glue."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "music_mood"

# Config entry data: what an entry *is*. Changing these goes through reconfigure.
CONF_ENTRY_KIND: Final = "kind"
ENTRY_KIND_ANALYSER: Final = "analyser"
ENTRY_KIND_SERIAL_STRIP: Final = "serial_strip"

CONF_SOURCE_TYPE: Final = "source_type"
SOURCE_TYPE_FFMPEG: Final = "ffmpeg"
SOURCE_TYPE_CAMERA: Final = "camera"
SOURCE_TYPE_MEDIA_PLAYER: Final = "media_player"
CONF_SOURCE: Final = "source"
CONF_MODEL: Final = "model"

# Options: how an analyser behaves. Changed in the options flow, applied by reload.
CONF_SMOOTHING_S: Final = "smoothing_seconds"
CONF_SILENCE_THRESHOLD_DB: Final = "silence_threshold_db"
CONF_SILENCE_DURATION_S: Final = "silence_duration_seconds"
CONF_LOOP_FILE: Final = "loop_file"

DEFAULT_SMOOTHING_S: Final = 4.0
DEFAULT_SILENCE_THRESHOLD_DB: Final = -50.0
DEFAULT_SILENCE_DURATION_S: Final = 3.0

# Serial strip entries.
CONF_PORT: Final = "port"
CONF_BAUDRATE: Final = "baudrate"
CONF_LED_COUNT: Final = "led_count"
CONF_PROTOCOL: Final = "protocol"
DEFAULT_BAUDRATE: Final = 115200
DEFAULT_LED_COUNT: Final = 30

# Folder under the HA config dir where users drop their own models.
USER_MODEL_DIR: Final = "music_mood"
