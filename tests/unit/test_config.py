from __future__ import annotations

from pathlib import Path

import pytest

from embedgate.config import find_config, load_config
from embedgate.errors import ConfigError

BASE = """
[tool.embedgate]
baseline = "minilm"
metrics = ["NDCG@10", "recall@100"]
datasets_root = "shared"

[tool.embedgate.models.minilm]
spec = "st:all-MiniLM-L6-v2"
batch_size = 32

[tool.embedgate.models.bm25]
spec = "bm25"

[tool.embedgate.datasets.faq]
path = "faq"

[tool.embedgate.datasets.scifact]
path = "{root}/scifact"
required = false
"""


def write(tmp_path: Path, extra: str = "", base: str = BASE) -> Path:
    (tmp_path / "faq").mkdir(exist_ok=True)
    path = tmp_path / "pyproject.toml"
    path.write_text(base + extra)
    return path


def test_a_full_table_loads_into_typed_specs(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    assert config.model_names == ("minilm", "bm25")
    assert config.model("minilm").options["batch_size"] == 32
    assert config.metrics == ("ndcg@10", "recall@100")
    assert config.dataset("faq").path == (tmp_path / "faq").resolve()
    assert config.dataset("scifact").path == (tmp_path / "shared" / "scifact").resolve()
    assert not config.dataset("scifact").available
    assert config.cache == (tmp_path / ".embedgate" / "cache.sqlite").resolve()
    assert [m.name for m in config.candidates] == ["bm25"]


def test_the_most_specific_threshold_wins(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[[tool.embedgate.thresholds]]
metric = "ndcg@10"
min = 0.3
[[tool.embedgate.thresholds]]
metric = "ndcg@10"
min = 0.5
dataset = "faq"
[[tool.embedgate.thresholds]]
metric = "ndcg@10"
min = 0.7
dataset = "faq"
model = "minilm"
""",
        )
    )
    assert config.threshold("minilm", "faq", "ndcg@10").min == 0.7  # type: ignore[union-attr]
    assert config.threshold("bm25", "faq", "ndcg@10").min == 0.5  # type: ignore[union-attr]
    assert config.threshold("bm25", "scifact", "ndcg@10").min == 0.3  # type: ignore[union-attr]
    assert config.threshold("bm25", "scifact", "recall@100") is None


def test_a_datasets_root_given_on_the_command_line_wins(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    config = load_config(write(tmp_path), datasets_root=other)
    assert config.dataset("scifact").path == (other / "scifact").resolve()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[tool.embedgate.datasets.z]\npath = "faq"\nsplt = "dev"\n',
            r"\[tool.embedgate.datasets.z\]: unknown key\(s\) splt\. Known keys: path, required",
        ),
        (
            '[[tool.embedgate.thresholds]]\nmetric = "ndcg@10"\nmin = 0.5\nmodel = "e5"\n',
            r"#1 model = 'e5' is not configured; models: bm25, minilm\.",
        ),
        (
            '[[tool.embedgate.thresholds]]\nmetric = "ndcg@10"\nmin = "high"\n',
            r"#1 min = 'high': expected a number",
        ),
        (
            '[[tool.embedgate.thresholds]]\nmetric = "ndcg@10"\n',
            r"#1: needs metric = \"ndcg@10\" and min = 0.5",
        ),
        ('[tool.embedgate.compare]\ntest = "z"\n', r"test = 'z': use one of randomization, t"),
        (
            '[tool.embedgate.models.e5]\nspec = "hf:e5"\n',
            r"\[tool.embedgate.models.e5\] spec = 'hf:e5': unknown model provider 'hf'",
        ),
        ("[tool.embedgate.models.e5]\nbatch_size = 3\n", r"expected a table with spec ="),
        ('[tool.embedgate.datasets.x]\npath = "nowhere"\n', r"x\] path: .*nowhere is not a folder"),
        (
            '[tool.embedgate.datasets.y]\npath = "faq"\ntask = "summary"\n',
            r"task = 'summary': supported tasks are retrieval, reranking, sts",
        ),
    ],
)
def test_bad_configuration_names_the_key_and_the_fix(
    tmp_path: Path, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, extra))


def test_an_unknown_top_level_key_lists_the_known_ones(tmp_path: Path) -> None:
    base = BASE.replace("[tool.embedgate]\n", '[tool.embedgate]\nbaseline2 = "x"\n')
    with pytest.raises(ConfigError, match=r"\[tool.embedgate\]: unknown key\(s\) baseline2"):
        load_config(write(tmp_path, base=base))


def test_a_baseline_that_is_not_a_model_lists_the_models(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"baseline = 'e5' is not a configured model. Use one of: bm25, minilm"
    ):
        load_config(write(tmp_path, base=BASE.replace('baseline = "minilm"', 'baseline = "e5"')))


def test_root_placeholders_without_a_root_say_how_to_set_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMBEDGATE_DATASETS_ROOT", raising=False)
    with pytest.raises(ConfigError, match=r"uses \{root\}, but no datasets_root is set"):
        load_config(write(tmp_path, base=BASE.replace('datasets_root = "shared"\n', "")))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "embedgate.toml"
    path.write_text("[tool.embedgate\n")
    with pytest.raises(ConfigError, match=r"embedgate.toml: not valid TOML"):
        load_config(path)


def test_the_nearest_config_is_found_from_a_subfolder(tmp_path: Path) -> None:
    path = write(tmp_path)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(sub) == path
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config(sub) == path


def test_selection_keeps_configuration_order_and_refuses_unknown_names(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    assert config.select(models=["bm25"]).model_names == ("bm25",)
    with pytest.raises(ConfigError, match="no dataset named 'nope'"):
        config.select(datasets=["nope"])
