"""Load, validate and run a music-mood ONNX model (the file contract is in docs/ARCHITECTURE.md).

Validation always uses this package's own ONNX reader and numpy executor, so a file is accepted or
refused with the same error whichever engine then runs it. Inference uses onnxruntime when it
imports (fast) and the numpy executor otherwise (Home Assistant OS: no onnxruntime wheel for musl).

``load_model`` reads the file (blocking IO): call it in an executor. ``MoodModel.predict`` is pure
computation, thread-safe, and also belongs off the event loop.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from .blas import single_threaded_blas
from .features import EXTRACTOR_VERSION, ExcerptStream, FrameGrid
from .model_bounds import (
    MAX_NUMBER_CHARS,
    PROBE_BATCH,
    PROBE_TIME_LIMIT_S,
    bounded_json_object,
    frame_range_problem,
    metadata_problem,
)
from .model_contract import (
    FEATURES_INPUT,
    FORMAT_FEATURES,
    FORMAT_LOUDNESS,
    LOUDNESS_INPUT,
    METADATA_PREFIX,
    N_FEATURES,
    NORMALISATION_EXCERPT,
    OUTPUT_NAMES,
    REQUIRED_METADATA,
    SUPPORTED_FORMATS,
)
from .onnx_cost import ResourceLimitError
from .onnx_numpy import (
    MAX_OPSET,
    MIN_OPSET,
    GraphError,
    NumpyGraph,
    UnsupportedOperatorError,
    default_opset,
    unsupported_operators,
)
from .onnx_proto import (
    FLOAT,
    Model,
    ParseLimitError,
    ProtoError,
    ValueInfo,
    looks_like_onnx,
    parse_model,
)

Engine = Literal["onnxruntime", "numpy"]
EngineChoice = Literal["auto", "numpy", "onnxruntime"]
ModelErrorReason = Literal[
    "not_found",
    "unreadable",
    "not_onnx",
    "unsupported_operator",
    "bad_signature",
    "incompatible_metadata",
    "exceeds_limits",
]

_LOGGER = logging.getLogger(__name__)

BUNDLED_MODEL_PATH: Final = Path(__file__).resolve().parent.parent / "models" / "default.onnx"
DEFAULT_MODEL_ID: Final = "default"
USER_MODEL_PREFIX: Final = "user/"
MODEL_SUFFIX: Final = ".onnx"

MIN_SAMPLE_RATE: Final = 8000
MAX_SAMPLE_RATE: Final = 48000
MIN_IR_VERSION: Final = 3
MAX_IR_VERSION: Final = 14
# Music mood models are about 1 MiB; a much larger file is a wrong choice, not worth the memory.
MAX_MODEL_BYTES: Final = 64 * 1024 * 1024


class ModelError(Exception):
    """A model file that cannot be used. ``reason`` is a stable key for UI translations."""

    def __init__(self, reason: ModelErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason: ModelErrorReason = reason
        self.message = message


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    sample_rate: int
    window_s: float
    step_s: float
    sequence_length: int
    hop_s: float
    feature_extractor_version: str
    normalisation: str
    description: str
    training_data: str
    scores: dict[str, Any]
    metadata: Mapping[str, str]
    model_format: str = FORMAT_FEATURES

    @property
    def needs_loudness(self) -> bool:
        """Format 2: every prediction also takes the excerpt's raw frame levels."""
        return self.model_format == FORMAT_LOUDNESS

    def excerpt_stream(self) -> ExcerptStream:
        """A fresh excerpt stream on this model's frame grid, excerpt length and hop.

        The stream normalises every excerpt on its own: the only policy a model may name (the
        loader refuses others; an info built by hand with another one is refused here).
        """
        if self.normalisation != NORMALISATION_EXCERPT:
            raise ValueError(
                f"normalisation {self.normalisation!r}: the excerpt stream computes "
                f"{NORMALISATION_EXCERPT!r} only"
            )
        sample_rate = int(self.sample_rate)
        return ExcerptStream(
            FrameGrid.from_seconds(sample_rate, self.window_s, self.step_s),
            sequence_length=int(self.sequence_length),
            hop_samples=round(self.hop_s * sample_rate),
        )


@dataclass
class ModelChoice:
    model_id: str
    path: Path
    label: str


class _Runner(Protocol):
    def __call__(
        self, features: NDArray[np.float32], loudness: NDArray[np.float32] | None
    ) -> tuple[NDArray[np.float32], ...]: ...


