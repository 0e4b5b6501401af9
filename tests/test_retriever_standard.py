"""The LangChain standard retriever tests from `langchain-tests`, run on our DecisionRetriever."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.lc_retriever import DecisionRetriever


@pytest.fixture(scope="class")
def _bot(request, seeded_bot):
    request.cls.bot = seeded_bot


@pytest.mark.usefixtures("_bot")
class TestDecisionRetriever(RetrieversIntegrationTests):
    bot = None

    @property
    def retriever_constructor(self) -> type[DecisionRetriever]:
        return DecisionRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"bot": self.bot, "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "Must a council involve a non-resident parent in a single assessment?"


def test_documents_carry_citation_metadata(seeded_bot):
    docs = seeded_bot.retriever(k=3).invoke("stage three review", filters={"council": "Derbyshire County Council"})
    assert len(docs) == 3
    for doc in docs:
        assert doc.metadata["ref"] == "18 011 812"
        assert doc.metadata["paragraph"] and doc.metadata["url"]
        assert doc.id == doc.metadata["chunk_id"]
