"""The OpenAI-compatible backend against a scripted server on loopback: good answers are verified,
fabrications never reach the user as quotes, and every failure ends in the extractive answer with a
notice, within the time bound."""

from __future__ import annotations

import re
import socket
import time

import pytest
from openai_stub import CutStream, Hang, Malformed, OpenAIStub, Reply, Status

from rag import Bot, Settings
from rag.cite import REMOVED

QUESTION = "Must a council involve a non-resident parent in a single assessment?"
TIMEOUT = 3.0


def _passages(body: dict) -> dict[int, str]:
    """The numbered passages the model was given, from the request's last user message."""
    prompt = body["messages"][-1]["content"]
    found = re.findall(r"^\[(\d+)\] [^\n]*:\n<passage>\n(.*?)\n</passage>", prompt, re.S | re.M)
    return {int(n): text for n, text in found}


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=\.)\s", text.strip(), maxsplit=1)[0].rstrip(".")


def good_answer(body: dict) -> str:
    passages = _passages(body)
    n = next(n for n, t in passages.items() if "parental responsibility" in t)
    quote = re.search(r"they should always contact those with parental responsibility[^.]*", passages[n]).group(0)
    return (f"Derbyshire County Council (18 011 812) accepted it should have involved the father: it said "
            f"\u201c{quote}\u201d [{n}]. The Ombudsman found the apology a sufficient remedy.")


FABRICATED = "Yes: the Ombudsman ruled that \u201ccouncils must always pay fathers \u00a310,000\u201d [1]."


@pytest.fixture(scope="module")
def stub():
    with OpenAIStub() as server:
        yield server


def _bot(seeded_bot, base_url: str, timeout: float = TIMEOUT, retries: int = 0) -> Bot:
    settings = Settings(store_dir=seeded_bot.settings.store_dir, backend="openai", openai_api_key="test-key",
                        openai_base_url=base_url, openai_model="stub-model", llm_timeout=timeout,
                        llm_retries=retries)
    return Bot(settings, embedder=seeded_bot.embedder, chroma_client=seeded_bot.client)


def test_good_answer_is_verified_and_streamed(seeded_bot, stub):
    stub.script(Reply(good_answer))
    items = list(_bot(seeded_bot, stub.base_url).stream(QUESTION))
    *pieces, answer = items
    assert answer.backend == "openai" and not answer.notices and not answer.abstained
    assert len(pieces) > 1, "the answer is streamed in pieces"
    shown = [c for c in answer.citations if c.verified]
    assert shown and shown[0].ref == "18 011 812" and shown[0].paragraph == 25
    assert "contact those with parental responsibility" in shown[0].quote
    assert "[1]" in answer.answer and "".join(pieces).strip() == answer.answer
    request = stub.requests[-1]
    assert request["model"] == "stub-model" and request["stream"] is True
    assert "verbatim" in request["messages"][0]["content"]


def test_fabricated_quote_falls_back_and_never_streams(seeded_bot, stub):
    stub.script(Reply(FABRICATED))
    *pieces, answer = list(_bot(seeded_bot, stub.base_url).stream(QUESTION))
    assert answer.backend == "extractive"
    assert any("no quotation that could be verified" in n for n in answer.notices)
    assert all("10,000" not in p for p in pieces), "an unverified quote was streamed"
    assert all(c.verified for c in answer.citations) and answer.citations


def test_fabricated_quote_beside_a_good_one_is_removed(seeded_bot, stub):
    stub.script(Reply(lambda body: good_answer(body) + " " + FABRICATED))
    answer = _bot(seeded_bot, stub.base_url).ask(QUESTION)
    assert answer.backend == "openai"
    assert REMOVED in answer.answer and "10,000" not in answer.answer
    assert [c.verified for c in answer.citations] == [True, False]
    assert any("could not be verified" in n for n in answer.notices)


def test_wrong_passage_numbers_are_not_trusted(seeded_bot, stub):
    def wrong_numbers(body: dict) -> str:
        right = good_answer(body)
        n = int(re.search(r"\[(\d+)\]", right).group(1))
        return right.replace(f"[{n}]", f"[{n % 8 + 1}]") + " See also [42]."

    stub.script(Reply(wrong_numbers))
    answer = _bot(seeded_bot, stub.base_url).ask(QUESTION)
    assert answer.backend == "extractive" and answer.notices
    assert "[42]" not in answer.answer


@pytest.mark.parametrize("behaviour, notice", [
    (Status(429), "rate-limited"),
    (Status(500), "HTTP 500"),
    (Status(503), "HTTP 503"),
    (Malformed(), "malformed"),
    (CutStream("The Ombudsman found \u201cthe Council has apologised\u201d [1] and then", 2), "cut off"),
])
def test_failures_fall_back_with_a_notice(seeded_bot, stub, behaviour, notice):
    stub.script(behaviour)
    started = time.monotonic()
    answer = _bot(seeded_bot, stub.base_url).ask(QUESTION)
    assert time.monotonic() - started < TIMEOUT + 3
    assert answer.backend == "extractive" and answer.citations and all(c.verified for c in answer.citations)
    assert len(answer.notices) == 1 and notice in answer.notices[0]
    assert "quoted passages instead" in answer.notices[0]


