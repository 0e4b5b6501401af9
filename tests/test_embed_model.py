"""The default embedding model: the int8 build from the packaged weights, checked against PyTorch.

Two bugs found while building it are pinned here: vectors that depended on which other texts shared
a batch (dynamic quantization scales by the whole batch, padding included), and every text padded
to 128 word pieces because the tokenizer file asks for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from rag.embed import OnnxMiniLMEmbedder, TorchMiniLMEmbedder
from rag.errors import ModelError
from rag.onnx_model import FILE_NAME, int8_model

TEXTS = [
    "No fault.",
    "The council failed to involve the father in the single assessment.",
    "Parking tickets are a matter for the traffic penalty tribunal.",
    "The Ombudsman cannot investigate matters that have been before a court. " * 6,
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return np.asarray(TorchMiniLMEmbedder().embed_documents(TEXTS))


def test_vectors_agree_with_the_float_model_at_every_length(minilm, torch_vectors):
    got = minilm.embed_array(TEXTS)
    cosines = (got * torch_vectors).sum(axis=1)
    assert cosines.min() > 0.98, cosines  # padded to 128 pieces, short texts fell to about 0.3


def test_a_text_has_one_vector_whatever_it_is_embedded_with(minilm):
    alone = np.stack([minilm.embed_array([t])[0] for t in TEXTS])
    together = minilm.embed_array(TEXTS * 3)  # enough texts to share among the workers
    assert np.array_equal(together[: len(TEXTS)], alone)
    assert np.array_equal(together[len(TEXTS) :], np.concatenate([alone, alone]))
    assert np.array_equal(np.asarray(minilm.embed_query(TEXTS[1])), alone[1])


def test_unrelated_texts_are_far_apart(minilm):
    a, b = minilm.embed_array(TEXTS[1:3])
    assert float(a @ b) < 0.3


def test_the_model_is_built_once_and_then_reused(minilm, tmp_path, monkeypatch):
    import shutil

    from rag import onnx_model

    built = int8_model(tmp_path / "models")  # a fresh build: export, quantize, check
    assert built.name == FILE_NAME and built.stat().st_size > 10_000_000
    monkeypatch.setattr(onnx_model, "_build", lambda dest: pytest.fail("rebuilt a model that exists"))
    assert int8_model(tmp_path / "models") == built
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(built, copy / FILE_NAME)
    reused = OnnxMiniLMEmbedder.packaged(copy)
    assert np.allclose(reused.embed_array(TEXTS), minilm.embed_array(TEXTS), atol=1e-6)


def test_an_unwritable_model_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelError, match="RAG_MODEL_DIR"):
        int8_model(blocker / "models")
