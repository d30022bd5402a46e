from __future__ import annotations

import pytest

from embedgate.errors import ConfigError
from embedgate.specs import ModelSpec, parse_model_spec, slugify


def test_a_provider_and_model_give_a_slug_name() -> None:
    spec = parse_model_spec("st:sentence-transformers/all-MiniLM-L6-v2")
    assert spec == ModelSpec("all-minilm-l6-v2", "st", "sentence-transformers/all-MiniLM-L6-v2")


def test_a_name_prefix_and_query_options_are_read() -> None:
    spec = parse_model_spec("e5=st:intfloat/e5-small-v2?query_prompt=query: &batch_size=16")
    assert spec.name == "e5"
    assert spec.model == "intfloat/e5-small-v2"
    assert dict(spec.options) == {"query_prompt": "query: ", "batch_size": 16}


def test_bm25_needs_no_model_part() -> None:
    assert parse_model_spec("bm25?k1=1.2") == ModelSpec("bm25", "bm25", "bm25", {"k1": 1.2})


def test_keyword_options_override_the_string() -> None:
    assert parse_model_spec("st:m?batch_size=8", batch_size=4).options["batch_size"] == 4


def test_an_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown model provider 'hf'.*st \(sentence"):
        parse_model_spec("hf:foo")


def test_a_spec_without_provider_suggests_one() -> None:
    with pytest.raises(ConfigError, match=r"has no provider.*'st:all-MiniLM-L6-v2'"):
        parse_model_spec("all-MiniLM-L6-v2")


def test_a_name_that_cannot_be_an_id_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"model name 'Mini LM'"):
        ModelSpec("Mini LM", "st", "x")


def test_an_empty_spec_says_what_to_write() -> None:
    with pytest.raises(ConfigError, match="empty model spec"):
        parse_model_spec("  ")


def test_slugify_keeps_the_last_path_part() -> None:
    assert slugify("/models/My Model/") == "my-model"


def test_bm25_supports_retrieval_only_and_embedding_models_every_task() -> None:
    bm25, minilm = parse_model_spec("bm25"), parse_model_spec("st:all-MiniLM-L6-v2")
    tasks = ("retrieval", "reranking", "sts", "classification", "clustering", "bitext")
    assert [bm25.supports(t) for t in tasks] == [True, False, False, False, False, False]
    assert all(minilm.supports(t) for t in tasks)
