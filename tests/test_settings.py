"""Settings: environment names, clear errors, and a README that documents every setting."""

from __future__ import annotations

import pytest
from conftest import PROJECT

from rag import Settings, SettingsError
from rag.settings import env_name


def test_settings_come_from_prefixed_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path))
    monkeypatch.setenv("RAG_CHROMA_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    s = Settings.from_env()
    assert s.store_dir == tmp_path
    assert s.chroma_url == "http://127.0.0.1:9"
    assert s.openai_api_key == "sk-test"


@pytest.mark.parametrize(
    "variable, value",
    [("RAG_CHUNK_MAX_TOKENS", "many"), ("RAG_EMBEDDER", "word2vec"), ("RAG_CHROMA_URL", "localhost:8000"),
     ("RAG_COLLECTION", "x")],
)
def test_bad_setting_names_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as err:
        Settings.from_env()
    assert variable in str(err.value)
    assert "\n" not in str(err.value)


def test_readme_documents_every_setting():
    readme = (PROJECT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        assert f"`{env_name(field)}`" in readme, f"{env_name(field)} is not in the README"
