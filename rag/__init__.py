"""Question answering over Local Government and Social Care Ombudsman decisions.

    import rag
    bot = rag.Bot()                 # settings from RAG_* environment variables
    bot.ingest()                    # the bundled decisions, idempotently
    rag.parse_decision(text)        # one decision's metadata and numbered paragraphs
"""

from rag.bot import Bot
from rag.chunk import chunk_decision
from rag.errors import (
    EmbedderMismatchError,
    InputError,
    ModelError,
    NotADecisionError,
    RagError,
    SettingsError,
    StoreError,
)
from rag.models import Chunk, Decision, IngestReport, Paragraph, Remedy
from rag.parse import canonical_ref, parse_decision
from rag.settings import Settings

__all__ = [
    "Bot",
    "Chunk",
    "Decision",
    "EmbedderMismatchError",
    "IngestReport",
    "InputError",
    "ModelError",
    "NotADecisionError",
    "Paragraph",
    "RagError",
    "Remedy",
    "Settings",
    "SettingsError",
    "StoreError",
    "canonical_ref",
    "chunk_decision",
    "parse_decision",
]
