"""The grammar of capture device names handed to ffmpeg's ``alsa`` and ``pulse`` inputs.

An ALSA device string is a small program: alsa-lib's stock ``file`` and ``tee`` plugins truncate and
overwrite the file they are given, and run it through ``popen()`` when it starts with ``|``; other
plugins load libraries or take nested definitions in braces. So a device name is accepted only when
it names one of a few capture plugins with plain arguments, and nothing that could be quoted, nested
or piped can be written in it.
"""

from __future__ import annotations

import re
from typing import Final

CAPTURE_DRIVERS: Final = ("alsa", "pulse")

# PCMs that capture from a card or a sound server and touch no file: the card itself (hw, plughw),
# its defaults (default, sysdefault), the shared-capture plugin (dsnoop), the card's front input,
# and the PulseAudio/PipeWire servers through their ALSA plugins.
ALSA_CAPTURE_PLUGINS: Final = frozenset(
    {"default", "sysdefault", "hw", "plughw", "dsnoop", "front", "pulse", "pipewire"}
)
_ALSA_WORD: Final = r"[A-Za-z0-9_]{1,64}"
_ALSA_ARGUMENT: Final = rf"(?:{_ALSA_WORD}=)?{_ALSA_WORD}"
_ALSA_DEVICE: Final = re.compile(
    rf"(?P<plugin>{_ALSA_WORD})(?::{_ALSA_ARGUMENT}(?:,{_ALSA_ARGUMENT}){{0,7}})?"
)
# PulseAudio source names: "default", "@DEFAULT_SOURCE@",
# "alsa_input.pci-0000_00_1f.3.analog-stereo", "bluez_source.00_11_22_33_44_55.a2dp_source",
# "….monitor".
_PULSE_SOURCE: Final = re.compile(r"[A-Za-z0-9_@][A-Za-z0-9_.@:\-]{0,254}")


class CaptureDeviceError(ValueError):
    """A capture device name outside the accepted grammar; the message says what is accepted."""


def validate_capture_device(driver: str, device: str) -> str:
    """``device`` for ffmpeg's ``-f driver`` input if it matches the driver's grammar."""
    if driver == "alsa":
        return _validate_alsa(device)
    if driver == "pulse":
        if _PULSE_SOURCE.fullmatch(device) is None:
            raise CaptureDeviceError(
                "a PulseAudio source name is made of letters, digits and _ . @ : - "
                "(e.g. pulse:default)"
            )
        return device
    raise CaptureDeviceError(f"unknown capture driver {driver!r} (use alsa: or pulse:)")


def _validate_alsa(device: str) -> str:
    match = _ALSA_DEVICE.fullmatch(device)
    if match is None:
        raise CaptureDeviceError(
            "an ALSA device is a plugin name, optionally followed by ':' and comma-separated "
            "numbers or KEY=VALUE words (e.g. alsa:hw:1,0 or alsa:plughw:CARD=Device,DEV=0); "
            "quotes, '|', '/', braces and spaces are not accepted"
        )
    if match["plugin"] not in ALSA_CAPTURE_PLUGINS:
        raise CaptureDeviceError(
            f"the ALSA plugin {match['plugin']!r} is not a capture plugin Music Mood accepts "
            f"(accepted: {', '.join(sorted(ALSA_CAPTURE_PLUGINS))})"
        )
    return device
