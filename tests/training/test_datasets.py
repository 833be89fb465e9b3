"""Loaders of the labelled sets on small real subsets copied from the data root.

Each subset is a few real items with their real label rows, copied into a temporary data root,
so the loaders run end to end (probing, fluidsynth renders) in seconds and mismatches can be
staged on the copies without touching the data.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.data_paths import DATA_ROOT, require_data
from training.cli import main
from training.dataset import DatasetError
from training.datasets import (
    LabelledItem,
    data_root,
    load_set,
    read_split,
    scan_set,
    validation_split,
    write_split,
)
from training.datasets.emopia import song_of
from training.datasets.emotify import GEMS, GEMS_VALENCE_AROUSAL, rater_valence_arousal
from training.datasets.panda4q import artist_group
from training.datasets.render import render_midi
from training.datasets.root import DATA_ENV, DataRootMissing
from training.datasets.vgmidi import bar_index, game_of

SIGNS = {1: (1.0, 1.0), 2: (-1.0, 1.0), 3: (-1.0, -1.0), 4: (1.0, -1.0)}


def _copy_rows(source: Path, target: Path, keep: set[str], column: int = 0) -> list[list[str]]:
    """Copy the header and the rows whose `column` is in `keep`; return the kept rows."""
    with source.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = list(csv.reader(handle))
    kept = [row for row in rows[1:] if row and row[column].strip() in keep]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([rows[0], *kept])
    return kept


def _check_times(item: LabelledItem) -> None:
    assert item.times_s[0] >= 3.0
    np.testing.assert_allclose(np.diff(item.times_s), 0.5)
    assert np.allclose(item.times_s * 2, np.round(item.times_s * 2))
    assert item.times_s[-1] <= item.duration_s
    assert item.targets.shape == (len(item.times_s), 2)
    assert item.targets.dtype == np.float32
    assert np.all(np.abs(item.targets) <= 1.0)


# --- data root --------------------------------------------------------------------------------


def test_data_root_prefers_option_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env, from_option = tmp_path / "env", tmp_path / "option"
    from_env.mkdir()
    from_option.mkdir()
    monkeypatch.setenv(DATA_ENV, str(from_env))
    assert data_root() == from_env
    assert data_root(from_option) == from_option
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "absent"))
    with pytest.raises(DataRootMissing, match=r"\.\./shared/data") as missing:
        data_root()
    assert "PROVENANCE.md" in str(missing.value)


def test_datasets_command_names_a_missing_root_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["datasets", "--data", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not found" in err
    assert "Traceback" not in err


# --- 4Q (Panda et al.) --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def panda_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """One real song per quadrant with its label and metadata rows."""
    source = require_data(DATA_ROOT / "4q_panda")
    root = tmp_path_factory.mktemp("panda")
    quadrant_of: dict[str, int] = {}
    with (source / "panda_dataset_taffc_annotations.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            quadrant = int(row["Quadrant"][1])
            if quadrant not in quadrant_of.values():
                quadrant_of[row["Song"]] = quadrant
    for name in ("panda_dataset_taffc_annotations.csv", "panda_dataset_taffc_metadata.csv"):
        _copy_rows(source / name, root / "4q_panda" / name, set(quadrant_of))
    for song, quadrant in quadrant_of.items():
        (root / "4q_panda" / f"Q{quadrant}").mkdir(exist_ok=True)
        shutil.copy(source / f"Q{quadrant}" / f"{song}.opus", root / "4q_panda" / f"Q{quadrant}")
    return root, quadrant_of


def test_panda_quadrants_become_signs_with_pquad_confidence(
    panda_root: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    root, quadrant_of = panda_root
    items = load_set("4q_panda", root, cache_dir=tmp_path)
    assert {item.item_id for item in items} == set(quadrant_of)
    with (root / "4q_panda" / "panda_dataset_taffc_metadata.csv").open(encoding="utf-8") as handle:
        metadata = {row["Song"]: row for row in csv.DictReader(handle)}
    for item in items:
        _check_times(item)
        assert item.target_kind == "sign"
        valence, arousal = SIGNS[quadrant_of[item.item_id]]
        assert np.all(item.targets[:, 0] == valence)
        assert np.all(item.targets[:, 1] == arousal)
        assert item.confidence == pytest.approx(float(metadata[item.item_id]["PQuad"]))
        assert item.group == artist_group(metadata[item.item_id]["Artist"])
        assert 25 < item.duration_s < 35  # ~30 s AllMusic previews
    by_quadrant = {quadrant_of[item.item_id]: item for item in items}
    assert tuple(by_quadrant[2].targets[0]) == (-1.0, 1.0)  # Q2: negative valence, high arousal


def test_panda_missing_audio_is_reported_and_a_wrong_folder_refused(
    panda_root: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(panda_root[0], root)
    song, quadrant = next(iter(panda_root[1].items()))
    audio = root / "4q_panda" / f"Q{quadrant}" / f"{song}.opus"
    audio.unlink()
    loaded = scan_set("4q_panda", root, cache_dir=tmp_path / "cache")
    assert song not in {item.item_id for item in loaded.items}
    assert [p.item_id for p in loaded.problems] == [song]
    assert "audio file missing" in loaded.problems[0].reason
    wrong = 1 + quadrant % 4
    (root / "4q_panda" / f"Q{wrong}").mkdir(exist_ok=True)
    shutil.copy(
        panda_root[0] / "4q_panda" / f"Q{quadrant}" / f"{song}.opus",
        root / "4q_panda" / f"Q{wrong}",
    )
    with pytest.raises(
        DatasetError, match=f"{song} is labelled Q{quadrant} but its audio is in folder Q{wrong}"
    ):
        scan_set("4q_panda", root, cache_dir=tmp_path / "cache")


def test_panda_unreadable_audio_is_reported_with_its_id(
    panda_root: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(panda_root[0], root)
    song, quadrant = next(iter(panda_root[1].items()))
    (root / "4q_panda" / f"Q{quadrant}" / f"{song}.opus").write_bytes(b"not an Opus file\n" * 64)
    loaded = scan_set("4q_panda", root, cache_dir=tmp_path / "cache")
    assert len(loaded.items) == 3
    assert [p.item_id for p in loaded.problems] == [song]
    assert "audio unreadable" in loaded.problems[0].reason


# --- Emotify -------------------------------------------------------------------------------------


def test_gems_mapping_puts_the_clear_categories_in_their_quadrants() -> None:
    def only(name: str) -> tuple[float, float] | None:
        return rater_valence_arousal({g: int(g == name) for g in GEMS})

    assert only("joyful_activation") == (1.0, 1.0)
    valence, arousal = only("tension") or (0.0, 0.0)
    assert valence < 0 < arousal
    valence, arousal = only("sadness") or (0.0, 0.0)
    assert valence < 0
    assert arousal < 0
    valence, arousal = only("calmness") or (0.0, 0.0)
    assert valence > 0 > arousal
    valence, arousal = only("power") or (0.0, 0.0)
    assert arousal > 0
    assert rater_valence_arousal(dict.fromkeys(GEMS, 0)) is None
    # Two choices average: joyful activation + sadness.
    both = rater_valence_arousal({g: int(g in ("joyful_activation", "sadness")) for g in GEMS})
    assert both == (0.0, 0.25)
    assert set(GEMS_VALENCE_AROUSAL) == set(GEMS)


@pytest.fixture(scope="module")
def emotify_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[str]]]:
    """The first rated track of each genre, all its rater rows and its audio."""
    source = require_data(DATA_ROOT / "emotify")
    root = tmp_path_factory.mktemp("emotify")
    offsets = {"classical": 0, "rock": 100, "electronic": 200, "pop": 300}
    first: dict[str, str] = {}
    with (source / "data.csv").open(encoding="utf-8") as handle:
        for row in list(csv.reader(handle))[1:]:
            first.setdefault(row[1].strip(), row[0].strip())
    rows = _copy_rows(source / "data.csv", root / "emotify" / "data.csv", set(first.values()))
    for genre, track in first.items():
        (root / "emotify" / genre).mkdir()
        shutil.copy(
            source / genre / f"{int(track) - offsets[genre]}.opus", root / "emotify" / genre
        )
    return root, rows


def test_emotify_targets_are_rater_means_and_confidence_follows_rater_count(
    emotify_root: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    root, rows = emotify_root
    items = load_set("emotify", root, cache_dir=tmp_path)
    assert len(items) == 4
    per_track: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        chosen = [GEMS_VALENCE_AROUSAL[g] for g, v in zip(GEMS, row[2:11], strict=True) if int(v)]
        if chosen:
            per_track.setdefault(row[0].strip(), []).append(tuple(np.mean(chosen, axis=0)))
    most = max(len(r) for r in per_track.values())
    for item in items:
        _check_times(item)
        assert item.group == item.item_id
        expected = np.mean(per_track[item.item_id], axis=0)
        np.testing.assert_allclose(
            item.targets, np.tile(expected, (len(item.times_s), 1)), atol=1e-6
        )
        assert item.confidence == pytest.approx(len(per_track[item.item_id]) / most)
        assert 55 < item.duration_s < 65  # one-minute excerpts


def test_emotify_genre_contradicting_the_track_id_is_refused(
    emotify_root: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(emotify_root[0], root)
    labels = root / "emotify" / "data.csv"
    lines = labels.read_text(encoding="utf-8").splitlines()
    track, genre = lines[1].split(",")[:2]
    other = "pop" if genre.strip() != "pop" else "rock"
    lines[1] = lines[1].replace(genre, f" {other}", 1)
    labels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=f"track {track} is"):
        scan_set("emotify", root, cache_dir=tmp_path / "cache")


# --- VGMIDI --------------------------------------------------------------------------------------

# The two shortest pieces, one from each annotation file: 18 s / 9 bars and 18 s / 6 bars.
VGMIDI_PIECES = {"vgmidi_raw_1.json": "piece40", "vgmidi_raw_2.json": "piece85"}


@pytest.fixture(scope="module")
def vgmidi_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = require_data(DATA_ROOT / "vgmidi" / "labelled")
    root = tmp_path_factory.mktemp("vgmidi")
    (root / "vgmidi" / "labelled" / "annotations").mkdir(parents=True)
    (root / "vgmidi" / "labelled" / "midi").mkdir()
    for name, key in VGMIDI_PIECES.items():
        document = json.loads((source / "annotations" / name).read_text(encoding="utf-8"))
        piece = document["pieces"][key]
        raters = {k: v for k, v in document["annotations"].items() if k.rsplit("_", 1)[0] == key}
        subset = {"pieces": {key: piece}, "annotations": raters}
        (root / "vgmidi" / "labelled" / "annotations" / name).write_text(
            json.dumps(subset), encoding="utf-8"
        )
        shutil.copy(source / "midi" / piece["midi"], root / "vgmidi" / "labelled" / "midi")
    return root


@pytest.fixture(scope="module")
def vgmidi_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vgmidi_cache")


def test_bar_containing_a_time() -> None:
    # 80 s in 40 bars: bar i covers [2i, 2i + 2); a boundary belongs to the bar it starts.
    times = np.array([0.0, 1.99, 2.0, 3.0, 4.0, 79.9, 80.0])
    assert bar_index(times, 80.0, 40).tolist() == [0, 0, 1, 1, 2, 39, 39]
    assert bar_index(np.array([3.0]), 17.99691609977324, 6).tolist() == [1]


def test_game_is_the_first_three_name_fields() -> None:
    assert (
        game_of("Super Mario_NES_Super Mario Bros_Underworld") == "Super Mario_NES_Super Mario Bros"
    )
    assert (
        game_of("Banjo-Kazooie_N64_Banjo-Kazooie_Boggys Igloo Happy")
        == "Banjo-Kazooie_N64_Banjo-Kazooie"
    )


def test_vgmidi_targets_are_rater_means_of_the_bar_holding_each_time(
    vgmidi_root: Path, vgmidi_cache: Path
) -> None:
    items = load_set("vgmidi", vgmidi_root, cache_dir=vgmidi_cache)
    assert len(items) == 2
    for name, key in VGMIDI_PIECES.items():
        document = json.loads(
            (vgmidi_root / "vgmidi" / "labelled" / "annotations" / name).read_text(encoding="utf-8")
        )
        piece = document["pieces"][key]
        item = next(i for i in items if i.item_id == Path(piece["midi"]).stem)
        _check_times(item)
        assert item.group == game_of(item.item_id)
        duration, measures = float(piece["duration"]), int(piece["measures"])
        assert item.duration_s == pytest.approx(duration, abs=1 / 22050)
        for time_s, target in zip(item.times_s, item.targets, strict=True):
            bar = next(
                i
                for i in range(measures)
                if i * duration / measures <= time_s < (i + 1) * duration / measures
            )
            valence = np.mean([r["valence"][bar] for r in document["annotations"].values()])
            arousal = np.mean([r["arousal"][bar] for r in document["annotations"].values()])
            np.testing.assert_allclose(target, [valence, arousal], atol=1e-6)


def test_renders_are_deterministic_and_trimmed(
    vgmidi_root: Path, vgmidi_cache: Path, tmp_path: Path
) -> None:
    """A fresh render in another folder has the same name (content hash) and the same bytes."""
    items = load_set("vgmidi", vgmidi_root, cache_dir=vgmidi_cache)
    item = next(i for i in items if i.item_id.endswith("Prelude of Light"))
    midi = vgmidi_root / "vgmidi" / "labelled" / "midi" / f"{item.item_id}.mid"
    again = render_midi(midi, tmp_path, trim_s=18.0)
    assert again.path.name == item.audio.name
    assert again.path.read_bytes() == item.audio.read_bytes()
    assert again.duration_s == pytest.approx(18.0)
    assert again.rendered_s > 18.0  # fluidsynth rendered past the stated end: cut
    samples = np.frombuffer(again.path.read_bytes()[44:], dtype="<i2")
    assert np.abs(samples.astype(np.int32)).max() > 1000  # real notes, not silence


def test_vgmidi_annotation_longer_than_the_midi_is_refused(
    vgmidi_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(vgmidi_root, root)
    path = root / "vgmidi" / "labelled" / "annotations" / "vgmidi_raw_1.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["pieces"]["piece40"]["duration"] = 60
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DatasetError, match="does not match the annotation"):
        scan_set("vgmidi", root, cache_dir=tmp_path / "cache")


def test_vgmidi_rater_with_a_wrong_bar_count_is_dropped_and_reported(
    vgmidi_root: Path, vgmidi_cache: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(vgmidi_root, root)
    path = root / "vgmidi" / "labelled" / "annotations" / "vgmidi_raw_2.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    rater = sorted(document["annotations"])[0]
    document["annotations"][rater]["valence"].append(0.0)
    path.write_text(json.dumps(document), encoding="utf-8")
    loaded = scan_set("vgmidi", root, cache_dir=vgmidi_cache)
    assert len(loaded.items) == 2
    assert any(
        rater in problem.reason and "dropped" in problem.reason for problem in loaded.problems
    )


# --- EMOPIA --------------------------------------------------------------------------------------


def test_song_id_keeps_underscores_of_youtube_ids() -> None:
    assert song_of("Q1_0vLPYiPN7qY_0") == "0vLPYiPN7qY"
    assert song_of("Q1_3ahg_eQZhxs_1") == "3ahg_eQZhxs"


@pytest.fixture(scope="module")
def emopia_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A Q2 clip from the official validation split and a Q4 clip from the training split."""
    source = require_data(DATA_ROOT / "emopia")
    root = tmp_path_factory.mktemp("emopia")
    picked: dict[str, str] = {}
    for side, quadrant in (("val", "Q2"), ("train", "Q4")):
        with (source / "split" / f"{side}_clip.csv").open(encoding="utf-8") as handle:
            clip = next(
                r["clip_name"]
                for r in csv.DictReader(handle)
                if r["clip_name"].startswith(quadrant)
            )
        picked[Path(clip).stem] = side
    _copy_rows(source / "label.csv", root / "emopia" / "label.csv", set(picked))
    for side in ("train", "val"):
        kept = {f"{clip}.mid" for clip, s in picked.items() if s == side}
        _copy_rows(
            source / "split" / f"{side}_clip.csv",
            root / "emopia" / "split" / f"{side}_clip.csv",
            kept,
            1,
        )
    (root / "emopia" / "midis").mkdir()
    for clip in picked:
        shutil.copy(source / "midis" / f"{clip}.mid", root / "emopia" / "midis")
    return root, picked


