"""The retriever as a LangChain `BaseRetriever`, for use in any LangChain chain.

This is a boundary: our `Hit`s become LangChain `Document`s here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.filters import Filters
from rag.retrieve import Hit


def hit_to_document(hit: Hit) -> Document:
    meta = dict(hit.metadata)
    meta.update(chunk_id=hit.id, score=hit.score, similarity=hit.similarity, paragraph=hit.paragraph)
    return Document(id=hit.id, page_content=hit.text, metadata=meta)


class DecisionRetriever(BaseRetriever):
    """Hybrid, exactly filtered retrieval over the indexed decisions.

    `DecisionRetriever(bot=rag.Bot(), k=5, filters={"outcome": "Upheld"}).invoke("question")`;
    `k` and `filters` may also be passed to `invoke`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any
    k: int = 5
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: dict[str, Any] | Filters | None = None,
    ) -> list[Document]:
        chosen = filters if filters is not None else self.filters
        retrieval = self.bot.retrieve(query, chosen, k=k or self.k)
        return [hit_to_document(h) for h in retrieval.hits]
