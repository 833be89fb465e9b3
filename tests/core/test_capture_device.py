"""Capture device grammar: plain capture plugins only; nothing that reaches a file or a command."""

from __future__ import annotations

import pytest
from music_mood_core.capture_device import (
    ALSA_CAPTURE_PLUGINS,
    CaptureDeviceError,
    validate_capture_device,
)


@pytest.mark.parametrize(
    "device",
    [
        "default",
        "sysdefault",
        "sysdefault:CARD=PCH",
        "hw:0",
        "hw:1,0",
        "hw:CARD=Device,DEV=0",
        "plughw:CARD=Device,DEV=0",
        "plughw:1,0,0",
        "dsnoop:CARD=PCH,DEV=0",
        "front:CARD=Microphone,DEV=0",
        "pulse",
        "pipewire",
    ],
)
def test_alsa_capture_devices_are_accepted(device: str) -> None:
    assert validate_capture_device("alsa", device) == device


@pytest.mark.parametrize(
    "device",
    [
        # alsa-lib's file plugin: popen() of a FILE starting with '|', else truncate and overwrite.
        "file:'|id > /tmp/marker',raw",
        "file:'|touch MARKER',raw",
        "file:'/tmp/x',raw",
        "file:/tmp/x,raw",
        "file:x,raw",
        "tee:hw,'/tmp/x',raw",
        "tee:hw,x,raw",
        # Other plugins that load code, take slave definitions or touch files.
        "ladspa",
        "plug:file",
        "plug:'file:\"|id\",raw'",
        "hooks",
        "shm",
        "null",
        "asym",
        # Syntax that could smuggle any of the above.
        "hw:{card 0}",
        "{type file file /tmp/x}",
        'hw:"0"',
        "hw:0 ,0",
        "hw:0|id",
        "hw:/dev/snd",
        "hw:0;id",
        "hw:$HOME",
        "hw:",
        "hw:0,",
        "-f",
        "",
        "HW:0",
    ],
)
def test_alsa_devices_that_could_reach_files_or_commands_are_refused(device: str) -> None:
    with pytest.raises(CaptureDeviceError):
        validate_capture_device("alsa", device)


def test_only_capture_plugins_are_listed() -> None:
    assert not ALSA_CAPTURE_PLUGINS & {"file", "tee", "ladspa", "plug", "hooks", "shm", "empty"}


@pytest.mark.parametrize(
    "device",
    ["default", "@DEFAULT_SOURCE@", "alsa_input.pci-0000_00_1f.3.analog-stereo", "x.monitor"],
)
def test_pulse_sources_are_accepted(device: str) -> None:
    assert validate_capture_device("pulse", device) == device


@pytest.mark.parametrize(
    "device", ["", "-f", "a b", "a'b", "a|b", "/tmp/x", "a{b}", "x\ty", "unix:/run/pulse"]
)
def test_pulse_sources_outside_the_grammar_are_refused(device: str) -> None:
    with pytest.raises(CaptureDeviceError):
        validate_capture_device("pulse", device)


def test_unknown_driver_is_refused() -> None:
    with pytest.raises(CaptureDeviceError, match="unknown capture driver"):
        validate_capture_device("oss", "/dev/dsp")