class MoodModel:
    """A validated model ready to run. ``predict`` may be called from several threads at once."""

    def __init__(self, info: ModelInfo, engine: Engine, runner: _Runner) -> None:
        self.info = info
        self.engine: Engine = engine
        self._runner: _Runner | None = runner
        self._lock = threading.Lock()

    def predict(
        self,
        features: NDArray[np.floating[Any]],
        loudness: NDArray[np.floating[Any]] | None = None,
    ) -> NDArray[np.float32]:
        """(L, 68) or (B, L, 68) raw features -> (B, 2) float32: valence, arousal in [-1, 1].

        ``loudness``: the excerpts' raw frame levels in dBFS, (L,) or (B, L)
        (``features.frame_levels_dbfs``); required by format 2 models, ignored by format 1.
        """
        runner = self._runner
        if runner is None:
            raise RuntimeError(f"model {self.info.path.name} is closed")
        batch = np.asarray(features, dtype=np.float32)
        if batch.ndim == 2:
            batch = batch[np.newaxis]
        expected = (self.info.sequence_length, N_FEATURES)
        if batch.ndim != 3 or batch.shape[1:] != expected:
            raise ValueError(
                f"features must have shape {expected} or (batch, *{expected}), "
                f"got {np.shape(features)}"
            )
        levels: NDArray[np.float32] | None = None
        if self.info.needs_loudness:
            if loudness is None:
                raise ValueError(f"model {self.info.path.name} needs the loudness input")
            levels = np.asarray(loudness, dtype=np.float32)
            if levels.ndim == 1:
                levels = levels[np.newaxis]
            if levels.shape != batch.shape[:2]:
                raise ValueError(
                    f"loudness must have shape {batch.shape[:2]} to match the features, "
                    f"got {np.shape(loudness)}"
                )
            levels = np.ascontiguousarray(levels)
        valence, arousal = _run_in_batches(runner, np.ascontiguousarray(batch), levels)
        result = np.concatenate([valence.reshape(-1, 1), arousal.reshape(-1, 1)], axis=1)
        clipped: NDArray[np.float32] = np.clip(result, -1.0, 1.0).astype(np.float32, copy=False)
        return clipped

    def close(self) -> None:
        """Release the engine (onnxruntime session or numpy graph); later predictions raise."""
        with self._lock:
            self._runner = None


def _run_in_batches(
    runner: _Runner, features: NDArray[np.float32], loudness: NDArray[np.float32] | None
) -> tuple[NDArray[np.float32], ...]:
    """Run at most PROBE_BATCH excerpts at a time: the size the model was tested at."""
    if features.shape[0] <= PROBE_BATCH:
        return runner(features, loudness)
    parts = [
        runner(
            features[start : start + PROBE_BATCH],
            None if loudness is None else loudness[start : start + PROBE_BATCH],
        )
        for start in range(0, features.shape[0], PROBE_BATCH)
    ]
    return tuple(np.concatenate(outputs) for outputs in zip(*parts, strict=True))


# --- loading -----------------------------------------------------------------------------------


def load_model(path: Path | str, *, engine: EngineChoice = "auto") -> MoodModel:
    """Read, validate and prepare a model. Blocking (file IO): run it in an executor.

    Raises ModelError for every problem with the file. ``engine="onnxruntime"`` raises ImportError
    when onnxruntime is not installed; ``"auto"`` falls back to numpy instead.
    """
    path = Path(path)
    try:
        return _load_checked(path, engine)
    except (ModelError, ImportError):
        raise
    except Exception as err:  # a crafted file must not escape as anything but a ModelError
        _LOGGER.debug("%s: unexpected failure while loading", path.name, exc_info=True)
        raise ModelError(
            "unreadable", f"{path.name} cannot be loaded ({type(err).__name__}: {err})"
        ) from err


def _load_checked(path: Path, engine: EngineChoice) -> MoodModel:
    data = _read(path)
    model = _parse(path, data)
    graph = _validate_graph(path, model)
    info = _validate_metadata(path, model)
    _validate_signature(path, model, info)
    numpy_runner = _numpy_runner(graph)
    _probe(path, numpy_runner, info)

    ort = _import_onnxruntime() if engine in ("auto", "onnxruntime") else None
    if engine == "onnxruntime" and ort is None:
        raise ImportError("onnxruntime is not installed (or fails to import)")
    if ort is not None:
        try:
            ort_runner = _onnxruntime_runner(ort, data)
            _probe(path, ort_runner, info)
        except Exception as err:
            if engine == "onnxruntime":
                raise ModelError(
                    "unreadable", f"{path.name}: onnxruntime cannot run this model: {err}"
                ) from err
            # "auto": the numpy engine already ran this model successfully above.
            _LOGGER.warning("%s: onnxruntime failed (%s); using the numpy engine", path.name, err)
        else:
            return MoodModel(info, "onnxruntime", ort_runner)
    return MoodModel(info, "numpy", numpy_runner)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelError(
                "exceeds_limits",
                f"{path.name} is {size / 1048576:.0f} MiB; models larger than "
                f"{MAX_MODEL_BYTES // 1048576} MiB are refused",
            )
        return path.read_bytes()
    except FileNotFoundError as err:
        raise ModelError("not_found", f"model file {path} does not exist") from err
    except IsADirectoryError as err:
        raise ModelError("unreadable", f"{path} is a directory, not a model file") from err
    except OSError as err:
        raise ModelError(
            "unreadable", f"cannot read model file {path}: {err.strerror or err}"
        ) from err


