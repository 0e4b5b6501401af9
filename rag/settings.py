"""One typed settings object, read from the environment only at the entry points.

Every setting has the prefix `RAG_` (for example `RAG_STORE_DIR`), except the standard
`OPENAI_API_KEY` and `OPENAI_BASE_URL`.  Library code receives a `Settings` and never reads the
environment itself, so tests can build any configuration they need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "RAG_"
DEFAULT_MODEL_DIR = PROJECT_ROOT / "var" / "models"


class Settings(BaseSettings):
    """All configuration.  Defaults work offline with no API key."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "decisions",
        description="Folder of decision files that ingest reads when given no paths.",
    )
    store_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "store",
        description="Folder of the embedded Chroma store (ignored when RAG_CHROMA_URL is set).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000.",
    )
    index_snapshot_dir: Path | None = Field(
        default=None,
        description="A folder of derived indexes shared by several processes (e.g. app processes "
        "against one Chroma server): a process whose own index is missing starts from it instead of "
        "reading every vector from the store, and every process publishes its updates to it.",
    )
    collection: str = Field(
        default="lgo_decisions",
        min_length=3,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$",
        description="Name of the Chroma collection of chunks (3-200 characters).",
    )
    embedder: Literal["minilm", "minilm-torch", "mpnet", "openai"] = Field(
        default="minilm",
        description="`minilm`: all-MiniLM-L6-v2 from the packaged weights, exported to ONNX in float32 "
        "and checked against the float model on this CPU. "
        "`minilm-torch`: the same model through PyTorch (same vectors, slower). "
        "`mpnet`: all-mpnet-base-v2, put together from its packages and exported to ONNX in float32 "
        "on first use, checked as MiniLM is (finds the right decision more often, embeds about seven "
        "times slower; docs/evaluation.md). "
        "`openai`: an OpenAI-compatible embeddings endpoint.",
    )
    model_dir: Path = Field(
        default=DEFAULT_MODEL_DIR,
        description="Folder for the ONNX embedding model, built there from the packaged weights on "
        "first use (about fifteen seconds; nothing is downloaded).",
    )
    embed_batch_size: int = Field(
        default=16, ge=1, le=4096,
        description="Texts per embedding call for `minilm-torch` and `openai` (the ONNX model "
        "embeds one text per call: see rag/embed.py).",
    )
    openai_embedding_model: str = Field(
        default="text-embedding-3-small", description="Model name for RAG_EMBEDDER=openai."
    )
    openai_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY"),
        description="API key for OpenAI-compatible endpoints.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL"),
        description="Base URL of an OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, Azure...).",
    )
    backend: Literal["extractive", "openai"] = Field(
        default="extractive",
        description="`extractive`: offline answers quoted from the decisions. `openai`: an "
        "OpenAI-compatible chat model answers from the retrieved passages (quotes still verified).",
    )
    openai_model: str = Field(default="gpt-4o-mini", description="Chat model for RAG_BACKEND=openai.")
    llm_timeout: float = Field(
        default=30.0, gt=0, le=600,
        description="Seconds the LLM may take for a whole answer before the extractive answer is "
        "shown instead.",
    )
    llm_retries: int = Field(default=1, ge=0, le=10, description="Retries on 429, 5xx and timeouts.")
    chunk_max_tokens: int = Field(
        default=200,
        ge=32,
        le=8000,
        description="Largest chunk, in cl100k tokens. all-MiniLM-L6-v2 reads 256 word pieces, "
        "so the default leaves a margin.",
    )
    max_question_chars: int = Field(
        default=1000, ge=10, le=100_000, description="Longer questions are refused with a message."
    )
    host: str = Field(default="127.0.0.1", description="Address the app listens on (loopback by default).")
    port: int = Field(default=7860, ge=1, le=65535, description="Port the app listens on.")
    auth_username: str | None = Field(default=None, description="With RAG_AUTH_PASSWORD: require this login.")
    auth_password: str | None = Field(default=None, description="With RAG_AUTH_USERNAME: require this login.")
    queue_max_size: int = Field(
        default=32, ge=1, le=10_000, description="Questions waiting beyond this get a 'busy' answer."
    )
    concurrency: int = Field(default=2, ge=1, le=64, description="Questions answered at once by the app.")
    lgo_base_url: str = Field(
        default="https://www.lgo.org.uk",
        description="The LGO website that `ingest.py --fetch-lgo` reads (a local copy in tests).",
    )
    archive_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "archive",
        description="Folder of the local archive of fetched decision pages (never pruned).",
    )
    fetch_delay: float = Field(
        default=1.0, ge=0, le=3600,
        description="Seconds between requests to the LGO website (longer if robots.txt asks with Crawl-delay)."
    )
    fetch_timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds allowed for each request.")
    fetch_retries: int = Field(
        default=3, ge=0, le=10, description="Retries, with back-off, on 429, 5xx and dropped connections."
    )
    fetch_contact: str = Field(
        default="https://github.com/lgo-rag",
        description="Where the site's operators can reach you; sent in the User-Agent of every request "
        "('Mozilla/5.0 (compatible; lgo-rag/0.2; +contact)').",
    )
    question_log_days: int = Field(
        default=0, ge=0, le=3650,
        description="0: questions are not logged. N: log questions (no IP addresses) to "
        "RAG_QUESTION_LOG_PATH and delete entries older than N days.",
    )
    question_log_path: Path = Field(
        default=PROJECT_ROOT / "var" / "questions.jsonl",
        description="Where questions are logged when RAG_QUESTION_LOG_DAYS is above 0.",
    )
    session_capacity: int = Field(
        default=500, ge=10, le=100_000,
        description="Sessions (browser tabs and API calls) whose state the app keeps; the oldest are "
        "forgotten beyond this, which keeps memory flat under load.",
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=0, le=100_000,
        description="Questions one client (address) may ask the app per minute; 0: no limit.",
    )
    max_file_bytes: int = Field(
        default=5_000_000, ge=1, description="Files larger than this are refused by ingest."
    )

    @field_validator("lgo_base_url")
    @classmethod
    def _check_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_auth(self) -> "Settings":
        if bool(self.auth_username) != bool(self.auth_password):
            raise ValueError("RAG_AUTH_USERNAME and RAG_AUTH_PASSWORD must be set together")
        return self

    @model_validator(mode="after")
    def _check_backend(self) -> "Settings":
        if self.backend == "openai" and not self.openai_api_key:
            raise ValueError("OPENAI_API_KEY is required when RAG_BACKEND=openai "
                             "(any non-empty value for servers that ignore it)")
        return self

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Build settings from the environment, turning validation errors into one named line."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        if not err["loc"]:  # a check across settings names its variables in the message
            problems.append(err["msg"].removeprefix("Value error, "))
            continue
        problems.append(f"{env_name(str(err['loc'][0]))}: {err['msg']}")
    return "bad setting " + "; ".join(problems)


def env_name(field: str) -> str:
    """The environment variable that sets a field, for messages and documentation."""
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        return str(info.validation_alias.choices[0])
    return ENV_PREFIX + field.upper()
