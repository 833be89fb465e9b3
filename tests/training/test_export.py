"""The fused ONNX export: contract, operators, metadata, and parity with the torch ensemble."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from tests.data_paths import EMOMUSIC_DIR, require_data
from training.config import GRUSettings
from training.dataset import EmoMusicDataset
from training.export import (
    PARITY_TOLERANCE,
    export_ensemble,
    fused_gru_weights,
    model_metadata,
    operator_types,
    run_onnxruntime,
)
from training.features import FeatureExtractor, build_examples
from training.gru import GRUEnsembleRegressor, predict_networks
from training.targets import target_columns, target_matrix

EXPECTED_METADATA_KEYS = {
    "music_mood.format",
    "music_mood.feature_extractor_version",
    "music_mood.sample_rate",
    "music_mood.window_s",
    "music_mood.step_s",
    "music_mood.sequence_length",
    "music_mood.hop_s",
    "music_mood.normalisation",
    "music_mood.description",
    "music_mood.training_data",
    "music_mood.scores",
    "music_mood.seeds",
    "music_mood.created",
}


@pytest.fixture(scope="module")
def real_examples(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Excerpt features of two real clips to train on, and of a third one held out."""
    for song_id in (2, 4, 3):
        require_data(EMOMUSIC_DIR / "clips_45s" / f"{song_id}.mp3")
    dataset = EmoMusicDataset.load(EMOMUSIC_DIR)
    extractor = FeatureExtractor(tmp_path_factory.mktemp("cache"))
    songs = extractor.dataset_features(dataset, (2, 4, 3), progress=False)
    train = build_examples(dataset, songs, (2, 4))
    held_out = build_examples(dataset, songs, (3,))
    return train.features, train.labels, held_out.features


@pytest.fixture(scope="module")
def exported(
    real_examples: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, GRUEnsembleRegressor, float]:
    torch.set_num_threads(1)
    features, labels, held_out = real_examples
    ensemble = GRUEnsembleRegressor(GRUSettings(epochs=1), size=5, seed=7, progress=False)
    ensemble.fit(features, target_matrix(labels))
    path = tmp_path_factory.mktemp("model") / "model.onnx"
    metadata = model_metadata("test", "two clips", {"evaluation": {}}, [1, 2], "test-version")
    error = export_ensemble(ensemble, path, metadata, held_out)
    return path, ensemble, error


def test_onnxruntime_matches_torch_on_held_out_inputs(
    exported: tuple[Path, GRUEnsembleRegressor, float],
    real_examples: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray],
) -> None:
    path, ensemble, error = exported
    held_out = real_examples[2]
    assert error <= PARITY_TOLERANCE
    onnx_out = run_onnxruntime(path, held_out)
    torch_out = target_columns(ensemble.predict(held_out))
    for target in ("valence", "arousal"):
        assert onnx_out[target].shape == (len(held_out), 1)
        np.testing.assert_allclose(onnx_out[target][:, 0], torch_out[target], atol=1e-5)
    # The members differ, so parity really checks the fused averaging, not five copies of one net.
    standardised = ensemble.standardiser_.transform(held_out)
    members = [predict_networks([n], standardised) for n in ensemble.networks_["valence"]]
    assert np.ptp(np.stack(members), axis=0).max() > 1e-3


def test_export_follows_the_model_contract(
    exported: tuple[Path, GRUEnsembleRegressor, float],
) -> None:
    model = onnx.load(str(exported[0]))
    assert model.ir_version == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    (graph_input,) = model.graph.input
    assert graph_input.name == "features"
    dims = graph_input.type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 60, 68]
    assert [o.name for o in model.graph.output] == ["valence", "arousal"]
    grus = [n for n in model.graph.node if n.op_type == "GRU"]
    assert len(grus) == 2
    for node in grus:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attributes["hidden_size"] == 150
        assert attributes["linear_before_reset"] == 1
        assert attributes["layout"] == 0
    metadata = {p.key: p.value for p in model.metadata_props}
    assert set(metadata) == EXPECTED_METADATA_KEYS
    assert metadata["music_mood.sample_rate"] == "22050"
    assert metadata["music_mood.normalisation"] == "excerpt"
    assert json.loads(metadata["music_mood.seeds"]) == [1, 2]


def test_exported_operators_are_supported_by_the_numpy_executor(
    exported: tuple[Path, GRUEnsembleRegressor, float],
) -> None:
    onnx_numpy = pytest.importorskip("music_mood_core.onnx_numpy")
    assert operator_types(exported[0]) <= onnx_numpy.SUPPORTED_OPERATORS


def test_numpy_executor_matches_onnxruntime(
    exported: tuple[Path, GRUEnsembleRegressor, float],
    real_examples: tuple[np.ndarray, dict[str, np.ndarray], np.ndarray],
) -> None:
    onnx_numpy = pytest.importorskip("music_mood_core.onnx_numpy")
    onnx_proto = pytest.importorskip("music_mood_core.onnx_proto")
    path = exported[0]
    graph = onnx_numpy.NumpyGraph(onnx_proto.parse_model(path.read_bytes()))
    held_out = real_examples[2][:16].astype(np.float32)
    numpy_out = graph.run({"features": held_out})
    onnx_out = run_onnxruntime(path, held_out)
    for target in ("valence", "arousal"):
        np.testing.assert_allclose(numpy_out[target], onnx_out[target], atol=1e-5)


def test_recurrent_weights_are_block_diagonal_in_onnx_gate_order(
    exported: tuple[Path, GRUEnsembleRegressor, float],
) -> None:
    ensemble = exported[1]
    networks = ensemble.networks_["valence"]
    w, r, b = fused_gru_weights(networks)
    assert (w.shape, r.shape, b.shape) == ((1, 450, 68), (1, 450, 150), (1, 900))
    torch_hh = networks[1].gru.state_dict()["weight_hh_l0"].numpy()
    # ONNX gate z (first block) of member 1 is torch's second gate block.
    np.testing.assert_array_equal(r[0, 30:60, 30:60], torch_hh[30:60])
    assert not r[0, 30:60, :30].any()
    assert not r[0, 30:60, 60:].any()
