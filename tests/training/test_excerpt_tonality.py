"""Mode statistics (training/excerpt_tonality.py) on generated chroma and generated triads."""

from __future__ import annotations

import numpy as np
import pytest

from training.excerpt_tonality import (
    MAJOR_PROFILE,
    MINOR_PROFILE,
    STFT_WINDOW,
    audio_chroma,
    key_profiles,
    mode_statistics,
    pitch_class_map,
)

SAMPLE_RATE = 22050
SECONDS = 3.0


def _triad(root: int, *, minor: bool) -> np.ndarray:
    """int16 samples of a triad on ``root`` semitones above middle C, four harmonics per note."""
    t = np.arange(round(SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    tonic = 261.6256 * 2 ** (root / 12)
    notes = [tonic, tonic * 2 ** ((3 if minor else 4) / 12), tonic * 2 ** (7 / 12)]
    signal = sum(np.sin(2 * np.pi * f * h * t) / h for f in notes for h in range(1, 5))
    return np.round(signal / np.abs(signal).max() * 20000).astype(np.int16)


def test_profiles_are_centred_unit_rotations_of_the_published_ratings() -> None:
    profiles = key_profiles()
    assert profiles.shape == (12, 24)
    np.testing.assert_allclose(profiles.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(profiles, axis=0), 1.0)
    # D major (tonic 2) is C major moved up two semitones.
    np.testing.assert_allclose(profiles[:, 2], np.roll(profiles[:, 0], 2))
    assert np.corrcoef(profiles[:, 12], MINOR_PROFILE)[0, 1] == pytest.approx(1.0)
    assert np.corrcoef(profiles[:, 0], MAJOR_PROFILE)[0, 1] == pytest.approx(1.0)


def test_a_key_profile_itself_is_its_key_in_every_transposition() -> None:
    for tonic in range(12):
        major, minor, difference = mode_statistics(np.roll(MAJOR_PROFILE, tonic)[None])[0]
        assert major == pytest.approx(1.0)
        assert difference == pytest.approx(major - minor)
        assert difference > 0
        major, minor, difference = mode_statistics(np.roll(MINOR_PROFILE, tonic)[None])[0]
        assert minor == pytest.approx(1.0)
        assert difference < 0


def test_statistics_ignore_the_chroma_scale_and_a_flat_chroma_gives_zeros() -> None:
    chroma = np.random.default_rng(0).uniform(size=(3, 12))
    np.testing.assert_allclose(mode_statistics(chroma), mode_statistics(7.5 * chroma))
    np.testing.assert_allclose(mode_statistics(np.ones((1, 12))), 0.0, atol=1e-9)


def test_every_bin_in_the_band_counts_once_and_none_outside() -> None:
    mapping = pitch_class_map(SAMPLE_RATE)
    freqs = np.fft.rfftfreq(STFT_WINDOW, 1 / SAMPLE_RATE)
    inside = (freqs >= 80) & (freqs <= 4000)
    np.testing.assert_array_equal(mapping.sum(axis=1), inside.astype(float))
    a440 = int(np.argmin(np.abs(freqs - 440.0)))
    assert mapping[a440].argmax() == 9  # A is 9 semitones above C


@pytest.mark.parametrize("root", [0, 2, 7, 9])
def test_the_audio_chroma_tells_a_major_triad_from_a_minor_one_on_every_root(root: int) -> None:
    end = np.array([SECONDS])
    major = audio_chroma(_triad(root, minor=False), SAMPLE_RATE, end)
    minor = audio_chroma(_triad(root, minor=True), SAMPLE_RATE, end)
    strongest = set(np.argsort(major[0])[-3:])
    assert strongest == {root % 12, (root + 4) % 12, (root + 7) % 12}
    assert mode_statistics(major)[0, 2] > 0 > mode_statistics(minor)[0, 2]


def test_excerpts_without_a_whole_stft_frame_get_a_zero_chroma() -> None:
    samples = _triad(0, minor=False)
    chroma = audio_chroma(samples, SAMPLE_RATE, np.array([0.1, SECONDS]))
    np.testing.assert_array_equal(chroma[0], 0.0)
    assert chroma[1].sum() > 0
    np.testing.assert_array_equal(audio_chroma(samples[:100], SAMPLE_RATE, np.array([1.0])), 0.0)