def test_emopia_quadrant_signs_and_official_split(
    emopia_root: tuple[Path, dict[str, str]], vgmidi_cache: Path
) -> None:
    root, picked = emopia_root
    items = load_set("emopia", root, cache_dir=vgmidi_cache)
    assert {item.item_id: item.official_split for item in items} == picked
    for item in items:
        _check_times(item)
        assert item.target_kind == "sign"
        assert item.group == song_of(item.item_id)
        expected = SIGNS[int(item.item_id[1])]
        assert np.all(item.targets == np.array(expected, dtype=np.float32))
    train, validation = validation_split(items)
    assert (train, validation) == (
        [i for i, s in picked.items() if s == "train"],
        [i for i, s in picked.items() if s == "val"],
    )


def test_emopia_name_contradicting_its_label_is_refused(
    emopia_root: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(emopia_root[0], root)
    labels = root / "emopia" / "label.csv"
    lines = labels.read_text(encoding="utf-8").splitlines()
    clip, quadrant = lines[1].split(",")[:2]
    lines[1] = lines[1].replace(f"{clip},{quadrant}", f"{clip},{1 + int(quadrant) % 4}", 1)
    labels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=f"{clip} is named Q{quadrant}"):
        scan_set("emopia", root, cache_dir=tmp_path / "cache")