def test_retries_recover_from_one_429(seeded_bot, stub):
    stub.script(Status(429), Reply(good_answer))
    answer = _bot(seeded_bot, stub.base_url, retries=2).ask(QUESTION)
    assert answer.backend == "openai" and not answer.notices


def test_a_hang_is_bounded_by_the_timeout(seeded_bot, stub):
    stub.script(Hang(30))
    started = time.monotonic()
    answer = _bot(seeded_bot, stub.base_url, timeout=2.0, retries=3).ask(QUESTION)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 3, f"took {elapsed:.1f} s"
    assert answer.backend == "extractive" and "did not answer in time" in answer.notices[0]


def test_refused_connection_falls_back(seeded_bot):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens there
    answer = _bot(seeded_bot, f"http://127.0.0.1:{port}/v1").ask(QUESTION)
    assert answer.backend == "extractive" and "could not be reached" in answer.notices[0]


def test_model_that_declines_gives_an_abstention(seeded_bot, stub):
    stub.script(Reply("The indexed decisions do not address this question."))
    answer = _bot(seeded_bot, stub.base_url).ask(QUESTION)
    assert answer.abstained and answer.citations == []


def _apology_answer(body: dict) -> str:
    cited = [n for n, t in _passages(body).items() if "the Council has apologised" in t]
    return f"It did: \u201cthe Council has apologised\u201d [{cited[0]}]." if cited else "No idea."


def test_follow_up_is_rewritten_by_the_model(seeded_bot, stub):
    stub.script(Reply(good_answer),
                Reply("Did Derbyshire County Council apologise to the father for leaving him out?"),
                Reply(_apology_answer))
    chat = _bot(seeded_bot, stub.base_url).chat()
    chat.ask(QUESTION)
    second = chat.ask("Did they say sorry?")
    # found by content: a retry still running from the hang test can land in stub.requests meanwhile
    prompts = [r["messages"][-1]["content"] for r in stub.requests]
    condense_request = next(p for p in reversed(prompts) if "Did they say sorry?" in p and "<passage>" not in p)
    assert QUESTION in condense_request
    assert second.question == "Did they say sorry?"
    assert chat.history[-1].startswith("Did Derbyshire County Council apologise")
    assert second.backend == "openai" and second.citations[0].ref == "18 011 812"


def test_openai_embeddings_build_their_own_collection(tmp_path, stub):
    settings = Settings(store_dir=tmp_path / "store", embedder="openai", openai_api_key="test-key",
                        openai_base_url=stub.base_url, openai_embedding_model="stub-embed")
    bot = Bot(settings)
    report = bot.ingest()
    assert report.decisions == 5 and report.failed == 0
    assert bot.store.embedder == "openai:stub-embed"
    assert any(r.get("model") == "stub-embed" and "input" in r for r in stub.requests)
    assert bot.retrieve("stage three review", {"council": "Derbyshire County Council"}).hits
    from rag import EmbedderMismatchError

    with pytest.raises(EmbedderMismatchError, match="rebuild"):
        Bot(Settings(store_dir=tmp_path / "store")).ingest()


def test_evals_faithfulness_judge_reads_the_verdict(seeded_bot, stub):
    from evals.judge import judge

    bot = _bot(seeded_bot, stub.base_url)
    stub.script(Reply(good_answer))
    row = {"answer": bot.ask(QUESTION).to_dict()}
    stub.script(Reply("FAITHFUL: every statement is quoted from passage 1"))
    assert judge(bot, row) is True
    assert "Answer:" in stub.requests[-1]["messages"][-1]["content"]
    stub.script(Reply("UNFAITHFUL: the second sentence is not in the passages"))
    assert judge(bot, row) is False
    stub.script(Status(500))
    assert judge(bot, row) is None


def test_the_model_is_given_the_case_passages_the_offline_answer_quotes(seeded_bot, stub):
    """The passages of the leading case where the question's words recur are quoted last by the
    offline answer; the model gets them too, numbered after the retrieved ones, and a quote from
    one of them is verified like any other."""
    bot = _bot(seeded_bot, stub.base_url)
    offline = seeded_bot.ask(QUESTION)
    extra = offline.retrieved[len(seeded_bot.retrieve(QUESTION).hits):]
    assert extra, "this question's offline answer adds passages of the leading case"

    def quote_the_last(body: dict) -> str:
        passages = _passages(body)
        last = max(passages)
        return f"The decision says \u201c{_first_sentence(passages[last])}\u201d [{last}]."

    stub.script(Reply(quote_the_last))
    *_, answer = list(bot.stream(QUESTION))
    given = _passages(stub.requests[-1])
    assert len(given) == len(offline.retrieved)
    assert answer.backend == "openai" and answer.citations and all(c.verified for c in answer.citations)
    assert answer.citations[0].chunk_id == extra[-1]
