"""The suite configuration: ``[tool.embedgate]`` in pyproject.toml, or an ``embedgate.toml``.

A complete example (this repository's own, abridged)::

    [tool.embedgate]
    baseline = "minilm"                  # the model every candidate is compared with
    metrics = ["ndcg@10", "recall@100"]  # the columns of every table
    k = 100                              # search depth
    cache = ".embedgate/cache.sqlite"    # the embedding cache (relative to this file)
    datasets_root = "../shared/datasets" # what "{root}" means in dataset paths
    seed = 20261127                      # for every randomized statistic

    [tool.embedgate.models.minilm]
    spec = "st:all-MiniLM-L6-v2"         # see embedgate.specs; other keys are options
    batch_size = 64

    [tool.embedgate.datasets.support_faq]
    path = "fixtures/support_faq"

    [tool.embedgate.datasets.scifact]
    path = "{root}/scifact"
    required = false                     # skipped with a reason when the folder is absent

    [[tool.embedgate.thresholds]]        # the most specific rule wins
    metric = "ndcg@10"
    min = 0.60
    dataset = "support_faq"              # optional; all datasets when absent
    model = "minilm"                     # optional; all models when absent

    [tool.embedgate.compare]             # the swap verdicts (non-inferiority)
    metric = "ndcg@10"
    margin = 0.02
    alpha = 0.05
    test = "randomization"
    known_failures = ["static-*"]        # strict xfails: a known-worse swap stays visible

Errors name the key (``[tool.embedgate.models.minilm] batch_size``) and say what to write.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from embedgate.errors import ConfigError, MetricError
from embedgate.metrics import TASK_METRICS, parse_metric, task_metrics
from embedgate.specs import ModelSpec, parse_model_spec

__all__ = [
    "CompareSpec",
    "DatasetSpec",
    "SuiteConfig",
    "Threshold",
    "find_config",
    "load_config",
]


def _is_ranking_metric(name: str) -> bool:
    try:
        parse_metric(name)
    except MetricError:
        return False
    return True


_TASK_METRIC_KEYS = frozenset(m for keys in TASK_METRICS.values() for m in keys)
#: metrics that only other task types compute; every other metric name is a ranking metric
_TASK_ONLY = frozenset(m for m in _TASK_METRIC_KEYS if not _is_ranking_metric(m))
_TASKS = ("retrieval", "reranking", "sts", "classification", "clustering", "bitext")
# Wilcoxon is for superiority only: shifted by a margin it tests the pseudo-median, not the mean.
_TESTS = ("randomization", "t")
_TOP_KEYS = frozenset(
    {
        "baseline",
        "metrics",
        "k",
        "cache",
        "models_dir",
        "datasets_root",
        "seed",
        "models",
        "datasets",
        "thresholds",
        "compare",
    }
)


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A dataset of the suite: where it is, which split, and whether its absence is an error."""

    name: str
    path: Path
    split: str = "test"
    task: str = "retrieval"
    required: bool = True

    @property
    def available(self) -> bool:
        return self.path.is_dir()


@dataclass(frozen=True, slots=True)
class Threshold:
    """``metric >= min`` for the models and datasets it names (``None`` = all)."""

    metric: str
    min: float
    model: str | None = None
    dataset: str | None = None

    @property
    def specificity(self) -> int:
        return (self.model is not None) * 2 + (self.dataset is not None)

    def applies(self, model: str, dataset: str) -> bool:
        return self.model in (None, model) and self.dataset in (None, dataset)


@dataclass(frozen=True, slots=True)
class CompareSpec:
    """How candidates are judged against the baseline (see `embedgate.stats`)."""

    metric: str = "ndcg@10"
    margin: float = 0.02
    alpha: float = 0.05
    test: str = "randomization"
    resamples: int = 10_000
    #: case ids (fnmatch patterns such as ``"static-*"``) whose swap is known to fail: their
    #: tests are strict xfails, so the day one passes the suite says so.
    known_failures: tuple[str, ...] = ()

    def known_failure(self, case_id: str) -> str | None:
        """The pattern that marks ``case_id`` as a known failure, if any."""
        return next((p for p in self.known_failures if fnmatch.fnmatchcase(case_id, p)), None)


