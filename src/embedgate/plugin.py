"""The pytest front end: a configured suite of models x datasets becomes parametrized cases.

Registered through the ``pytest11`` entry point, so any repository that installs embedgate
gets these fixtures; it stays inert until a test asks for one of them.

Fixtures a test may ask for:

- ``embedgate_case``: one (model, dataset) `Case`; the test is run once per configured pair,
  with ids such as ``minilm-support_faq``.
- ``embedgate_evaluation``: the `Evaluation` of that case (computed once per session).
- ``embedgate_dataset``: one `DatasetSpec`; the test runs once per dataset.
- ``embedgate_model``: one `ModelSpec`; the test runs once per model.
- ``embedgate_candidate``: a (candidate, dataset) `Case` for every model but the baseline.
- ``embedgate_store``: the session's `SuiteStore`; ``embedgate_config``: its `SuiteConfig`.
- ``table_snapshot``: syrupy's ``snapshot`` writing markdown files.

A case whose dataset is absent (``required = false``) or whose model cannot be loaded here
(a missing extra) is skipped with the reason, never failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from embedgate.config import DatasetSpec, SuiteConfig, find_config, load_config
from embedgate.errors import EmbedgateError, MissingCredentials, MissingDependency
from embedgate.evaluation import Evaluation, read_results
from embedgate.report.tables import dataset_table
from embedgate.snapshot import MarkdownSnapshotExtension
from embedgate.specs import ModelSpec
from embedgate.suite import Case, SuiteStore, leaderboard

__all__ = ["MarkdownSnapshotExtension"]

_CASE_FIXTURES = ("embedgate_case", "embedgate_dataset", "embedgate_model", "embedgate_candidate")


@dataclass
class _State:
    config: SuiteConfig | None = None
    store: SuiteStore | None = None
    started: float = field(default_factory=time.time)


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("embedgate", "embedding model regression suite")
    group.addoption(
        "--embedgate-config",
        metavar="PATH",
        help="embedgate.toml or pyproject.toml with [tool.embedgate] (default: nearest one)",
    )
    group.addoption(
        "--embedgate-model",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this configured model (repeatable)",
    )
    group.addoption(
        "--embedgate-dataset",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this configured dataset (repeatable)",
    )
    group.addoption(
        "--embedgate-datasets-root",
        metavar="PATH",
        help="what {root} means in dataset paths "
        "(default: datasets_root or $EMBEDGATE_DATASETS_ROOT)",
    )
    group.addoption("--embedgate-cache", metavar="PATH", help="embedding cache file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "embedgate: a case generated from the [tool.embedgate] configuration"
    )
    config.addinivalue_line(
        "markers",
        "embedgate_tasks(*tasks): generate this test's cases only for datasets of these task "
        "types (retrieval, reranking, sts, classification, clustering, bitext)",
    )
    state = _State()
    config.stash[_STATE] = state
    try:
        state.config = _load(config)
    except EmbedgateError as exc:
        raise pytest.UsageError(f"embedgate configuration: {exc}") from exc


def _load(config: pytest.Config) -> SuiteConfig | None:
    explicit = config.getoption("embedgate_config")
    path = Path(explicit) if explicit else find_config(config.rootpath)
    if path is None:
        return None
    suite = load_config(
        path,
        datasets_root=config.getoption("embedgate_datasets_root"),
        cache=config.getoption("embedgate_cache"),
    )
    return suite.select(config.getoption("embedgate_model"), config.getoption("embedgate_dataset"))


def _suite(config: pytest.Config) -> SuiteConfig:
    state = config.stash[_STATE]
    if state.config is None:
        raise pytest.UsageError(
            "embedgate: no configuration found. Add a [tool.embedgate] table to "
            "pyproject.toml or an embedgate.toml, or pass --embedgate-config."
        )
    return state.config


def pytest_report_header(config: pytest.Config) -> list[str]:
    suite = config.stash[_STATE].config
    if suite is None:
        return []
    datasets = ", ".join(
        (d.name if d.task == "retrieval" else f"{d.name} [{d.task}]")
        + ("" if d.available else f" (absent: {d.path})")
        for d in suite.datasets
    )
    models = ", ".join(
        f"{m.name} (baseline)" if m.name == suite.baseline else m.name for m in suite.models
    )
    return [
        f"embedgate: config {suite.source}",
        f"embedgate: models {models}",
        f"embedgate: datasets {datasets}",
        f"embedgate: cache {suite.cache}, seed {suite.seed}, k {suite.k}, "
        f"metrics {', '.join(suite.metrics)}",
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = [name for name in _CASE_FIXTURES if name in metafunc.fixturenames]
    if not wanted:
        return
    suite = _suite(metafunc.config)
    marker = metafunc.definition.get_closest_marker("embedgate_tasks")
    if marker is not None:
        tasks = set(marker.args)
        suite = replace(suite, datasets=tuple(d for d in suite.datasets if d.task in tasks))
    for name in wanted:
        values, ids = _parameters(suite, name)
        marks = [pytest.mark.embedgate]
        params = [
            pytest.param(value, id=id_, marks=[*marks, *_skips(value), *_known(suite, name, id_)])
            for value, id_ in zip(values, ids, strict=True)
        ]
        metafunc.parametrize(name, params, scope="function")


def _parameters(suite: SuiteConfig, name: str) -> tuple[list[Any], list[str]]:
    if name == "embedgate_dataset":
        return list(suite.datasets), [d.name for d in suite.datasets]
    if name == "embedgate_model":
        return list(suite.models), [m.name for m in suite.models]
    models = suite.candidates if name == "embedgate_candidate" else suite.models
    cases = list(_cases(suite, models))
    return cases, [c.id for c in cases]


def _skips(value: Any) -> list[pytest.MarkDecorator]:
    dataset = value if isinstance(value, DatasetSpec) else getattr(value, "dataset", None)
    if isinstance(dataset, DatasetSpec) and not dataset.available:
        return [
            pytest.mark.skip(
                reason=f"dataset {dataset.name} is absent at {dataset.path} (required = false)"
            )
        ]
    return []


def _known(suite: SuiteConfig, fixture: str, case_id: str) -> list[pytest.MarkDecorator]:
    pattern = suite.compare.known_failure(case_id) if fixture == "embedgate_candidate" else None
    if pattern is None:
        return []
    return [
        pytest.mark.xfail(
            strict=True,
            reason=f"known swap failure: {case_id} matches known_failures {pattern!r}",
        )
    ]


@pytest.fixture(scope="session")
def embedgate_config(request: pytest.FixtureRequest) -> SuiteConfig:
    """The session's suite configuration (after --embedgate-model/--embedgate-dataset)."""
    return _suite(request.config)