# --- splits ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def panda_items_by_artist() -> list[LabelledItem]:
    """All 740 4Q songs with their real artists as groups (labels only: no audio is read)."""
    metadata = require_data(DATA_ROOT / "4q_panda" / "panda_dataset_taffc_metadata.csv")
    with metadata.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    times = np.array([3.0])
    return [
        LabelledItem(
            set_name="4q_panda",
            item_id=row["Song"],
            group=artist_group(row["Artist"]),
            audio=metadata,
            times_s=times,
            targets=np.array([SIGNS[int(row["Quadrant"][1])]], dtype=np.float32),
            target_kind="sign",
            confidence=float(row["PQuad"]),
            official_split=None,
        )
        for row in rows
    ]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_groups_never_cross_and_the_seed_fixes_it(
    panda_items_by_artist: list[LabelledItem], seed: int
) -> None:
    items = panda_items_by_artist
    train, validation = validation_split(items, seed=seed, fraction=0.2)
    assert validation_split(items, seed=seed, fraction=0.2) == (train, validation)
    assert sorted(train + validation) == sorted(item.item_id for item in items)
    group = {item.item_id: item.group for item in items}
    assert not {group[i] for i in train} & {group[i] for i in validation}
    assert 0.18 < len(validation) / len(items) < 0.25
    assert validation_split(items, seed=seed + 100, fraction=0.2)[1] != validation


