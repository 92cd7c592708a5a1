"""One settings object: environment over dasan.toml over defaults, every documented variable in
the table, secrets masked, unknown DASAN_* variables reported, limits read at use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dasan import config, settings
from dasan.cli import cli
from dasan.errors import ConfigError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in list(__import__("os").environ):
        if k.startswith("DASAN_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("DASAN_HOME", str(tmp_path))
    return tmp_path


def test_environment_over_file_over_default(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "dasan.toml").write_text('llm_url = "http://vllm:8000/v1"\nmax_file_bytes = 1_000\n'
                                     'llm_model = "from-file"\n', encoding="utf-8")
    monkeypatch.setenv("DASAN_LLM_MODEL", "from-env")
    res = settings.current()
    assert res["DASAN_LLM_URL"] == "http://vllm:8000/v1" and res.values["DASAN_LLM_URL"].source.startswith("file ")
    assert res["DASAN_LLM_MODEL"] == "from-env" and res.values["DASAN_LLM_MODEL"].source == "env"
    assert res["DASAN_EMBEDDER"] == "e5" and res.values["DASAN_EMBEDDER"].source == "default"
    assert config.MAX_FILE_BYTES == 1000  # read at use, not frozen at import
    assert res["DASAN_MAX_UPLOAD_BYTES"] == 1 << 30  # derived default


def test_bad_values_name_the_setting(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_LLM_THREADS", "many")
    with pytest.raises(ConfigError, match="DASAN_LLM_THREADS"):
        settings.current()
    monkeypatch.delenv("DASAN_LLM_THREADS")
    (home / "dasan.toml").write_text('lm_url = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="lm_url"):
        settings.current()


def test_every_documented_variable_is_a_setting() -> None:
    readme = (config.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"DASAN_[A-Z0-9_]*[A-Z0-9]", readme)) - {"DASAN_CHROMIUM"}
    assert documented <= set(settings.BY_NAME), documented - set(settings.BY_NAME)


def test_config_show_masks_secrets_and_reports_unknown_variables(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_LLM_API_KEY", "sk-verysecretvalue")
    monkeypatch.setenv("DASAN_EMBEDER", "use")  # a typo
    out = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    row = next(r for r in body["settings"] if r["name"] == "DASAN_LLM_API_KEY")
    assert "verysecret" not in out.output and row["value"].endswith("****") and row["source"] == "env"
    assert body["unknown"] == ["DASAN_EMBEDER"]


def test_embedder_setting_reaches_search(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dasan.rag.retrieve import RetrievalConfig

    (home / "dasan.toml").write_text('embedder = "none"\n', encoding="utf-8")
    assert RetrievalConfig().embedder is None


def test_site_lists_name_their_setting_when_unreadable(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dasan.korean.legal_terms import load_entries

    bad = home / "terms.tsv"
    bad.write_bytes("지하철\t도시철도\n".encode("cp949"))
    monkeypatch.setenv("DASAN_LEGAL_TERMS", str(bad))
    with pytest.raises(ConfigError, match="DASAN_LEGAL_TERMS"):
        load_entries()
    monkeypatch.setenv("DASAN_LEGAL_TERMS", str(home / "missing.tsv"))
    with pytest.raises(ConfigError, match="읽을 수 없습니다"):
        load_entries()