@pytest.fixture(scope="session")
def embedgate_store(request: pytest.FixtureRequest) -> Iterator[SuiteStore]:
    """The session's store: every (model, dataset) evaluation, computed once."""
    suite = _suite(request.config)
    state = request.config.stash[_STATE]
    state.store = SuiteStore(suite, results_dir=_results_dir(suite))
    yield state.store
    state.store.close()


def _results_dir(suite: SuiteConfig) -> Path:
    return suite.cache.parent / "results"


def _guarded(store: SuiteStore, case: Case) -> Evaluation:
    """The case's evaluation; a model this machine cannot load skips, with the reason."""
    try:
        return store.evaluation(case.model.name, case.dataset.name)
    except (MissingDependency, MissingCredentials) as exc:
        pytest.skip(f"model {case.model.name}: {exc}")


@pytest.fixture
def embedgate_evaluation(embedgate_case: Case, embedgate_store: SuiteStore) -> Evaluation:
    """The evaluation of this test's (model, dataset) case."""
    return _guarded(embedgate_store, embedgate_case)


@pytest.fixture
def table_snapshot(snapshot: Any) -> Any:
    """syrupy's ``snapshot``, stored as one markdown file per assertion."""
    return snapshot.use_extension(MarkdownSnapshotExtension)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state.config is None or hasattr(config, "workerinput"):
        return
    evaluations = _session_results(state)
    if not evaluations:
        return
    suite = state.config
    terminalreporter.section("embedgate results")
    by_dataset: dict[str, list[Evaluation]] = {}
    for evaluation in evaluations:
        by_dataset.setdefault(evaluation.dataset, []).append(evaluation)
    for spec in suite.datasets:
        if spec.name in by_dataset:
            metrics = suite.metrics if spec.task == "retrieval" else None
            terminalreporter.write(dataset_table(spec.name, by_dataset[spec.name], metrics) + "\n")
    try:
        terminalreporter.write(leaderboard(suite, evaluations))
    except EmbedgateError as exc:  # a summary must never turn a run into an internal error
        terminalreporter.write_line(f"embedgate: no leaderboard: {exc}")


def _session_results(state: _State) -> list[Evaluation]:
    """This session's evaluations: from the store, or (under xdist) from the workers' files."""
    assert state.config is not None
    if state.store is not None and state.store.computed:
        return _ordered(state.config, state.store.computed)
    root = _results_dir(state.config)
    found = []
    for path in root.glob("*/*/results.json"):
        if path.stat().st_mtime >= state.started - 1:
            try:
                found.append(read_results(path))
            except EmbedgateError:
                continue
    return _ordered(state.config, found)


def _ordered(suite: SuiteConfig, evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    rank = {(c.model.name, c.dataset.name): i for i, c in enumerate(_cases(suite, suite.models))}
    known = [e for e in evaluations if (e.model, e.dataset) in rank]
    return sorted(known, key=lambda e: rank[(e.model, e.dataset)])


def _cases(suite: SuiteConfig, models: Sequence[ModelSpec]) -> Iterator[Case]:
    """Each model on each dataset, datasets outer, in configuration order."""
    for dataset in suite.datasets:
        for model in models:
            if model.supports(dataset.task):
                yield Case(model, dataset)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and state.store is not None:
        state.store.close()