def _parse(path: Path, data: bytes) -> Model:
    try:
        return parse_model(data)
    except ParseLimitError as err:
        raise ModelError("exceeds_limits", f"{path.name} is refused: {err}") from err
    except ProtoError as err:
        if err.truncated and looks_like_onnx(data):
            raise ModelError("unreadable", f"{path.name} is truncated or damaged ({err})") from err
        raise ModelError("not_onnx", f"{path.name} is not an ONNX model ({err})") from err


def _validate_graph(path: Path, model: Model) -> NumpyGraph:
    if not MIN_IR_VERSION <= model.ir_version <= MAX_IR_VERSION:
        raise ModelError(
            "unsupported_operator",
            f"{path.name} has ONNX IR version {model.ir_version}; "
            f"{MIN_IR_VERSION}..{MAX_IR_VERSION} are supported",
        )
    unsupported = unsupported_operators(model.graph)
    if unsupported:
        raise ModelError(
            "unsupported_operator",
            f"{path.name} uses unsupported operators: {', '.join(unsupported)}",
        )
    try:
        opset = default_opset(model)
    except GraphError as err:
        raise ModelError("unsupported_operator", f"{path.name}: {err}") from err
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ModelError(
            "unsupported_operator",
            f"{path.name} uses ONNX opset {opset}; {MIN_OPSET}..{MAX_OPSET} are supported",
        )
    try:
        return NumpyGraph(model)
    except UnsupportedOperatorError as err:
        raise ModelError("unsupported_operator", f"{path.name}: {err}") from err
    except GraphError as err:
        raise ModelError("bad_signature", f"{path.name} has a broken graph: {err}") from err