def test_split_file_records_ids_and_groups(
    panda_items_by_artist: list[LabelledItem], tmp_path: Path
) -> None:
    items = panda_items_by_artist
    train, validation = validation_split(items, seed=3)
    path = write_split(
        tmp_path / "run" / "split_4q_panda.json", items, train, validation, seed=3, fraction=0.2
    )
    record = json.loads(path.read_text(encoding="utf-8"))
    assert (record["set"], record["seed"]) == ("4q_panda", 3)
    assert set(record["train"]["groups"]).isdisjoint(record["validation"]["groups"])
    assert read_split(path) == (train, validation)
    crossing = [*validation, train[0]]
    with pytest.raises(DatasetError, match="both sides"):
        write_split(tmp_path / "bad.json", items, train, crossing, seed=3, fraction=0.2)


def test_emomusic_evaluation_part_stays_out_of_both_sides(tmp_path: Path) -> None:
    require_data(DATA_ROOT / "emomusic_2013" / "clips_45s")
    items = load_set("emomusic_2013", DATA_ROOT, cache_dir=tmp_path, report=lambda _: None)
    evaluation = {item.item_id for item in items if item.official_split == "evaluation"}
    assert evaluation == {"3", "12"}
    train, validation = validation_split(items, seed=0)
    assert evaluation.isdisjoint(train + validation)
    assert len(train) + len(validation) == len(items) - 2
    for item in items:
        assert item.times_s[0] == 15.0
        assert item.times_s[-1] == 45.0  # the last label fits the decoded 45 s clip


def test_datasets_command_prints_a_row_per_set_and_writes_the_split(
    panda_root: tuple[Path, dict[str, int]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data, cache, out = str(panda_root[0]), str(tmp_path / "cache"), tmp_path / "run"
    code = main(
        ["datasets", "--data", data, "--sets", "4q_panda", "--cache-dir", cache, "--out", str(out)]
    )
    assert code == 0
    stdout = capsys.readouterr().out
    row = next(line for line in stdout.splitlines() if line.startswith("| 4q_panda"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "4"  # items
    assert 100 < float(cells[3]) < 140  # seconds of audio: four ~30 s clips
    assert int(cells[5]) > 4 * 50  # excerpts: ~54 per 30 s clip
    train, validation = read_split(out / "split_4q_panda.json")
    assert sorted(train + validation) == sorted(panda_root[1])
    assert cells[6].startswith(f"{len(validation)} (")
    assert main(["datasets", "--data", data, "--sets", "4q_panda", "--fraction", "1.5"]) == 2
