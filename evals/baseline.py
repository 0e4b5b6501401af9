"""The pipeline from LangChain's tutorials, as the baseline the project must beat.

Recursive character splits of 1,000 characters with 200 overlap over each decision file as it
stands, the same all-MiniLM-L6-v2 embeddings, a Chroma vector store, top-4 similarity.  Its chunks
have no paragraph numbers, so a chunk is counted as retrieving a gold paragraph when it holds a
whole sentence of it (or all of a short paragraph): generous to the baseline.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.chunk import sentence_spans
from rag.cite import normalise
from rag.models import Decision
from rag.settings import Settings
from rag.sources import read_file

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1000, 200, 4
MIN_SENTENCE = 40
MAX_FILE_BYTES = Settings.model_fields["max_file_bytes"].default


class Baseline:
    """Split, embed and store the decision files; answer `search(question)` with top-4 texts."""

    def __init__(self, files: list[Path], embedder: Embeddings, client=None) -> None:  # noqa: ANN001
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        started = time.perf_counter()
        # each decision's text as `ingest` reads it (a saved page's text, not its HTML; each dataset record)
        docs = [Document(page_content=record.text, metadata={"source": Path(record.name).name})
                for f in files for record in read_file(f, MAX_FILE_BYTES)]
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        self.chunks = splitter.split_documents(docs)
        self._dir = tempfile.TemporaryDirectory(prefix="baseline-")
        client = client or chromadb.PersistentClient(
            path=self._dir.name, settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(collection_name=f"baseline-{uuid.uuid4().hex[:8]}", embedding_function=embedder,
                            client=client)
        self.store.add_documents(self.chunks)
        self.build_seconds = time.perf_counter() - started

    def search(self, question: str) -> list[Document]:
        return self.store.similarity_search(question, k=TOP_K)


def _pieces(text: str) -> list[str]:
    """The normalised sentences of a paragraph that identify it (or the paragraph if short)."""
    sentences = [normalise(text[a:b]) for a, b in sentence_spans(text)]
    long = [s for s in sentences if len(s) >= MIN_SENTENCE]
    return long or [normalise(text)]


def holds(chunk_text: str, paragraph_text: str) -> bool:
    flat = normalise(chunk_text)
    return any(piece in flat for piece in _pieces(paragraph_text))


def ranked_decisions(docs: list[Document], decisions: dict[str, Decision]) -> list[str | None]:
    """For each retrieved chunk, in rank order, the decision (file) it comes from."""
    by_file = {Path(d.source or "").name: d.ref for d in decisions.values()}
    return [by_file.get(doc.metadata.get("source", "")) for doc in docs]


def ranked_paragraphs(docs: list[Document], decisions: dict[str, Decision]) -> list[set[tuple[str, int]]]:
    """For each retrieved chunk, in rank order, the (ref, paragraph) pairs it holds."""
    by_file = {Path(d.source or "").name: d for d in decisions.values()}
    ranked = []
    for doc in docs:
        decision = by_file.get(doc.metadata.get("source", ""))
        held: set[tuple[str, int]] = set()
        if decision is not None:
            if decision.summary and holds(doc.page_content, decision.summary):
                held.add((decision.ref, 0))
            held |= {(decision.ref, p.number) for p in decision.paragraphs if holds(doc.page_content, p.text)}
        ranked.append(held)
    return ranked