@dataclass(frozen=True, slots=True)
class SuiteConfig:
    """Everything the suite and the CLI need, resolved and validated."""

    source: Path | None
    models: tuple[ModelSpec, ...]
    datasets: tuple[DatasetSpec, ...]
    metrics: tuple[str, ...]
    thresholds: tuple[Threshold, ...] = ()
    baseline: str | None = None
    k: int = 100
    cache: Path = Path(".embedgate/cache.sqlite")
    models_dir: Path = Path(".embedgate/models")
    datasets_root: Path | None = None
    seed: int = 0
    compare: CompareSpec = field(default_factory=CompareSpec)
    #: False once `select` has left out a configured model or dataset.
    complete: bool = True

    def model(self, name: str) -> ModelSpec:
        for spec in self.models:
            if spec.name == name:
                return spec
        raise ConfigError(f"no model named {name!r}; configured: {', '.join(self.model_names)}.")

    def dataset(self, name: str) -> DatasetSpec:
        for spec in self.datasets:
            if spec.name == name:
                return spec
        raise ConfigError(
            f"no dataset named {name!r}; configured: {', '.join(d.name for d in self.datasets)}."
        )

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    @property
    def candidates(self) -> tuple[ModelSpec, ...]:
        """Every model but the baseline."""
        return tuple(m for m in self.models if m.name != self.baseline)

    def threshold(self, model: str, dataset: str, metric: str) -> Threshold | None:
        """The most specific threshold rule for this case and metric, if any."""
        rules = [t for t in self.thresholds if t.metric == metric and t.applies(model, dataset)]
        return max(rules, key=lambda t: t.specificity, default=None)

    def thresholds_for(self, model: str, dataset: str) -> tuple[Threshold, ...]:
        """One rule per metric the dataset's task computes: the most specific that applies.

        A rule on a metric of another task type (``ndcg@10`` on an STS dataset) does not apply.
        """
        computed = task_metrics(self.dataset(dataset).task)
        metrics = dict.fromkeys(
            t.metric
            for t in self.thresholds
            if (t.metric in computed if computed is not None else t.metric not in _TASK_ONLY)
        )
        found = (self.threshold(model, dataset, m) for m in metrics)
        return tuple(t for t in found if t is not None)

    def select(self, models: Sequence[str] = (), datasets: Sequence[str] = ()) -> SuiteConfig:
        """The same suite restricted to the named models and datasets (empty = all)."""
        for name in models:
            self.model(name)
        for name in datasets:
            self.dataset(name)
        kept_models = tuple(m for m in self.models if not models or m.name in models)
        kept_datasets = tuple(d for d in self.datasets if not datasets or d.name in datasets)
        return replace(
            self,
            models=kept_models,
            datasets=kept_datasets,
            complete=self.complete
            and kept_models == self.models
            and kept_datasets == self.datasets,
        )