def _validate_metadata(path: Path, model: Model) -> ModelInfo:
    meta = model.metadata
    too_large = metadata_problem(meta)
    if too_large is not None:
        raise ModelError("exceeds_limits", f"{path.name}: {too_large}")
    missing = [key for key in REQUIRED_METADATA if METADATA_PREFIX + key not in meta]
    if missing:
        raise ModelError(
            "incompatible_metadata",
            f"{path.name} lacks the metadata {', '.join(METADATA_PREFIX + k for k in missing)}: "
            "it was not exported for Music Mood",
        )

    def fail(problem: str) -> ModelError:
        return ModelError("incompatible_metadata", f"{path.name}: {problem}")

    def number(key: str) -> float:
        text = meta[METADATA_PREFIX + key]
        if len(text) > MAX_NUMBER_CHARS:
            raise fail(f"{METADATA_PREFIX}{key} is longer than {MAX_NUMBER_CHARS} characters")
        try:
            value = float(text)
        except ValueError:
            raise fail(f"{METADATA_PREFIX}{key} is {text!r}, not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise fail(f"{METADATA_PREFIX}{key} is {text!r}; it must be positive")
        return value

    def integer(key: str) -> int:
        text = meta[METADATA_PREFIX + key]
        if len(text) > MAX_NUMBER_CHARS:
            raise fail(f"{METADATA_PREFIX}{key} is longer than {MAX_NUMBER_CHARS} characters")
        try:
            return int(text)
        except ValueError:
            raise fail(f"{METADATA_PREFIX}{key} is {text!r}, not a whole number") from None

    model_format = meta[METADATA_PREFIX + "format"]
    if model_format not in SUPPORTED_FORMATS:
        raise fail(
            f"model format {model_format!r}; this version reads formats "
            f"{', '.join(repr(f) for f in SUPPORTED_FORMATS)}"
        )
    version = meta[METADATA_PREFIX + "feature_extractor_version"]
    if version != EXTRACTOR_VERSION:
        raise fail(
            f"trained on features {version!r}, but this version extracts {EXTRACTOR_VERSION!r}"
        )
    normalisation = meta[METADATA_PREFIX + "normalisation"]
    if normalisation != NORMALISATION_EXCERPT:
        raise fail(f"normalisation {normalisation!r}; only {NORMALISATION_EXCERPT!r} is supported")
    sample_rate = integer("sample_rate")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise fail(
            f"sample rate {sample_rate} Hz is outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    window_s, step_s, hop_s = number("window_s"), number("step_s"), number("hop_s")
    window, step = int(window_s * sample_rate), int(step_s * sample_rate)
    if window <= 0 or window != step:
        raise fail(
            f"window {window_s} s ({window} samples) and step {step_s} s ({step} samples) must be "
            "equal and at least one sample: the live extractor uses non-overlapping frames"
        )
    sequence_length = integer("sequence_length")
    out_of_range = frame_range_problem(window_s, step_s, hop_s, sequence_length)
    if out_of_range is not None:
        raise fail(out_of_range)
    try:
        scores = bounded_json_object(meta.get(METADATA_PREFIX + "scores", "{}"))
    except ValueError as err:
        raise fail(f"{METADATA_PREFIX}scores {err}") from None
    return ModelInfo(
        path=path,
        sample_rate=sample_rate,
        window_s=window_s,
        step_s=step_s,
        sequence_length=sequence_length,
        hop_s=hop_s,
        feature_extractor_version=version,
        normalisation=normalisation,
        description=meta.get(METADATA_PREFIX + "description", ""),
        training_data=meta.get(METADATA_PREFIX + "training_data", ""),
        scores=scores,
        metadata=MappingProxyType(dict(meta)),
        model_format=model_format,
    )


def _validate_signature(path: Path, model: Model, info: ModelInfo) -> None:
    graph = model.graph
    inputs = [i for i in graph.inputs if i.name not in graph.initializers]

    def fail(problem: str) -> ModelError:
        return ModelError("bad_signature", f"{path.name}: {problem}")

    expected_inputs = [FEATURES_INPUT, LOUDNESS_INPUT] if info.needs_loudness else [FEATURES_INPUT]
    if [i.name for i in inputs] != expected_inputs:
        raise fail(
            f"format {info.model_format} expects the inputs {expected_inputs}, "
            f"found {[i.name for i in inputs]}"
        )
    _check_tensor(inputs[0], (None, None, N_FEATURES), fail)
    if info.needs_loudness:
        _check_tensor(inputs[1], (None, None), fail)
        loudness_shape = inputs[1].shape
        if (
            loudness_shape is not None
            and isinstance(loudness_shape[1], int)
            and loudness_shape[1] != info.sequence_length
        ):
            raise fail(
                f"input {LOUDNESS_INPUT!r} takes {loudness_shape[1]} frames, "
                f"but the sequence length is {info.sequence_length}"
            )
    shape = inputs[0].shape
    if shape is not None and isinstance(shape[1], int) and shape[1] != info.sequence_length:
        raise ModelError(
            "incompatible_metadata",
            f"{path.name}: metadata says sequence length {info.sequence_length}, "
            f"but input {FEATURES_INPUT!r} takes {shape[1]} frames",
        )
    outputs = {o.name: o for o in graph.outputs}
    absent = [name for name in OUTPUT_NAMES if name not in outputs]
    if absent:
        raise fail(f"expected outputs {list(OUTPUT_NAMES)}, found {list(outputs)}")
    for name in OUTPUT_NAMES:
        _check_tensor(outputs[name], (None, 1), fail)


def _check_tensor(value: ValueInfo, expected: tuple[int | None, ...], fail: Any) -> None:
    """Fixed dims must match ``expected`` (None = anything); symbolic dims are accepted."""
    if value.elem_type != FLOAT:
        raise fail(
            f"{value.name!r} must be float32 (ONNX type {FLOAT}), found type {value.elem_type}"
        )
    shape = value.shape
    if shape is None:
        return
    shown = "[" + ", ".join("?" if d is None else str(d) for d in expected) + "]"
    found = "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"
    if len(shape) != len(expected) or any(
        isinstance(dim, int) and want is not None and dim != want
        for dim, want in zip(shape, expected, strict=True)
    ):
        raise fail(f"{value.name!r} has shape {found}, expected {shown}")


def _feeds(
    features: NDArray[np.float32], loudness: NDArray[np.float32] | None
) -> dict[str, NDArray[np.float32]]:
    feeds = {FEATURES_INPUT: features}
    if loudness is not None:
        feeds[LOUDNESS_INPUT] = loudness
    return feeds


def _numpy_runner(graph: NumpyGraph) -> _Runner:
    def run(
        features: NDArray[np.float32], loudness: NDArray[np.float32] | None
    ) -> tuple[NDArray[np.float32], ...]:
        with single_threaded_blas():
            outputs = graph.run(_feeds(features, loudness))
        return tuple(np.asarray(outputs[name], dtype=np.float32) for name in OUTPUT_NAMES)

    return run


def _onnxruntime_runner(ort: Any, data: bytes) -> _Runner:
    options = ort.SessionOptions()
    # One prediction every half second needs no thread pool; keep Home Assistant's cores free.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    names = list(OUTPUT_NAMES)

    def run(
        features: NDArray[np.float32], loudness: NDArray[np.float32] | None
    ) -> tuple[NDArray[np.float32], ...]:
        return tuple(
            np.asarray(o, dtype=np.float32) for o in session.run(names, _feeds(features, loudness))
        )

    return run


def _probe(path: Path, runner: _Runner, info: ModelInfo) -> None:
    """Run the model once on the largest batch it will ever get, so a graph that cannot compute,
    or costs too much memory or time, fails at load time."""
    batch = PROBE_BATCH
    probe = np.zeros((batch, info.sequence_length, N_FEATURES), np.float32)
    levels = (
        np.full((batch, info.sequence_length), -20.0, np.float32) if info.needs_loudness else None
    )
    started = time.monotonic()
    try:
        outputs = runner(probe, levels)
    except ModelError:
        raise
    except (ResourceLimitError, MemoryError) as err:
        raise ModelError(
            "exceeds_limits", f"{path.name} is too costly to run ({type(err).__name__}: {err})"
        ) from err
    except Exception as err:  # any engine failure on a valid-looking file is a broken graph
        raise ModelError("bad_signature", f"{path.name} fails a test run: {err}") from err
    elapsed = time.monotonic() - started
    if elapsed > PROBE_TIME_LIMIT_S:
        raise ModelError(
            "exceeds_limits",
            f"{path.name} took {elapsed:.0f} s to predict {batch} excerpts; "
            f"at most {PROBE_TIME_LIMIT_S:.0f} s are allowed",
        )
    for name, output in zip(OUTPUT_NAMES, outputs, strict=True):
        if output.shape != (batch, 1):
            raise ModelError(
                "bad_signature",
                f"{path.name}: output {name!r} has shape {list(output.shape)} for a batch of "
                f"{batch}, expected [{batch}, 1]",
            )


def _import_onnxruntime() -> Any | None:
    try:
        import onnxruntime  # noqa: PLC0415 - optional: absent on musl (Home Assistant OS)
    except (ImportError, OSError):
        return None
    return onnxruntime


# --- choosing a model --------------------------------------------------------------------------


def discover_models(user_model_dir: Path) -> list[ModelChoice]:
    """The bundled model (if shipped) first, then the user's ``*.onnx`` files sorted by name."""
    choices: list[ModelChoice] = []
    if BUNDLED_MODEL_PATH.is_file():
        choices.append(ModelChoice(DEFAULT_MODEL_ID, BUNDLED_MODEL_PATH, "Bundled model"))
    try:
        candidates = sorted(user_model_dir.iterdir(), key=lambda p: p.name)
    except OSError:
        return choices
    for candidate in candidates:
        if candidate.suffix.lower() == MODEL_SUFFIX and _is_plain_name(candidate.name):
            try:
                is_file = candidate.is_file()
            except OSError:
                continue
            if is_file:
                choices.append(
                    ModelChoice(USER_MODEL_PREFIX + candidate.name, candidate, candidate.name)
                )
    return choices


def resolve_model(model_id: str, user_model_dir: Path) -> Path:
    """The file of a model id from ``discover_models``. Raises ModelError("not_found")."""
    if model_id == DEFAULT_MODEL_ID:
        path = BUNDLED_MODEL_PATH
    elif model_id.startswith(USER_MODEL_PREFIX):
        name = model_id[len(USER_MODEL_PREFIX) :]
        if not _is_plain_name(name) or not name.lower().endswith(MODEL_SUFFIX):
            raise ModelError("not_found", f"invalid model id {model_id!r}")
        path = user_model_dir / name
    else:
        raise ModelError("not_found", f"unknown model id {model_id!r}")
    try:
        is_file = path.is_file()
    except OSError as err:  # a name longer than the file system allows: Python 3.13 raises
        raise ModelError("not_found", f"model {model_id[:80]!r}: {err.strerror or err}") from err
    if not is_file:
        raise ModelError("not_found", f"model {model_id!r}: {path} does not exist")
    return path


def _is_plain_name(name: str) -> bool:
    """A file name in one directory: no separators, no '..', nothing hidden or control-coded."""
    return (
        bool(name)
        and name not in (".", "..")
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and all(ch.isprintable() for ch in name)
    )
