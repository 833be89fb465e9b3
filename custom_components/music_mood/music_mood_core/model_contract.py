"""The model file contract: the names and numbers a music-mood ONNX file, its exporters and its
loader agree on (docs/ARCHITECTURE.md, "The model file").

Defined here once. The loader (``model.py``), the feature extractor, the streaming and offline
timeline, the training exporters and the test-model builders import them from here, so a change to
the contract is one edit, and a file written by ``training/`` is read by the same definitions.
"""

from __future__ import annotations

from typing import Final

# Every metadata key of the contract starts with this prefix (``music_mood.sample_rate``...).
METADATA_PREFIX: Final = "music_mood."

# Format 1: features only. Format 2 adds the raw per-frame levels as a second input.
FORMAT_FEATURES: Final = "1"
FORMAT_LOUDNESS: Final = "2"
SUPPORTED_FORMATS: Final = (FORMAT_FEATURES, FORMAT_LOUDNESS)

FEATURES_INPUT: Final = "features"
LOUDNESS_INPUT: Final = "loudness"
OUTPUT_NAMES: Final = ("valence", "arousal")

# The width of the features input: pyAudioAnalysis's 34 short-term features and their deltas.
N_FEATURES: Final = 68
# The only normalisation the live extractor computes: each excerpt normalised on its own.
NORMALISATION_EXCERPT: Final = "excerpt"

# The study's frame grid and excerpt (what the bundled model and ``training/`` use); a model file
# states its own values in its metadata, and the loader and the timeline honour those.
DEFAULT_SAMPLE_RATE: Final = 22050
DEFAULT_WINDOW_S: Final = 0.05
DEFAULT_STEP_S: Final = 0.05
DEFAULT_SEQUENCE_LENGTH: Final = 60
DEFAULT_HOP_S: Final = 0.5

# Keys (without the prefix) every model file must carry.
REQUIRED_METADATA: Final = (
    "format",
    "feature_extractor_version",
    "sample_rate",
    "window_s",
    "step_s",
    "sequence_length",
    "hop_s",
    "normalisation",
)