def find_config(start: Path) -> Path | None:
    """The nearest ``embedgate.toml``, or ``pyproject.toml`` with a ``[tool.embedgate]`` table."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "embedgate.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "embedgate" in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}.") from exc


def load_config(
    path: Path | str, *, datasets_root: Path | str | None = None, cache: Path | str | None = None
) -> SuiteConfig:
    """Read and validate a configuration file.

    Args:
        path: ``pyproject.toml`` (its ``[tool.embedgate]`` table) or ``embedgate.toml`` (the
            whole file, or its ``[tool.embedgate]`` table).
        datasets_root: overrides ``datasets_root`` (the pytest option
            ``--embedgate-datasets-root``; else the environment variable
            ``EMBEDGATE_DATASETS_ROOT``).
        cache: overrides ``cache``.

    Raises:
        ConfigError: naming the key at fault and what to write instead.
    """
    path = Path(path)
    data = _read_toml(path)
    table = data.get("tool", {}).get("embedgate")
    if table is None:
        if path.name == "pyproject.toml":
            raise ConfigError(f"{path} has no [tool.embedgate] table. Add one (see the README).")
        table = data
    return parse_config(
        table, base=path.parent, source=path, datasets_root=datasets_root, cache=cache
    )


def parse_config(
    table: Mapping[str, Any],
    *,
    base: Path,
    source: Path | None = None,
    datasets_root: Path | str | None = None,
    cache: Path | str | None = None,
) -> SuiteConfig:
    """Validate a ``[tool.embedgate]`` table already read; paths resolve against ``base``."""
    where = "[tool.embedgate]"
    _no_unknown_keys(table, _TOP_KEYS, where)
    models = _models(_table(table, "models", where, required=True))
    metrics = tuple(
        _metric(m, f"{where} metrics") for m in _list(table, "metrics", where, ["ndcg@10"])
    )
    root_value = datasets_root or os.environ.get("EMBEDGATE_DATASETS_ROOT")
    root = (
        _path(root_value, base)
        if root_value
        else _path(table["datasets_root"], base)
        if "datasets_root" in table
        else None
    )
    datasets = _datasets(_table(table, "datasets", where, required=True), base, root)
    names = {m.name for m in models}
    baseline = table.get("baseline", models[0].name)
    if baseline not in names:
        raise ConfigError(
            f"{where} baseline = {baseline!r} is not a configured model. "
            f"Use one of: {', '.join(sorted(names))}."
        )
    thresholds = _thresholds(table.get("thresholds", []), names, {d.name for d in datasets})
    return SuiteConfig(
        source=source,
        models=models,
        datasets=datasets,
        metrics=metrics,
        thresholds=thresholds,
        baseline=baseline,
        k=_int(table.get("k", 100), f"{where} k", minimum=1),
        cache=_path(cache or table.get("cache", ".embedgate/cache.sqlite"), base),
        models_dir=_path(table.get("models_dir", ".embedgate/models"), base),
        datasets_root=root,
        seed=_int(table.get("seed", 0), f"{where} seed", minimum=0),
        compare=_compare(table.get("compare", {})),
    )


def _no_unknown_keys(table: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. Known keys: {', '.join(sorted(known))}."
        )


def _table(table: Mapping[str, Any], key: str, where: str, *, required: bool) -> Mapping[str, Any]:
    value = table.get(key)
    if value is None and required:
        raise ConfigError(f"{where}: no {key} configured. Add a [{where[1:-1]}.{key}.NAME] table.")
    if not isinstance(value, Mapping) or (required and not value):
        raise ConfigError(f"{where} {key}: expected tables [{where[1:-1]}.{key}.NAME].")
    return value


def _list(table: Mapping[str, Any], key: str, where: str, default: list[Any]) -> list[Any]:
    value = table.get(key, default)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where} {key}: expected a non-empty list, got {value!r}.")
    return value


def _metric(name: Any, where: str, *, any_task: bool = False) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"{where}: metric {name!r} is not a string such as 'ndcg@10'.")
    if any_task and name.strip().lower() in _TASK_METRIC_KEYS:
        return name.strip().lower()
    try:
        return parse_metric(name).key
    except MetricError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _int(value: Any, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where} = {value!r}: expected a whole number >= {minimum}.")
    return value


def _float(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{where} = {value!r}: expected a number from {low} to {high}.")
    return float(value)


def _path(value: Any, base: Path) -> Path:
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else (base / path).resolve()


def _models(table: Mapping[str, Any]) -> tuple[ModelSpec, ...]:
    specs = []
    for name, entry in table.items():
        here = f"[tool.embedgate.models.{name}]"
        if isinstance(entry, str):
            entry = {"spec": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("spec"), str):
            raise ConfigError(
                f'{here}: expected a table with spec = "PROVIDER:MODEL" '
                '(for example spec = "st:all-MiniLM-L6-v2").'
            )
        options = {k: v for k, v in entry.items() if k != "spec"}
        try:
            spec = replace(parse_model_spec(entry["spec"], **options), name=name)
        except ConfigError as exc:
            raise ConfigError(f"{here} spec = {entry['spec']!r}: {exc}") from exc
        specs.append(spec)
    return tuple(specs)


def _datasets(table: Mapping[str, Any], base: Path, root: Path | None) -> tuple[DatasetSpec, ...]:
    specs = []
    for name, entry in table.items():
        here = f"[tool.embedgate.datasets.{name}]"
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
            raise ConfigError(f'{here}: expected a table with path = "FOLDER".')
        _no_unknown_keys(entry, ("path", "split", "task", "required"), here)
        raw = entry["path"]
        if "{root}" in raw:
            if root is None:
                raise ConfigError(
                    f"{here} path = {raw!r} uses {{root}}, but no datasets_root is set. Set "
                    "datasets_root, pass --embedgate-datasets-root or EMBEDGATE_DATASETS_ROOT."
                )
            raw = raw.replace("{root}", str(root))
        task = entry.get("task", "retrieval")
        if task not in _TASKS:
            raise ConfigError(f"{here} task = {task!r}: supported tasks are {', '.join(_TASKS)}.")
        spec = DatasetSpec(
            name=name,
            path=_path(raw, base),
            split=str(entry.get("split", "test")),
            task=task,
            required=bool(entry.get("required", True)),
        )
        if spec.required and not spec.available:
            raise ConfigError(
                f"{here} path: {spec.path} is not a folder. Fix the path, or set required = false "
                "to skip this dataset where it is absent."
            )
        specs.append(spec)
    return tuple(specs)


def _thresholds(entries: Any, models: set[str], datasets: set[str]) -> tuple[Threshold, ...]:
    if not isinstance(entries, list):
        raise ConfigError(
            "[tool.embedgate] thresholds: expected [[tool.embedgate.thresholds]] tables."
        )
    rules = []
    for i, entry in enumerate(entries, start=1):
        here = f"[[tool.embedgate.thresholds]] #{i}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{here}: expected a table with metric and min.")
        _no_unknown_keys(entry, ("metric", "min", "model", "dataset"), here)
        if "metric" not in entry or "min" not in entry:
            raise ConfigError(f'{here}: needs metric = "ndcg@10" and min = 0.5.')
        model, dataset = entry.get("model"), entry.get("dataset")
        if model is not None and model not in models:
            raise ConfigError(
                f"{here} model = {model!r} is not configured; models: {', '.join(sorted(models))}."
            )
        if dataset is not None and dataset not in datasets:
            raise ConfigError(
                f"{here} dataset = {dataset!r} is not configured; "
                f"datasets: {', '.join(sorted(datasets))}."
            )
        rules.append(
            Threshold(
                metric=_metric(entry["metric"], here, any_task=True),
                min=_float(entry["min"], f"{here} min", -1e9, 1e9),
                model=model,
                dataset=dataset,
            )
        )
    return tuple(rules)


def _compare(entry: Any) -> CompareSpec:
    here = "[tool.embedgate.compare]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{here}: expected a table.")
    _no_unknown_keys(
        entry, ("metric", "margin", "alpha", "test", "resamples", "known_failures"), here
    )
    known = entry.get("known_failures", [])
    if not isinstance(known, list) or not all(isinstance(p, str) for p in known):
        raise ConfigError(
            f"{here} known_failures = {known!r}: expected a list of case ids such as "
            '["static-scifact", "bm25-*"].'
        )
    test = entry.get("test", "randomization")
    if test not in _TESTS:
        raise ConfigError(
            f"{here} test = {test!r}: use one of {', '.join(_TESTS)} (the swap verdict is a "
            "non-inferiority test on the mean; Wilcoxon would test the pseudo-median)."
        )
    return CompareSpec(
        metric=_metric(entry.get("metric", "ndcg@10"), here),
        margin=_float(entry.get("margin", 0.02), f"{here} margin", 0.0, 1.0),
        alpha=_float(entry.get("alpha", 0.05), f"{here} alpha", 1e-6, 0.5),
        test=test,
        resamples=_int(entry.get("resamples", 10_000), f"{here} resamples", minimum=100),
        known_failures=tuple(known),
    )
