"""benchmarks/embedder_quality.py: another model folder is loaded as it is, and a wrong folder is
refused in one line before any eval store is built."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.embedder_quality import folder_embedder, main, word_pieces_per_second
from rag.embed import TorchMiniLMEmbedder, packaged_model_dir

TEXTS = ["The council failed to involve the father in the single assessment.", "No fault."]


def test_a_model_folder_gives_the_same_vectors_as_the_project_loading_that_model():
    """The packaged MiniLM folder through folder_embedder is the reference PyTorch model itself, so a
    comparison run measures the model, not the way it was loaded."""
    folder = folder_embedder(packaged_model_dir())
    ours = np.asarray(TorchMiniLMEmbedder().embed_documents(TEXTS))
    theirs = np.asarray(folder.embed_documents(TEXTS))
    assert theirs.shape == ours.shape
    assert np.allclose(theirs, ours, atol=1e-5)
    assert np.allclose(np.linalg.norm(theirs, axis=1), 1.0, atol=1e-5)
    assert word_pieces_per_second(folder, TEXTS * 4) > 0


def test_a_folder_that_is_not_a_model_is_refused_in_one_line(tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    with pytest.raises(SystemExit) as refused:
        main([str(folder), "--store", str(tmp_path / "stores")])
    assert str(refused.value) == f"{folder}: not a sentence-transformers model folder (no modules.json)"
    assert not (tmp_path / "stores").exists()


@pytest.mark.slow
def test_the_speed_benchmark_prints_a_figure_for_each_local_embedder(capsys):
    from benchmarks.embed_speed import EMBEDDERS
    from benchmarks.embed_speed import main as speed

    assert speed(["--paragraphs", "4", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed["word_pieces_per_s"]) == set(EMBEDDERS) and printed["paragraphs"] == 4
    assert all(value > 0 for value in printed["word_pieces_per_s"].values())
