"""What a model file may ask for: metadata ranges, JSON size, and the batch a model is tested at.

Model files may come from anyone (a downloaded model, a media folder), so every number in them is
checked against a range the integration can serve before anything is sized from it: the probe's
input is (PROBE_BATCH, sequence_length, 68), the live ring buffer holds an excerpt, a hop sets how
often the model runs.
"""

from __future__ import annotations

import json
from typing import Any, Final

# Models are tested once at load with this many excerpts; predictions run in batches of at most
# this size, so no prediction ever costs more than the test run the model passed.
PROBE_BATCH: Final = 32
# The test run must finish in this time (the numpy engine also stops a run that takes longer).
PROBE_TIME_LIMIT_S: Final = 20.0

MIN_FRAME_S: Final = 0.005
MAX_FRAME_S: Final = 1.0
MIN_HOP_S: Final = 0.1
MAX_HOP_S: Final = 10.0
MAX_SEQUENCE_LENGTH: Final = 1000
MAX_EXCERPT_S: Final = 60.0
MAX_NUMBER_CHARS: Final = 32
MAX_METADATA_ENTRIES: Final = 256
MAX_METADATA_CHARS: Final = 64 * 1024
MAX_JSON_DEPTH: Final = 32


def frame_range_problem(
    window_s: float, step_s: float, hop_s: float, sequence_length: int
) -> str | None:
    """Why these frame settings cannot be served, or None when they can."""
    for name, value in (("window", window_s), ("step", step_s)):
        if not MIN_FRAME_S <= value <= MAX_FRAME_S:
            return f"{name} {value:g} s is outside {MIN_FRAME_S:g}..{MAX_FRAME_S:g} s"
    if not MIN_HOP_S <= hop_s <= MAX_HOP_S:
        return f"hop {hop_s:g} s is outside {MIN_HOP_S:g}..{MAX_HOP_S:g} s"
    if not 1 <= sequence_length <= MAX_SEQUENCE_LENGTH:
        return f"sequence length {sequence_length} is outside 1..{MAX_SEQUENCE_LENGTH}"
    if sequence_length * step_s > MAX_EXCERPT_S:
        return (
            f"an excerpt of {sequence_length} frames of {step_s:g} s is longer than "
            f"{MAX_EXCERPT_S:g} s"
        )
    return None


def metadata_problem(metadata: dict[str, str]) -> str | None:
    """Why the metadata block is too large to keep, or None."""
    if len(metadata) > MAX_METADATA_ENTRIES:
        return f"{len(metadata)} metadata entries; at most {MAX_METADATA_ENTRIES} are allowed"
    for key, value in metadata.items():
        if len(key) + len(value) > MAX_METADATA_CHARS:
            return f"metadata {key[:64]!r} is longer than {MAX_METADATA_CHARS} characters"
    return None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


def bounded_json_object(text: str) -> dict[str, Any]:
    """A JSON object of limited size and nesting; ValueError with the reason otherwise."""
    if len(text) > MAX_METADATA_CHARS:
        raise ValueError(f"is longer than {MAX_METADATA_CHARS} characters")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError("is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError("is not a JSON object")
    return value
