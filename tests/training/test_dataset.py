"""The 1000 Songs loader on the real labels (data root): splits, missing audio, bad folders."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.data_paths import EMOMUSIC_DIR, require_data
from training.cli import main
from training.config import LABEL_TIMES_S
from training.dataset import DatasetError, EmoMusicDataset
from training.study import report_missing

SAMPLE_AUDIO = {2, 3, 4, 5, 7, 8, 10, 12, 13, 17}


@pytest.fixture(scope="module")
def dataset() -> EmoMusicDataset:
    return EmoMusicDataset.load(require_data(EMOMUSIC_DIR))


def test_split_sizes_on_real_labels(dataset: EmoMusicDataset) -> None:
    splits = dataset.splits()
    assert len(dataset.songs) == 744
    assert (len(splits.development), len(splits.evaluation)) == (619, 125)
    assert (len(splits.train), len(splits.validation)) == (495, 124)
    assert set(splits.train).isdisjoint(splits.validation)
    assert set(splits.train) | set(splits.validation) == set(splits.development)
    assert set(splits.development).isdisjoint(splits.evaluation)


def test_validation_is_stratified_by_genre_and_fixed(dataset: EmoMusicDataset) -> None:
    splits = dataset.splits()
    development = Counter(dataset.songs[i].genre for i in splits.development)
    validation = Counter(dataset.songs[i].genre for i in splits.validation)
    assert set(validation) == set(development)
    for genre, count in development.items():
        assert abs(validation[genre] - count * 124 / 619) <= 1, genre
    assert dataset.splits() == splits
    assert dataset.splits(seed=1) != splits


def test_labels_are_61_points_from_the_1000_songs_files(dataset: EmoMusicDataset) -> None:
    song = dataset.songs[2]
    assert len(LABEL_TIMES_S) == 61
    assert (LABEL_TIMES_S[0], LABEL_TIMES_S[-1]) == (15.0, 45.0)
    assert song.arousal.shape == song.valence.shape == (61,)
    # First values of song 2 in arousal_cont_average.csv / valence_cont_average.csv.
    assert song.arousal[0] == pytest.approx(-0.109387732373192)
    assert song.valence[0] == pytest.approx(-0.0733412307857912)
    assert song.genre == "Blues"
    assert song.mediaeval_set == "development"


def test_audio_present_and_official_sets(dataset: EmoMusicDataset) -> None:
    assert set(dataset.with_audio(dataset.song_ids)) == SAMPLE_AUDIO
    assert set(dataset.with_audio(dataset.splits().evaluation)) == {3, 12}


def _copy_annotations(tmp_path: Path) -> Path:
    root = tmp_path / "dataset"
    shutil.copytree(require_data(EMOMUSIC_DIR / "annotations"), root / "annotations")
    return root


def test_missing_audio_is_reported_with_count_and_ids(tmp_path: Path) -> None:
    root = _copy_annotations(tmp_path)
    (root / "clips_45seconds").mkdir()
    for song_id in (2, 3):
        shutil.copy(EMOMUSIC_DIR / "clips_45s" / f"{song_id}.mp3", root / "clips_45seconds")
    dataset = EmoMusicDataset.load(root)
    messages: list[str] = []
    missing = report_missing(dataset, dataset.splits(), messages.append)
    assert sum(len(ids) for ids in missing.values()) == 742
    assert 2 not in missing["train"] + missing["validation"]
    assert 12 in missing["evaluation"]
    assert "742 of 744" in messages[0]
    assert any("12" in m.split(":")[-1] for m in messages if m.strip().startswith("evaluation"))


def test_missing_folder_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["baseline", "--dataset", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "dataset folder not found" in err
    assert "Traceback" not in err


def test_folder_without_annotations_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--dataset", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no 'annotations' folder" in capsys.readouterr().err


def test_malformed_songs_info_is_reported(tmp_path: Path) -> None:
    root = _copy_annotations(tmp_path)
    info = root / "annotations" / "songs_info.csv"
    info.write_text(info.read_text().replace("Mediaeval 2013 set", "set"), encoding="utf-8")
    with pytest.raises(DatasetError, match="Mediaeval 2013 set"):
        EmoMusicDataset.load(root)


def test_non_numeric_label_is_reported(tmp_path: Path) -> None:
    root = _copy_annotations(tmp_path)
    labels = root / "annotations" / "arousal_cont_average.csv"
    lines = labels.read_text().splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[3], "oops", 1)
    labels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="non-numeric label for song 2"):
        EmoMusicDataset.load(root)
