"""The live hop keeps numpy's BLAS on the calling thread and gives the old limit back afterwards."""

from __future__ import annotations

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from music_mood_core.blas import single_threaded_blas  # noqa: E402
from music_mood_core.features import ExcerptStream, FrameGrid, excerpt_features  # noqa: E402


def _blas_threads() -> list[int]:
    return [
        int(pool["num_threads"])
        for pool in threadpoolctl.threadpool_info()
        if pool["user_api"] == "blas"
    ]


@pytest.fixture
def two_blas_threads() -> object:
    if not _blas_threads():
        pytest.skip("numpy here is built without a BLAS threadpoolctl can see")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas") as limits:
        yield limits


@pytest.mark.usefixtures("two_blas_threads")
def test_limit_holds_inside_and_is_restored_after() -> None:
    before = _blas_threads()
    with single_threaded_blas():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


@pytest.mark.usefixtures("two_blas_threads")
def test_limit_is_restored_when_the_body_raises() -> None:
    before = _blas_threads()
    with pytest.raises(RuntimeError), single_threaded_blas():
        raise RuntimeError("boom")
    assert _blas_threads() == before


@pytest.mark.usefixtures("two_blas_threads")
def test_single_threaded_hop_computes_the_same_features() -> None:
    grid = FrameGrid.from_seconds(22050)
    pcm = np.random.default_rng(3).integers(-20000, 20000, size=4 * 22050, dtype=np.int16)
    windows = ExcerptStream(grid).push(pcm)
    assert [window.end_sample for window in windows] == [66150, 77175, 88200]
    for window in windows:
        excerpt = pcm[window.end_sample - grid.excerpt_samples(60) : window.end_sample]
        np.testing.assert_array_equal(window.features, excerpt_features(excerpt, grid))
