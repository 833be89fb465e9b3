"""The 68 short-term audio features of pyAudioAnalysis 0.3.14, vectorised, offline and streaming.

``extract_features`` equals ``ShortTermFeatures.feature_extraction(samples, sr, int(0.05*sr),
int(0.05*sr), deltas=True)[0].T`` (to float rounding), but computes every frame of a block with one
``rfft`` call and matrix products instead of a Python loop per frame.

Every quirk of the reference is reproduced on purpose; each is tagged ``QUIRK`` where it happens
and listed in docs/FEATURES.md. Samples are on the int16 scale (int16 arrays or floats in
[-32768, 32767]), as pyAudioAnalysis expects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .blas import single_threaded_blas
from .model_contract import (
    DEFAULT_HOP_S,
    DEFAULT_SEQUENCE_LENGTH,
    DEFAULT_STEP_S,
    DEFAULT_WINDOW_S,
    N_FEATURES,
)

EXTRACTOR_VERSION: Final = "pyAudioAnalysis-0.3.14/1"
N_BASE_FEATURES: Final = 34
SILENCE_FLOOR_DBFS: Final = -120.0
# Floor of the per-frame levels a model sees: quieter frames are silence for the purpose of mood,
# and a fixed floor keeps digital silence from becoming -inf (or a huge outlier) in the input.
FRAME_LEVEL_FLOOR_DBFS: Final = -100.0

_BASE_NAMES: Final[tuple[str, ...]] = (
    "zcr",
    "energy",
    "energy_entropy",
    "spectral_centroid",
    "spectral_spread",
    "spectral_entropy",
    "spectral_flux",
    "spectral_rolloff",
    *(f"mfcc_{i}" for i in range(1, 14)),
    *(f"chroma_{i}" for i in range(1, 13)),
    "chroma_std",
)
FEATURE_NAMES: Final[tuple[str, ...]] = (*_BASE_NAMES, *(f"delta {name}" for name in _BASE_NAMES))

# QUIRK: the reference's module-level eps is sys.float_info.epsilon, the same number as
# np.finfo(float).eps (2.220446049250313e-16); it is used everywhere except in the peak scaling.
_EPS: Final = float(np.finfo(np.float64).eps)
# QUIRK: dc_normalize adds a literal 1e-10 (not eps) to the peak, so digital silence stays zero.
_PEAK_GUARD: Final = 1e-10
_INT16_SCALE: Final = 2.0**15
_UNIT: Final = 1.0 / _INT16_SCALE  # 2**-15 exactly
_N_ENTROPY_BLOCKS: Final = 10
_ROLLOFF_FRACTION: Final = 0.90
_N_MFCC: Final = 13
_N_CHROMA: Final = 12
# Frames analysed per block in long offline runs: small enough to stay in cache (~1 MB of
# samples), large enough that numpy's per-call overhead vanishes.
_FRAMES_PER_BLOCK: Final = 128
_FRAMES_PER_EXCERPT_GROUP: Final = 240

_ZCR, _ENERGY, _ENERGY_ENTROPY, _CENTROID, _SPREAD, _SPECTRAL_ENTROPY, _FLUX, _ROLLOFF = range(8)
_MFCC = slice(8, 8 + _N_MFCC)
_CHROMA = slice(8 + _N_MFCC, 8 + _N_MFCC + _N_CHROMA)
_CHROMA_STD = 8 + _N_MFCC + _N_CHROMA

Float64Array = NDArray[np.float64]


class SignalTooShortError(ValueError):
    """The signal holds fewer samples than one analysis window."""


@dataclass(frozen=True)
class FrameGrid:
    """Analysis window and step, in samples, at one sample rate."""

    sample_rate: int
    window: int
    step: int

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.window <= 0 or self.step <= 0:
            raise ValueError(
                f"sample rate, window and step must be positive (got {self.sample_rate}, "
                f"{self.window}, {self.step})"
            )

    @classmethod
    def from_seconds(
        cls, sample_rate: int, window_s: float = DEFAULT_WINDOW_S, step_s: float = DEFAULT_STEP_S
    ) -> FrameGrid:
        # QUIRK: feature_extraction is called with int(window_s * sr): truncation, not rounding
        # (int(0.05 * 22050) == 1102, so window and step are 1102 samples, 49.98 ms).
        return cls(int(sample_rate), int(window_s * sample_rate), int(step_s * sample_rate))

    def n_frames(self, n_samples: int) -> int:
        """Frames pyAudioAnalysis produces from ``n_samples`` samples (frames start at k*step)."""
        if n_samples < self.window:
            return 0
        return (n_samples - self.window) // self.step + 1

    def excerpt_samples(self, sequence_length: int = DEFAULT_SEQUENCE_LENGTH) -> int:
        """Samples in an excerpt that yields exactly ``sequence_length`` frames.

        Equals ``sequence_length * step`` when window == step (the study's 50 ms / 50 ms grid).
        """
        if sequence_length <= 0:
            raise ValueError(f"sequence_length must be positive (got {sequence_length})")
        return (sequence_length - 1) * self.step + self.window


@dataclass(frozen=True)
class ExcerptWindow:
    """One model input produced by :class:`ExcerptStream`."""

    features: Float64Array
    end_sample: int
    level_dbfs: float
    # Per-frame level of the raw excerpt (before normalisation), the loudness that the
    # per-excerpt normalisation of ``features`` hides; see :func:`frame_levels_dbfs`.
    frame_levels_dbfs: Float64Array


# --------------------------------------------------------------------------------------------
# Constant tables, built once per (sample rate, window).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    sample_rate: int
    window: int
    n_bins: int
    # Columns 1, f, f**2: one matrix product with |X| gives the centroid/spread moments.
    moment_weights: Float64Array
    # The 40 MFCC filters only reach the lowest bins; the product skips the all-zero rest.
    mfcc_filterbank_t: Float64Array
    dct_t: Float64Array
    # (n_bins, 10) indicator of the spectral-entropy sub-blocks (QUIRK: the last n_bins % 10 bins
    # belong to none of them).
    spectral_blocks: Float64Array
    chroma_matrix: Float64Array


def _mfcc_filterbank(sample_rate: int, n_bins: int) -> Float64Array:
    """Triangular filterbank of pyAudioAnalysis (from scikits.talkbox): 13 linear + 27 log."""
    # QUIRK: the reference sets `nlogfil = 5` for sample rates below 8 kHz but never uses it, so the
    # bank always has 13 + 27 = 40 filters.
    n_linear, n_log = 13, 27
    low_freq, linear_spacing, log_factor = 133.33, 200 / 3, 1.0711703
    edges = np.zeros(n_linear + n_log + 2)
    edges[:n_linear] = low_freq + np.arange(n_linear) * linear_spacing
    edges[n_linear:] = edges[n_linear - 1] * log_factor ** np.arange(1, n_log + 3)
    heights = 2.0 / (edges[2:] - edges[:-2])
    # QUIRK: the bank is built with num_fft = window // 2 as if that were the FFT length, so bin k
    # is labelled k * sr / (window // 2) Hz: twice its true frequency k * sr / window.
    bin_freqs = np.arange(n_bins) / (1.0 * n_bins) * sample_rate
    bank = np.zeros((n_linear + n_log, n_bins))
    bin_of = np.floor(edges * n_bins / sample_rate).astype(np.int64) + 1
    for i in range(n_linear + n_log):
        low, centre, high = edges[i], edges[i + 1], edges[i + 2]
        rising = np.arange(bin_of[i], bin_of[i + 1])
        falling = np.arange(bin_of[i + 1], bin_of[i + 2])
        if (rising.size and rising[-1] >= n_bins) or (falling.size and falling[-1] >= n_bins):
            raise ValueError(
                f"sample rate {sample_rate} Hz is too low for the MFCC filterbank "
                "(pyAudioAnalysis fails here as well)"
            )
        bank[i, rising] = heights[i] / (centre - low) * (bin_freqs[rising] - low)
        bank[i, falling] = heights[i] / (high - centre) * (high - bin_freqs[falling])
    return bank


def _dct2_ortho_matrix(n_inputs: int, n_outputs: int) -> Float64Array:
    """Columns are the first ``n_outputs`` orthonormal DCT-II basis vectors (scipy norm='ortho')."""
    n = np.arange(n_inputs)
    k = np.arange(n_outputs)
    basis = np.cos(np.pi * np.outer(2 * n + 1, k) / (2 * n_inputs)) * math.sqrt(2.0 / n_inputs)
    basis[:, 0] = math.sqrt(1.0 / n_inputs)
    return basis


def _chroma_matrix(sample_rate: int, n_bins: int) -> Float64Array:
    """(n_bins, 12) matrix M with chroma = (|X|**2 @ M) / sum(|X|**2), as the reference computes it.

    The reference scatters the power spectrum into a length-n_bins vector indexed by semitone
    number, divides, then folds it modulo 12. All of that is linear, so it collapses into M.
    """
    # QUIRK: the bin frequencies here are (f + 1) * sr / (2 * n_bins): shifted up by one bin.
    bin_freqs = (np.arange(n_bins) + 1) * sample_rate / (2 * n_bins)
    semitone = np.round(12.0 * np.log2(bin_freqs / 27.50)).astype(np.int64)
    if semitone.max() >= n_bins:
        # The reference's other branch cannot run (shape mismatch); refuse clearly instead.
        raise ValueError(
            f"window of {2 * n_bins} samples at {sample_rate} Hz is too short for chroma features"
        )
    bins_per_semitone = np.zeros(n_bins)
    values, counts = np.unique(semitone, return_counts=True)
    for value, count in zip(values, counts, strict=True):
        bins_per_semitone[semitone == value] = count
    # QUIRK: `C[num_chroma] = spec` with repeated indices keeps the LAST bin of each semitone (the
    # others are discarded, not summed), and semitones below A0 (negative, e.g. bin 0 at 22050 Hz)
    # wrap to the end of C.
    slot = semitone % n_bins
    source_bin = np.full(n_bins, -1, dtype=np.int64)
    np.maximum.at(source_bin, slot, np.arange(n_bins))  # the highest (last assigned) bin per slot
    # QUIRK: `C /= num_freqs_per_chroma[num_chroma]` divides slot p (a semitone number) by the bin
    # count of the semitone of BIN p (negative semitones wrapping), not by the count of semitone p.
    divisor = bins_per_semitone[semitone]
    matrix = np.zeros((n_bins, _N_CHROMA))
    filled = np.nonzero(source_bin >= 0)[0]
    # Slot p folds into chroma class p % 12 (C padded to a multiple of 12, reshaped, summed).
    np.add.at(matrix, (source_bin[filled], filled % _N_CHROMA), 1.0 / divisor[filled])
    return matrix


def _block_indicator(length: int) -> Float64Array:
    block = length // _N_ENTROPY_BLOCKS
    indicator = np.zeros((length, _N_ENTROPY_BLOCKS))
    used = np.arange(block * _N_ENTROPY_BLOCKS)
    indicator[used, used // block] = 1.0
    return indicator


@lru_cache(maxsize=8)
def _tables(sample_rate: int, window: int) -> _Tables:
    n_bins = window // 2
    if n_bins < _N_ENTROPY_BLOCKS:
        raise ValueError(f"window of {window} samples is too short for the feature set")
    # QUIRK: centroid and spread label bin k (0-based) with (k + 1) * sr / (2 * n_bins) Hz.
    centroid_freqs = np.arange(1, n_bins + 1, dtype=np.float64) * (sample_rate / (2.0 * n_bins))
    filterbank_t = _mfcc_filterbank(sample_rate, n_bins).T
    used_bins = int(np.nonzero(filterbank_t.any(axis=1))[0][-1]) + 1
    return _Tables(
        sample_rate=sample_rate,
        window=window,
        n_bins=n_bins,
        moment_weights=np.ascontiguousarray(
            np.column_stack((np.ones(n_bins), centroid_freqs, centroid_freqs**2))
        ),
        mfcc_filterbank_t=np.ascontiguousarray(filterbank_t[:used_bins]),
        dct_t=_dct2_ortho_matrix(40, _N_MFCC),
        spectral_blocks=_block_indicator(n_bins),
        chroma_matrix=_chroma_matrix(sample_rate, n_bins),
    )


# --------------------------------------------------------------------------------------------
# Per-frame features for a stack of frames.
# --------------------------------------------------------------------------------------------


def _block_entropy(squares: Float64Array, total: Float64Array) -> Float64Array:
    """Entropy of the energy shares of 10 equal sub-blocks along the last axis.

    ``squares`` are the squared values and ``total`` their sum over the whole last axis.
    """
    block = squares.shape[-1] // _N_ENTROPY_BLOCKS
    # QUIRK: the values beyond 10 * block are dropped from the sub-blocks but still count in the
    # total energy.
    blocks = squares[..., : block * _N_ENTROPY_BLOCKS].reshape(
        *squares.shape[:-1], _N_ENTROPY_BLOCKS, block
    )
    return _entropy_of_blocks(blocks.sum(axis=-1), total)


def _entropy_of_blocks(block_energy: Float64Array, total: Float64Array) -> Float64Array:
    shares = block_energy / (total + _EPS)[..., None]
    result: Float64Array = -(shares * np.log2(shares + _EPS)).sum(axis=-1)
    return result


def _zero_crossing_rate(frames: Float64Array, squares: Float64Array) -> Float64Array:
    """sum(|diff(sign(x))|) / 2 / (N - 1), as the reference computes it (squares = x * x)."""
    # Without exact zeros every sign-bit change is a full -1 <-> +1 step (|diff| = 2, counted 1).
    sign_bits = np.signbit(frames)
    changes = (sign_bits[..., 1:] ^ sign_bits[..., :-1]).view(np.uint8)
    crossings = np.add.reduce(changes, axis=-1, dtype=np.int64)
    # A zero square flags a zero sample (or an underflow, which the exact path handles as well).
    with_zeros = squares.min(axis=-1) == 0
    if with_zeros.any():
        # A zero sample is a half step (|diff| = 1): count with explicit -1/0/+1 signs there.
        rows = frames[with_zeros]
        signs = (rows > 0).view(np.int8) - (rows < 0).view(np.int8)
        steps = np.abs(np.diff(signs, axis=-1)).astype(np.int64)
        crossings = crossings.astype(np.float64)
        crossings[with_zeros] = np.sum(steps, axis=-1) / 2
    result: Float64Array = crossings / (frames.shape[-1] - 1.0)
    return result


def _magnitudes(frames: Float64Array, n_bins: int) -> Float64Array:
    # QUIRK: |FFT| keeps bins 0 .. window//2 - 1 (dropping Nyquist for even windows) and divides by
    # window//2 (the number of kept bins), not by the window length.
    spectrum = np.fft.rfft(frames, axis=-1)[..., :n_bins]
    result: Float64Array = np.abs(spectrum)
    result /= n_bins
    return result


def _frame_features(
    frames: Float64Array,
    tables: _Tables,
    previous_magnitude: Float64Array | None = None,
) -> tuple[Float64Array, Float64Array]:
    """Base features (..., F, 34) of normalised frames (..., F, window) and the last magnitudes.

    Spectral flux of frame 0 uses ``previous_magnitude`` (shape (..., n_bins)) when given, else the
    frame itself, which makes it exactly 0 as in the reference.
    """
    window, n_bins = tables.window, tables.n_bins
    out = np.empty((*frames.shape[:-1], N_BASE_FEATURES))

    squares = frames * frames
    out[..., _ZCR] = _zero_crossing_rate(frames, squares)
    frame_energy = squares.sum(axis=-1)
    out[..., _ENERGY] = frame_energy / np.float64(window)
    out[..., _ENERGY_ENTROPY] = _block_entropy(squares, frame_energy)
    del squares

    mag = _magnitudes(frames, n_bins)
    power = mag * mag
    total_power = power.sum(axis=-1)
    weighted = mag @ tables.moment_weights
    magnitude_sum, first_moment, second_moment = (
        weighted[..., 0],
        weighted[..., 1],
        weighted[..., 2],
    )

    # QUIRK: centroid/spread scale |X| by its maximum and add eps to the scaled sum; an all-zero
    # spectrum is divided by eps instead of its (zero) maximum.
    peak = mag.max(axis=-1)
    peak[peak == 0] = _EPS
    denominator = magnitude_sum / peak + _EPS
    centroid = first_moment / peak / denominator
    # sum((f - c)**2 |X|) expanded into moments: no (frames x bins) temporary. The cancellation
    # costs ~eps * (centroid / spread)**2 relative, far below 1e-9 for any audible spectrum.
    central = second_moment - 2.0 * centroid * first_moment + centroid * centroid * magnitude_sum
    spread = np.sqrt(np.maximum(central, 0.0) / peak / denominator)
    nyquist = tables.sample_rate / 2.0
    out[..., _CENTROID] = centroid / nyquist
    out[..., _SPREAD] = spread / nyquist

    block_power = power @ tables.spectral_blocks
    out[..., _SPECTRAL_ENTROPY] = _entropy_of_blocks(block_power, total_power)

    # QUIRK: flux normalises by sum(|X| + eps) (eps added per bin), and frame 0 is compared with
    # itself, so its flux is exactly 0. sum((a/sa - b/sb)**2) is expanded into row dot products:
    # the cancellation error stays below a few eps in absolute terms (each term is at most 1).
    share_sum = magnitude_sum + n_bins * _EPS
    power_share = total_power / (share_sum * share_sum)
    cross = np.einsum("...ij,...ij->...i", mag[..., 1:, :], mag[..., :-1, :])
    out[..., 0, _FLUX] = 0.0
    out[..., 1:, _FLUX] = (
        power_share[..., 1:]
        + power_share[..., :-1]
        - 2.0 * cross / (share_sum[..., 1:] * share_sum[..., :-1])
    )
    if previous_magnitude is not None:
        previous_sum = previous_magnitude.sum(axis=-1) + n_bins * _EPS
        previous_shares = previous_magnitude / previous_sum[..., None]
        shares = mag[..., 0, :] / share_sum[..., 0, None]
        out[..., 0, _FLUX] = ((shares - previous_shares) ** 2).sum(axis=-1)

    # QUIRK: roll-off compares cumsum + eps against 0.9 * energy and divides the bin index by
    # window//2; a frame where no bin passes gets 0.
    cumulative = power.cumsum(axis=-1)
    cumulative += _EPS
    above = cumulative > (_ROLLOFF_FRACTION * total_power)[..., None]
    first = above.argmax(axis=-1)
    out[..., _ROLLOFF] = np.where(above[..., -1], first / float(n_bins), 0.0)

    filterbank_bins = tables.mfcc_filterbank_t.shape[0]
    log_mel = np.log10(mag[..., :filterbank_bins] @ tables.mfcc_filterbank_t + _EPS)
    out[..., _MFCC] = log_mel @ tables.dct_t

    # QUIRK: an all-zero spectrum divides the chroma by eps instead of the (zero) total power.
    chroma = (power @ tables.chroma_matrix) / np.where(total_power == 0, _EPS, total_power)[
        ..., None
    ]
    out[..., _CHROMA] = chroma
    out[..., _CHROMA_STD] = chroma.std(axis=-1)
    return out, mag[..., -1, :].copy()


def _with_deltas(base: Float64Array, previous_base: Float64Array | None = None) -> Float64Array:
    """Append deltas along the frame axis; frame 0's are 0 unless a previous frame is given."""
    out = np.empty((*base.shape[:-1], N_FEATURES))
    out[..., :N_BASE_FEATURES] = base
    out[..., 0, N_BASE_FEATURES:] = (
        0.0 if previous_base is None else base[..., 0, :] - previous_base
    )
    out[..., 1:, N_BASE_FEATURES:] = base[..., 1:, :] - base[..., :-1, :]
    return out


def _frames_of(signal: Float64Array, grid: FrameGrid, n_frames: int) -> Float64Array:
    """Read-only strided view (..., n_frames, window) of frames starting at k*step."""
    if n_frames < 1 or (n_frames - 1) * grid.step + grid.window > signal.shape[-1]:
        raise ValueError(f"{signal.shape[-1]} samples do not hold {n_frames} frames")
    sample_stride = signal.strides[-1]
    frames: Float64Array = np.lib.stride_tricks.as_strided(
        signal,
        shape=(*signal.shape[:-1], n_frames, grid.window),
        strides=(*signal.strides[:-1], grid.step * sample_stride, sample_stride),
        writeable=False,
    )
    return frames


# --------------------------------------------------------------------------------------------
# Normalisation.
# --------------------------------------------------------------------------------------------


def _as_samples(samples: ArrayLike) -> NDArray[np.generic]:
    """Integer samples stay integers (cheap exact statistics); anything else becomes float64."""
    raw = np.asarray(samples)
    if raw.dtype.kind in "iu":
        return raw
    return raw.astype(np.float64, copy=False)


def _normalisation_stats(raw: NDArray[np.generic]) -> tuple[Float64Array, Float64Array]:
    """DC offset and peak (unit scale) of each row of ``raw`` along its last axis (kept as 1).

    QUIRK: dc_normalize subtracts the mean of x / 2**15 and divides by max|x - mean| + 1e-10.
    """
    length = raw.shape[-1]
    if raw.dtype.kind in "iu":
        # The reference's float sum of x / 2**15 is exact for integer samples (every partial sum
        # is a multiple of 2**-15 far below 2**53 ulps), so the integer sum gives the same mean
        # bits without a float copy of the signal; scaling by 2**-15 is exact too.
        total = raw.sum(axis=-1, keepdims=True, dtype=np.int64)
        dc: Float64Array = total.astype(np.float64) / length * _UNIT
        high = raw.max(axis=-1, keepdims=True).astype(np.float64) * _UNIT
        low = raw.min(axis=-1, keepdims=True).astype(np.float64) * _UNIT
    else:
        unit = raw.astype(np.float64) * _UNIT
        dc = unit.mean(axis=-1, keepdims=True)
        high = unit.max(axis=-1, keepdims=True)
        low = unit.min(axis=-1, keepdims=True)
    # max|x - dc| == max(max(x) - dc, dc - min(x)) bit for bit: rounding is monotonic.
    peak: Float64Array = np.maximum(high - dc, dc - low) + _PEAK_GUARD
    return dc, peak


def whole_signal_normalisation(samples: ArrayLike) -> tuple[float, float]:
    """DC offset and peak (unit scale) that pyAudioAnalysis removes from the whole signal."""
    raw = _as_samples(samples)
    if raw.ndim != 1 or raw.size == 0:
        raise ValueError("samples must be a non-empty 1-D array")
    dc, peak = _normalisation_stats(raw)
    return float(dc[0]), float(peak[0])


def _normalised(
    raw: NDArray[np.generic], dc: float | Float64Array, peak: float | Float64Array
) -> Float64Array:
    """(x / 2**15 - dc) / peak in a new float64 array, bit for bit as the reference computes it."""
    # QUIRK: np.double(signal) / 2**15 before subtracting and dividing. Scaling by a power of two
    # commutes with rounding, so (x - dc * 2**15) / (peak * 2**15) gives the very same bits in two
    # passes instead of three.
    unit: Float64Array = np.subtract(raw, np.multiply(dc, _INT16_SCALE), dtype=np.float64)
    unit /= np.multiply(peak, _INT16_SCALE)
    return unit


def _checked_samples(samples: ArrayLike, grid: FrameGrid) -> NDArray[np.generic]:
    raw = _as_samples(samples)
    if raw.ndim != 1:
        raise ValueError(f"samples must be a 1-D (mono) array, got shape {raw.shape}")
    if raw.size < grid.window:
        raise SignalTooShortError(
            f"{raw.size} samples is shorter than one analysis window of {grid.window} samples "
            f"({grid.window / grid.sample_rate:.3f} s at {grid.sample_rate} Hz)"
        )
    return raw


def _features_of(raw: NDArray[np.generic], grid: FrameGrid, dc: float, peak: float) -> Float64Array:
    """Features of a whole 1-D signal under one normalisation, normalised and analysed in blocks
    of frames so that each block stays in cache."""
    tables = _tables(grid.sample_rate, grid.window)
    n_frames = grid.n_frames(raw.size)
    out = np.empty((n_frames, N_FEATURES))
    previous_magnitude: Float64Array | None = None
    previous_base: Float64Array | None = None
    for start in range(0, n_frames, _FRAMES_PER_BLOCK):
        count = min(_FRAMES_PER_BLOCK, n_frames - start)
        first_sample = start * grid.step
        end_sample = first_sample + (count - 1) * grid.step + grid.window
        block = _normalised(raw[first_sample:end_sample], dc, peak)
        base, previous_magnitude = _frame_features(
            _frames_of(block, grid, count), tables, previous_magnitude
        )
        out[start : start + count] = _with_deltas(base, previous_base)
        previous_base = base[-1]
    return out


def extract_features(
    samples: ArrayLike,
    sample_rate: int,
    window_s: float = DEFAULT_WINDOW_S,
    step_s: float = DEFAULT_STEP_S,
) -> Float64Array:
    """pyAudioAnalysis ``feature_extraction(..., deltas=True)[0].T``: shape (n_frames, 68)."""
    grid = FrameGrid.from_seconds(sample_rate, window_s, step_s)
    return extract_features_on_grid(samples, grid)


def extract_features_on_grid(samples: ArrayLike, grid: FrameGrid) -> Float64Array:
    """:func:`extract_features` for an explicit :class:`FrameGrid` (whole-signal normalisation)."""
    raw = _checked_samples(samples, grid)
    dc, peak = _normalisation_stats(raw)
    return _features_of(raw, grid, float(dc[0]), float(peak[0]))


def extract_features_with_normalisation(
    samples: ArrayLike, grid: FrameGrid, dc_offset: float, peak: float
) -> Float64Array:
    """Offline features under a FIXED normalisation (unit-scale DC offset and peak).

    The offline twin of :class:`StreamingFeatureExtractor`; with :func:`whole_signal_normalisation`
    it equals :func:`extract_features`.
    """
    if not peak > 0:
        raise ValueError(f"peak must be positive (got {peak})")
    return _features_of(_checked_samples(samples, grid), grid, float(dc_offset), float(peak))


# --------------------------------------------------------------------------------------------
# Normalisation policy "excerpt": every model input is pyAudioAnalysis run on its own excerpt.
# --------------------------------------------------------------------------------------------


def excerpt_bounds(
    time_s: float,
    sample_rate: int,
    grid: FrameGrid,
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
) -> tuple[int, int]:
    """Sample range [start, end) of the excerpt whose features a label at ``time_s`` uses."""
    if sample_rate != grid.sample_rate:
        raise ValueError(f"sample rate {sample_rate} does not match the grid's {grid.sample_rate}")
    end = round(time_s * sample_rate)
    start = end - grid.excerpt_samples(sequence_length)
    if start < 0:
        raise ValueError(
            f"a {sequence_length}-frame excerpt ending at {time_s} s would start before the signal"
        )
    return start, end


def excerpt_features(
    excerpt: ArrayLike, grid: FrameGrid, sequence_length: int = DEFAULT_SEQUENCE_LENGTH
) -> Float64Array:
    """Features (sequence_length, 68) of one excerpt normalised on its own (policy "excerpt")."""
    raw = _as_samples(excerpt)
    expected = grid.excerpt_samples(sequence_length)
    if raw.shape != (expected,):
        raise ValueError(f"an excerpt must hold exactly {expected} samples, got shape {raw.shape}")
    dc, peak = _normalisation_stats(raw)
    return _features_of(raw, grid, float(dc[0]), float(peak[0]))


def _batch_excerpt_features(
    excerpts: NDArray[np.generic], grid: FrameGrid, sequence_length: int
) -> Float64Array:
    """Features (n, sequence_length, 68) of raw excerpts (n, excerpt_samples), all at once."""
    tables = _tables(grid.sample_rate, grid.window)
    dc, peak = _normalisation_stats(excerpts)
    frames = _frames_of(_normalised(excerpts, dc, peak), grid, sequence_length)
    base, _ = _frame_features(frames, tables)
    return _with_deltas(base)


def _label_excerpt_starts(
    samples: ArrayLike, grid: FrameGrid, times_s: ArrayLike, sequence_length: int
) -> tuple[NDArray[np.generic], list[int]]:
    """Mono raw samples and the start of the excerpt ending at each label time, all inside them."""
    raw = _as_samples(samples)
    if raw.ndim != 1:
        raise ValueError(f"samples must be a 1-D (mono) array, got shape {raw.shape}")
    times = np.atleast_1d(np.asarray(times_s, dtype=np.float64))
    bounds = [excerpt_bounds(float(t), grid.sample_rate, grid, sequence_length) for t in times]
    too_late = [float(t) for t, (_, end) in zip(times, bounds, strict=True) if end > raw.size]
    if too_late:
        raise ValueError(
            f"label times {too_late} lie beyond the signal's {raw.size / grid.sample_rate:.3f} s"
        )
    return raw, [start for start, _ in bounds]


def label_excerpt_features(
    samples: ArrayLike,
    grid: FrameGrid,
    times_s: ArrayLike,
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
) -> Float64Array:
    """Features (len(times_s), sequence_length, 68) of the excerpts ending at each label time."""
    raw, all_starts = _label_excerpt_starts(samples, grid, times_s, sequence_length)
    length = grid.excerpt_samples(sequence_length)
    out = np.empty((len(all_starts), sequence_length, N_FEATURES))
    # Groups of excerpts per call: few Python round trips, yet the working set stays small.
    group = max(1, _FRAMES_PER_EXCERPT_GROUP // sequence_length)
    for first in range(0, len(all_starts), group):
        starts = np.array(all_starts[first : first + group])
        excerpts = raw[starts[:, None] + np.arange(length)]
        out[first : first + starts.size] = _batch_excerpt_features(excerpts, grid, sequence_length)
    return out


def level_dbfs(pcm: ArrayLike) -> float:
    """RMS level of raw int16-scale samples in dB re full scale, floored at -120 dBFS."""
    values = np.asarray(pcm, dtype=np.float64)
    if values.size == 0:
        return SILENCE_FLOOR_DBFS
    rms = math.sqrt(float(np.mean(values**2)))
    if rms == 0.0:
        return SILENCE_FLOOR_DBFS
    return max(SILENCE_FLOOR_DBFS, 20.0 * math.log10(rms / _INT16_SCALE))


def frame_levels_dbfs(
    excerpts: ArrayLike, grid: FrameGrid, sequence_length: int = DEFAULT_SEQUENCE_LENGTH
) -> Float64Array:
    """RMS level in dBFS of each analysis frame of raw excerpts, floored at -100 dBFS.

    ``excerpts`` holds int16-scale samples, shape (excerpt_samples,) or (n, excerpt_samples); the
    result has shape (sequence_length,) or (n, sequence_length). The frames are those of
    :func:`excerpt_features` (frame k starts at k * step and spans one window), but the samples are
    NOT normalised: this is the loudness that normalisation removes from the features.
    """
    raw = _as_samples(excerpts)
    expected = grid.excerpt_samples(sequence_length)
    if raw.ndim not in (1, 2) or raw.shape[-1] != expected:
        raise ValueError(
            f"excerpts must have shape ({expected},) or (n, {expected}), got {raw.shape}"
        )
    unit = raw.astype(np.float64) * _UNIT
    frames = _frames_of(unit, grid, sequence_length)
    mean_square = np.mean(frames * frames, axis=-1)
    floor = 10.0 ** (FRAME_LEVEL_FLOOR_DBFS / 10.0)
    levels: Float64Array = 10.0 * np.log10(np.maximum(mean_square, floor))
    return levels


def label_excerpt_levels(
    samples: ArrayLike,
    grid: FrameGrid,
    times_s: ArrayLike,
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
) -> Float64Array:
    """:func:`frame_levels_dbfs` (len(times_s), sequence_length): excerpts ending at times_s."""
    raw, starts = _label_excerpt_starts(samples, grid, times_s, sequence_length)
    length = grid.excerpt_samples(sequence_length)
    out = np.empty((len(starts), sequence_length))
    for k, start in enumerate(starts):
        out[k] = frame_levels_dbfs(raw[start : start + length], grid, sequence_length)
    return out


class ExcerptStream:
    """Live form of policy "excerpt": PCM chunks in, one (sequence_length, 68) matrix per hop out.

    Keeps only the newest ``max(excerpt, hop)`` samples in a ring buffer, so memory is constant.
    """

    def __init__(
        self,
        grid: FrameGrid,
        sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
        hop_samples: int | None = None,
    ) -> None:
        self.grid = grid
        self.sequence_length = sequence_length
        self.excerpt_samples = grid.excerpt_samples(sequence_length)
        self.hop_samples = (
            round(DEFAULT_HOP_S * grid.sample_rate) if hop_samples is None else int(hop_samples)
        )
        if self.hop_samples <= 0:
            raise ValueError(f"hop_samples must be positive (got {self.hop_samples})")
        _tables(grid.sample_rate, grid.window)  # fail now, not on the first hop
        self._capacity = max(self.excerpt_samples, self.hop_samples)
        self._ring = np.zeros(self._capacity, dtype=np.int16)
        self._position = 0

    @property
    def buffer_capacity(self) -> int:
        """Samples held in the ring buffer: fixed for the life of the stream."""
        return int(self._ring.size)

    @property
    def position(self) -> int:
        """Samples pushed since construction or the last :meth:`reset`."""
        return self._position

    def reset(self) -> None:
        self._position = 0
        self._ring[:] = 0

    def push(self, pcm: ArrayLike) -> list[ExcerptWindow]:
        chunk = np.asarray(pcm)
        if chunk.ndim != 1:
            raise ValueError(f"pcm must be 1-D, got shape {chunk.shape}")
        if chunk.dtype != np.int16:
            if chunk.dtype.kind not in "iu":
                raise TypeError(f"pcm must hold int16 samples, got dtype {chunk.dtype}")
            if chunk.size and (chunk.min() < -32768 or chunk.max() > 32767):
                raise ValueError("pcm values exceed the int16 range")
            chunk = chunk.astype(np.int16)
        windows: list[ExcerptWindow] = []
        offset = 0
        while offset < chunk.size:
            to_boundary = self.hop_samples - self._position % self.hop_samples
            piece = chunk[offset : offset + to_boundary]
            self._write(piece)
            offset += piece.size
            if self._position % self.hop_samples == 0 and self._position >= self.excerpt_samples:
                windows.append(self._window())
        return windows

    def _write(self, piece: NDArray[np.int16]) -> None:
        # A piece never exceeds one hop, and the capacity is at least one hop.
        start = self._position % self._capacity
        head = min(piece.size, self._capacity - start)
        self._ring[start : start + head] = piece[:head]
        self._ring[: piece.size - head] = piece[head:]
        self._position += piece.size

    def _latest(self, count: int) -> NDArray[np.int16]:
        end = self._position % self._capacity
        if end >= count:
            return self._ring[end - count : end].copy()
        return np.concatenate((self._ring[self._capacity - (count - end) :], self._ring[:end]))

    def _window(self) -> ExcerptWindow:
        excerpt = self._latest(self.excerpt_samples)
        hop = excerpt[-self.hop_samples :] if self.hop_samples <= excerpt.size else None
        newest_hop = hop if hop is not None else self._latest(self.hop_samples)
        with single_threaded_blas():
            features = excerpt_features(excerpt, self.grid, self.sequence_length)
        return ExcerptWindow(
            features=features,
            end_sample=self._position,
            level_dbfs=level_dbfs(newest_hop),
            frame_levels_dbfs=frame_levels_dbfs(excerpt, self.grid, self.sequence_length),
        )


class StreamingFeatureExtractor:
    """Frame-by-frame features under a FIXED normalisation (DC offset and peak on the unit scale).

    Carries only the samples of the next unfinished frame(s), the previous magnitude spectrum (for
    spectral flux) and the previous base feature vector (for deltas). With the values of
    :func:`whole_signal_normalisation` it reproduces pyAudioAnalysis on the whole signal.
    """

    def __init__(self, grid: FrameGrid, dc_offset: float, peak: float) -> None:
        if not peak > 0:
            raise ValueError(f"peak must be positive (got {peak})")
        self.grid = grid
        self.dc_offset = float(dc_offset)
        self.peak = float(peak)
        self._tables = _tables(grid.sample_rate, grid.window)
        self._pending: Float64Array = np.empty(0, dtype=np.float64)
        self._skip = 0  # samples still to drop before the next frame when step > window
        self._previous_magnitude: Float64Array | None = None
        self._previous_base: Float64Array | None = None

    def reset(self) -> None:
        self._pending = np.empty(0, dtype=np.float64)
        self._skip = 0
        self._previous_magnitude = None
        self._previous_base = None

    def push(self, chunk: ArrayLike) -> Float64Array:
        """Features (k, 68) of the frames completed by ``chunk`` (k may be 0)."""
        raw = _as_samples(chunk)
        if raw.ndim != 1:
            raise ValueError(f"chunk must be 1-D, got shape {raw.shape}")
        dropped = min(self._skip, raw.size)
        self._skip -= dropped
        normalised = _normalised(raw[dropped:], self.dc_offset, self.peak)
        pending = np.concatenate((self._pending, normalised))
        n_frames = self.grid.n_frames(pending.size)
        if n_frames == 0:
            self._pending = pending
            return np.empty((0, N_FEATURES))
        frames = _frames_of(pending, self.grid, n_frames)
        features = np.empty((n_frames, N_FEATURES))
        for start in range(0, n_frames, _FRAMES_PER_BLOCK):  # bounded memory for huge chunks
            base, self._previous_magnitude = _frame_features(
                frames[start : start + _FRAMES_PER_BLOCK], self._tables, self._previous_magnitude
            )
            features[start : start + base.shape[0]] = _with_deltas(base, self._previous_base)
            self._previous_base = base[-1].copy()
        consumed = n_frames * self.grid.step
        self._skip = max(0, consumed - pending.size)
        self._pending = pending[consumed:].copy()
        return features
