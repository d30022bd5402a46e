"""The embedding cache: one SQLite file of float32 vectors, safe for several processes.

A vector is keyed by ``(model fingerprint, role, sha256 of the UTF-8 text)``. The fingerprint
is the caller's hash of the model's full request identity (provider, model, revision,
dimensions, prompts, normalization, truncation), so a change to any of them is a miss. The
text itself is never stored: a cache file that travels as a CI artifact holds hashes of the
user's private documents, not the documents.

The file layout (schema version 1, in ``PRAGMA user_version``)::

    models   (id, fingerprint UNIQUE, identity JSON or NULL, dimensions, created_at, last_used_at)
    vectors  (model_id, role, text_sha256 32-byte BLOB, vector BLOB of little-endian float32)
             UNIQUE (model_id, role, text_sha256)

Several processes (pytest-xdist workers, parallel CI jobs on one machine) may share one file:
it runs in WAL mode, so readers never wait for a writer; each write is one short
``BEGIN IMMEDIATE`` transaction that waits up to ``timeout`` seconds for the lock; and two
writers of the same key do not conflict (``INSERT OR IGNORE``: the first vector written wins,
which keeps a non-deterministic API model's cached answer stable). Each process opens its own
connection; an `EmbeddingCache` carried across ``fork`` reopens itself in the child.

Every batch is committed as soon as it is written, with ``synchronous=NORMAL``: a run killed
mid-way (SIGKILL, a CI timeout, an exception in batch 7) keeps every batch it committed; only a
power loss may drop the last few. When the file is copied elsewhere (a CI cache artifact), copy
it after every connection has closed, or copy its ``-wal`` file along with it.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "embeddings.sqlite"
    >>> fake = lambda texts: np.ones((len(texts), 3), dtype=np.float32)
    >>> with EmbeddingCache(path) as cache:
    ...     _, first = embed_with_cache(fake, ["a", "b", "a"], cache=cache,
    ...                                 fingerprint="f" * 64, role="query")
    ...     vectors, second = embed_with_cache(fake, ["a", "b", "c"], cache=cache,
    ...                                        fingerprint="f" * 64, role="query")
    >>> first
    CacheStats(hits=0, misses=3, embedded=2)
    >>> second
    CacheStats(hits=2, misses=1, embedded=1)
    >>> vectors.shape, vectors.dtype
    ((3, 3), dtype('float32'))
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from embedgate.errors import CacheError, MalformedResponse

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "SCHEMA_VERSION",
    "CacheStats",
    "CachedModel",
    "EmbeddingCache",
    "embed_with_cache",
    "text_digest",
]

SCHEMA_VERSION: Final = 1
"""The layout this module reads and writes, kept in ``PRAGMA user_version``."""

# "EmbG" in ASCII; marks the file as ours in `PRAGMA application_id` (and to `file(1)`).
_APPLICATION_ID: Final = 0x456D6247
_ROLES: Final = ("query", "document")
_VECTOR_DTYPE: Final = np.dtype("<f4")
# Well under SQLite's lowest historical limit of 999 bound variables per statement.
_IN_CHUNK: Final = 500
_NOW: Final = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

_SCHEMA: Final = f"""
CREATE TABLE models (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL UNIQUE,
    identity     TEXT,
    dimensions   INTEGER NOT NULL CHECK (dimensions > 0),
    created_at   TEXT NOT NULL DEFAULT ({_NOW}),
    last_used_at TEXT NOT NULL DEFAULT ({_NOW})
);
CREATE TABLE vectors (
    model_id     INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('query', 'document')),
    text_sha256  BLOB NOT NULL CHECK (length(text_sha256) = 32),
    vector       BLOB NOT NULL,
    UNIQUE (model_id, role, text_sha256)
);
PRAGMA application_id = {_APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""

_FIX = "Delete the file (it is only a cache) or set another cache path."

# Identity keys whose *words* name a credential. Whole words, so `max_tokens` or `tokenizer`
# pass while `api_key`, `apiKey`, `x-goog-api-key`, `access_token` and `Authorization` do not.
_SECRET_WORDS: Final = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "credential",
        "credentials",
        "key",
        "passwd",
        "password",
        "secret",
        "token",
    }
)
# Values shaped like the keys of the providers embedgate talks to (OpenAI, Gemini, headers).
_SECRET_VALUE: Final = re.compile(r"^\s*(sk-|AIza|Bearer\s)", re.IGNORECASE)
_CAMEL: Final = re.compile(r"([a-z0-9])([A-Z])")


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What `embed_with_cache` found and did.

    Attributes:
        hits: input texts answered by the cache (repeats counted each time).
        misses: input texts the cache did not hold; ``hits + misses == len(texts)``.
        embedded: distinct texts sent to ``embed``; at most ``misses``.
    """

    hits: int
    misses: int
    embedded: int


@dataclass(frozen=True, slots=True)
class CachedModel:
    """One model fingerprint in the cache file, as `EmbeddingCache.models` reports it.

    Attributes:
        fingerprint: the caller's hash of the model identity.
        identity: the identity mapping recorded with the first write that gave one.
        dimensions: the length of every vector stored under this fingerprint.
        queries: vectors stored for the query role.
        documents: vectors stored for the document role.
        created_at: first write, ISO 8601 UTC.
        last_used_at: latest write, or latest lookup that hit, ISO 8601 UTC.
    """

    fingerprint: str
    identity: Mapping[str, Any] | None
    dimensions: int
    queries: int
    documents: int
    created_at: str
    last_used_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, for ``embedgate cache`` style listings."""
        return {
            "fingerprint": self.fingerprint,
            "identity": dict(self.identity) if self.identity is not None else None,
            "dimensions": self.dimensions,
            "queries": self.queries,
            "documents": self.documents,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        }


def text_digest(text: str) -> bytes:
    """The 32-byte sha256 of ``text`` in UTF-8: the text part of a cache key.

    Example:
        >>> text_digest("hello").hex()[:16]
        '2cf24dba5fb0a30e'
    """
    if not isinstance(text, str):
        raise TypeError(f"cache keys are made from str texts, got {type(text).__name__}")
    # surrogatepass: a lone surrogate (from a badly decoded file) still gets a stable key.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """A SQLite file of float32 embeddings keyed by (model fingerprint, role, text hash).

    Opening creates the file and its parent folders when missing. Use it as a context
    manager, or call `close`. One instance serves one thread; each process opens its own.

    Args:
        path: the cache file, e.g. ``.embedgate/embeddings.sqlite``.
        timeout: seconds a write waits for another process's write to finish.

    Raises:
        CacheError: the file is not an embedgate cache (another SQLite database, a corrupt or
            non-SQLite file), was written by a newer embedgate, or cannot be created or
            opened for writing at that location. The message names the path and what to do.

    Example:
        >>> import numpy as np, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "c.sqlite"
        >>> with EmbeddingCache(path) as cache:
        ...     cache.put_many("f" * 64, "document", ["x", "y"], np.eye(2, dtype=np.float32))
        ...     vectors, found = cache.get_many("f" * 64, "document", ["y", "z"])
        2
        >>> vectors.tolist(), found.tolist()
        ([[0.0, 1.0], [0.0, 0.0]], [True, False])
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 60.0) -> None:
        self._path = Path(path)
        self._timeout = float(timeout)
        self._conn_obj: sqlite3.Connection | None = None
        self._pid = -1
        self._touched: set[str] = set()
        self._closed = False
        self._connect()

    @property
    def path(self) -> Path:
        """The cache file."""
        return self._path

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"EmbeddingCache({str(self._path)!r}, {state})"

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; the last process to close folds the WAL back into the file."""
        if self._conn_obj is not None and self._pid == os.getpid():
            self._conn_obj.close()
        self._conn_obj = None
        self._closed = True

    # -- reading ---------------------------------------------------------------------------

    def get_many(
        self, fingerprint: str, role: str, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
        """Look up many texts at once.

        Args:
            fingerprint: the model identity hash.
            role: ``"query"`` or ``"document"``.
            texts: the texts, repeats allowed.

        Returns:
            ``(vectors, found)``: a float32 ``(len(texts), d)`` array in input order, with
            zero rows where ``found`` is False. ``d`` is the fingerprint's dimension, or 0 when
            the cache has never seen the fingerprint.

        Raises:
            CacheError: the file cannot be read, or a stored vector has the wrong length.

        Example:
            >>> import tempfile, pathlib
            >>> with EmbeddingCache(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite") as c:
            ...     vectors, found = c.get_many("f" * 64, "query", ["never seen"])
            >>> vectors.shape, found.tolist()
            ((1, 0), [False])
        """
        role = _check_role(role)
        _check_fingerprint(fingerprint)
        digests = [text_digest(t) for t in texts]
        n = len(digests)
        with self._translate("read"):
            conn = self._conn()
            model = conn.execute(
                "SELECT id, dimensions FROM models WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            if model is None:
                return np.zeros((n, 0), dtype=np.float32), np.zeros(n, dtype=np.bool_)
            model_id, dims = int(model[0]), int(model[1])
            stored: dict[bytes, bytes] = {}
            unique = list(dict.fromkeys(digests))
            for start in range(0, len(unique), _IN_CHUNK):
                chunk = unique[start : start + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT text_sha256, vector FROM vectors "
                    f"WHERE model_id = ? AND role = ? AND text_sha256 IN ({marks})",
                    (model_id, role, *chunk),
                )
                stored.update(rows)
        width = dims * _VECTOR_DTYPE.itemsize
        # One copy: each stored blob goes straight into its row; rows of misses stay zero.
        buffer = bytearray(n * width)
        view = memoryview(buffer)
        found = np.zeros(n, dtype=np.bool_)
        hit_rows = []
        for i, digest in enumerate(digests):
            blob = stored.get(digest)
            if blob is None:
                continue
            if len(blob) != width:
                raise CacheError(
                    f"{self._path}: a stored vector of model {fingerprint[:12]} is not "
                    f"{dims} float32 values; the file is damaged. {_FIX}"
                )
            view[i * width : (i + 1) * width] = blob
            hit_rows.append(i)
        vectors = np.frombuffer(buffer, dtype=_VECTOR_DTYPE).reshape(n, dims)
        vectors = vectors.astype(np.float32, copy=False)
        if not hit_rows:
            return vectors, found
        found[hit_rows] = True
        self._touch(fingerprint)
        return vectors, found

    def dimensions(self, fingerprint: str) -> int | None:
        """The vector length stored for ``fingerprint``, or None when it has no vectors yet."""
        with self._translate("read"):
            row = (
                self._conn()
                .execute("SELECT dimensions FROM models WHERE fingerprint = ?", (fingerprint,))
                .fetchone()
            )
        return None if row is None else int(row[0])

    def count(self, fingerprint: str | None = None, role: str | None = None) -> int:
        """How many vectors the file holds, optionally for one fingerprint and/or role."""
        where, params = [], []
        if fingerprint is not None:
            where.append("m.fingerprint = ?")
            params.append(fingerprint)
        if role is not None:
            where.append("v.role = ?")
            params.append(_check_role(role))
        sql = "SELECT count(*) FROM vectors v JOIN models m ON m.id = v.model_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._translate("read"):
            return int(self._conn().execute(sql, params).fetchone()[0])

    def models(self) -> list[CachedModel]:
        """Every fingerprint in the file with its identity and vector counts, oldest first."""
        with self._translate("read"):
            rows = (
                self._conn()
                .execute(
                    "SELECT m.fingerprint, m.identity, m.dimensions, "
                    "  (SELECT count(*) FROM vectors v WHERE v.model_id = m.id"
                    "     AND v.role = 'query'),"
                    "  (SELECT count(*) FROM vectors v WHERE v.model_id = m.id"
                    "     AND v.role = 'document'),"
                    "  m.created_at, m.last_used_at "
                    "FROM models m ORDER BY m.created_at, m.fingerprint"
                )
                .fetchall()
            )
        return [
            CachedModel(
                fingerprint=fp,
                identity=json.loads(identity) if identity is not None else None,
                dimensions=int(dims),
                queries=int(q),
                documents=int(d),
                created_at=created,
                last_used_at=used,
            )
            for fp, identity, dims, q, d, created, used in rows
        ]

    # -- writing ---------------------------------------------------------------------------

    def put_many(
        self,
        fingerprint: str,
        role: str,
        texts: Sequence[str],
        vectors: npt.ArrayLike,
        *,
        identity: Mapping[str, Any] | None = None,
    ) -> int:
        """Store one batch of vectors in one transaction, committed before returning.

        A key that is already stored keeps its first vector (so concurrent writers of the same
        key never fail). The first write that gives an ``identity`` records it.

        Args:
            fingerprint: the model identity hash.
            role: ``"query"`` or ``"document"``.
            texts: one text per row of ``vectors``.
            vectors: ``(len(texts), d)`` finite values, stored as float32.
            identity: the JSON-serializable mapping the fingerprint was made from. It must not
                hold a credential: keys named like ``api_key``, ``token``, ``secret``,
                ``authorization`` and values shaped like a provider key are refused.

        Returns:
            How many keys were new.

        Raises:
            ValueError: ``vectors`` has the wrong shape or a non-finite value, or ``role`` is
                neither query nor document.
            CacheError: ``identity`` holds a credential; ``d`` differs from the dimension already
                stored under ``fingerprint`` (the identity misses something that changes the
                vectors); or the file cannot be written.
        """
        role = _check_role(role)
        _check_fingerprint(fingerprint)
        digests = [text_digest(t) for t in texts]
        if not digests:
            # Nothing to store, and no dimension to record the identity under.
            return 0
        array = _as_vectors(vectors, len(digests), what="vectors")
        identity_json = _identity_json(identity) if identity is not None else None
        dims = int(array.shape[1])
        with self._translate("write"), self._transaction() as conn:
            conn.execute(
                "INSERT INTO models (fingerprint, identity, dimensions) VALUES (?, ?, ?) "
                "ON CONFLICT (fingerprint) DO UPDATE SET "
                f"  identity = coalesce(identity, excluded.identity), last_used_at = {_NOW}",
                (fingerprint, identity_json, dims),
            )
            model_id, stored_dims = conn.execute(
                "SELECT id, dimensions FROM models WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            if int(stored_dims) != dims:
                raise CacheError(
                    f"{self._path}: model {fingerprint[:12]} has {stored_dims}-dimensional "
                    f"vectors in the cache, but {dims}-dimensional ones were given. The model "
                    "identity must include everything that changes the vectors (dimensions, "
                    "revision, truncation); fix the identity, or prune this fingerprint."
                )
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO vectors (model_id, role, text_sha256, vector) "
                "VALUES (?, ?, ?, ?)",
                [(model_id, role, d, array[i].tobytes()) for i, d in enumerate(digests)],
            )
            added = conn.total_changes - before
        self._touched.add(fingerprint)
        return added

    def prune(self, fingerprint: str) -> int:
        """Delete a fingerprint and all its vectors; returns how many vectors went.

        The file keeps its size until ``VACUUM``; new vectors reuse the freed pages.
        """
        with self._translate("write"), self._transaction() as conn:
            row = conn.execute(
                "SELECT id FROM models WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            if row is None:
                return 0
            removed = conn.execute("DELETE FROM vectors WHERE model_id = ?", row).rowcount
            conn.execute("DELETE FROM models WHERE id = ?", row)
        self._touched.discard(fingerprint)
        return int(removed)

    # -- connection ------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise CacheError(f"{self._path}: the cache is closed; open a new EmbeddingCache.")
        if self._conn_obj is None or self._pid != os.getpid():
            return self._connect()
        return self._conn_obj

    def _connect(self) -> sqlite3.Connection:
        if self._conn_obj is not None and self._pid != os.getpid():
            # Inherited across fork: closing it here would drop the parent's POSIX locks
            # bookkeeping in SQLite, so the child leaves it alone for good.
            _INHERITED.append(self._conn_obj)
        self._conn_obj = None
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"{self._path}: cannot create the folder for the cache ({exc.strerror or exc}). "
                "Set a cache path in a writable folder."
            ) from exc
        if self._path.is_dir():
            raise CacheError(f"{self._path} is a folder; set the cache path to a file in it.")
        with self._translate("open"):
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
            try:
                _prepare(conn, self._path, self._timeout)
            except BaseException:
                conn.close()
                raise
        self._conn_obj = conn
        self._pid = os.getpid()
        self._touched = set()
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        # IMMEDIATE takes the write lock up front, so the busy timeout applies; a deferred
        # transaction upgrading to a write can fail at once with "database is locked".
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise CacheError(self._explain(action, exc)) from exc

    def _explain(self, action: str, exc: sqlite3.Error) -> str:
        text = str(exc)
        low = text.lower()
        if isinstance(exc, sqlite3.ProgrammingError):
            return f"{self._path}: {text}. Open one EmbeddingCache per thread."
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return f"{self._path} is not a readable embedgate cache ({text}). {_FIX}"
        if "readonly" in low or "read-only" in low or "unable to open" in low:
            return (
                f"{self._path}: cannot {action} the cache here ({text}). Make the file and its "
                "folder writable, or set a cache path in a writable folder."
            )
        if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
            return (
                f"{self._path}: another process held the cache for more than {self._timeout:g} s "
                f"({text}). Retry, or give each parallel job its own cache path."
            )
        if "disk" in low or "full" in low:
            return f"{self._path}: cannot {action} the cache ({text}). Free disk space."
        return f"{self._path}: cannot {action} the cache ({text}). {_FIX}"

    def _touch(self, fingerprint: str) -> None:
        # Once per fingerprint per connection: lookups stay read-only after the first hit.
        if fingerprint in self._touched:
            return
        self._touched.add(fingerprint)
        with self._translate("write"):
            self._conn().execute(
                f"UPDATE models SET last_used_at = {_NOW} WHERE fingerprint = ?", (fingerprint,)
            )


# Connections inherited across fork, kept referenced so that they are never closed in the
# child (see `EmbeddingCache._connect`).
_INHERITED: list[sqlite3.Connection] = []


def _prepare(conn: sqlite3.Connection, path: Path, timeout: float) -> None:
    """Check or create the schema and set the connection's pragmas, retrying while busy."""
    # Switching a new file to WAL takes an exclusive lock *without* SQLite's busy handler, so
    # two processes opening a fresh file at once can see "database is locked" immediately.
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        try:
            _prepare_once(conn, path)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        else:
            return


def _prepare_once(conn: sqlite3.Connection, path: Path) -> None:
    # Reading the header is the first touch of the file: a non-SQLite file fails here.
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = ON")
    # NORMAL is durable against a killed process in WAL mode; only power loss can drop the
    # latest commits, which a cache can afford.
    conn.execute("PRAGMA synchronous = NORMAL")
    # Up to 64 MiB of pages per connection (allocated as used, not up front): a 5,000-text
    # lookup of 384-d vectors reads ~8 MB, and the 2 MiB default re-reads it every time.
    conn.execute("PRAGMA cache_size = -65536")
    if app_id != _APPLICATION_ID or version != SCHEMA_VERSION:
        _check_header(conn, path, app_id, version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have created the schema while this one waited for the lock.
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            _check_header(conn, path, app_id, version)
            if version == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    # WAL is a property of the file: set once by whoever gets there first, then only read.
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        if mode != "wal":
            raise CacheError(
                f"{path}: SQLite cannot use WAL mode there (journal mode stays {mode!r}), which "
                "several processes need to share the cache. Set a cache path on a local disk."
            )


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _check_header(conn: sqlite3.Connection, path: Path, app_id: int, version: int) -> None:
    if app_id not in (0, _APPLICATION_ID):
        raise CacheError(
            f"{path} is an SQLite database of another application (application_id "
            f"{app_id:#x}), not an embedgate cache. Set another cache path."
        )
    if app_id == 0 and version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise CacheError(
                f"{path} is an SQLite database with {tables} objects but no embedgate schema. "
                "Set another cache path, or delete the file if it is a stale cache."
            )
        return
    if version > SCHEMA_VERSION:
        raise CacheError(
            f"{path} has cache schema version {version}, newer than the {SCHEMA_VERSION} this "
            "embedgate reads. Upgrade embedgate, or delete the file to start a fresh cache."
        )
    if version != SCHEMA_VERSION:
        raise CacheError(f"{path} has unknown cache schema version {version}. {_FIX}")


def _check_role(role: str) -> Literal["query", "document"]:
    value = str(role)  # a `Role` StrEnum gives its value
    if value == "query":
        return "query"
    if value == "document":
        return "document"
    raise ValueError(f"role must be one of {_ROLES}, got {role!r}")


def _check_fingerprint(fingerprint: str) -> None:
    if not isinstance(fingerprint, str) or not fingerprint:
        raise ValueError(f"fingerprint must be a non-empty str, got {fingerprint!r}")


def _as_vectors(values: Any, rows: int, *, what: str) -> npt.NDArray[np.float32]:
    """``values`` as a C-contiguous little-endian float32 ``(rows, d)`` array, or ValueError."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not an array of numbers: {exc}") from exc
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{what} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[0] != rows:
        raise ValueError(f"{what} must have shape ({rows}, dimensions), got {array.shape}")
    if rows and array.shape[1] == 0:
        raise ValueError(f"{what} has 0 dimensions")
    # An overflow to inf is reported below, as a value the cache cannot store faithfully.
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(array, dtype=_VECTOR_DTYPE)
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
        raise ValueError(
            f"{what} row {bad} has a NaN or infinite value (after conversion to float32)"
        )
    return out.astype(np.float32, copy=False)


def _secret_path(value: Any, where: str) -> str | None:
    """The first place in ``value`` that looks like a credential, e.g. ``headers.api-key``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key)
            words = re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1_\2", name).lower())
            here = f"{where}.{name}" if where else name
            if _SECRET_WORDS.intersection(words):
                return here
            found = _secret_path(item, here)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _secret_path(item, f"{where}[{i}]")
            if found:
                return found
    elif isinstance(value, str) and _SECRET_VALUE.match(value):
        return where or "(the identity)"
    return None


def _identity_json(identity: Mapping[str, Any]) -> str:
    """The identity as compact sorted JSON, refusing anything that looks like a credential."""
    place = _secret_path(identity, "")
    if place is not None:
        raise CacheError(
            f"the model identity holds what looks like a credential at {place!r}; the cache "
            "refuses to store it. Remove keys and tokens from the identity (they do not change "
            "the vectors)."
        )
    # The same encoding as `embedgate.models.fingerprint_identity`, so what is recorded is
    # exactly what was hashed (a Path or an enum in the identity becomes its str).
    try:
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError) as exc:
        raise CacheError(f"the model identity cannot be written as JSON: {exc}") from exc
    # A key set in the environment may hide under an innocent-looking name.
    for name, secret in os.environ.items():
        words = name.lower().split("_")
        if len(secret) >= 16 and _SECRET_WORDS.intersection(words) and secret in blob:
            raise CacheError(
                f"the model identity contains the value of ${name}; the cache refuses to "
                "store it. Remove it from the identity."
            )
    return blob


def embed_with_cache(
    embed: Callable[[Sequence[str]], npt.ArrayLike],
    texts: Sequence[str],
    *,
    cache: EmbeddingCache,
    fingerprint: str,
    role: str,
    batch_size: int = 64,
    identity: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    plan: Callable[[Sequence[str]], Sequence[int]] | None = None,
) -> tuple[npt.NDArray[np.float32], CacheStats]:
    """Embed ``texts``, asking ``embed`` only for what the cache does not hold.

    Looks every text up, embeds each distinct missing text once in batches of ``batch_size``
    (in first-appearance order), and commits each batch to the cache as soon as ``embed``
    returns it, so an exception or a kill in batch 7 keeps batches 1 to 6 and a rerun embeds
    only the rest. When everything is cached, ``embed`` is never called (an API model needs no
    key then).

    Args:
        embed: texts -> ``(len(texts), d)`` array; e.g. ``lambda t: model.embed(t, role)``.
        texts: the texts, repeats allowed.
        cache: the open cache.
        fingerprint: the model identity hash the vectors are stored under.
        role: ``"query"`` or ``"document"``.
        batch_size: texts per ``embed`` call.
        identity: recorded with the fingerprint; see `EmbeddingCache.put_many`.
        progress: called as ``progress(done, total)`` after each batch, counting distinct
            texts embedded so far out of those to embed.
        plan: texts to embed -> the sizes of consecutive batches (an API adapter's
            ``plan_batches``, which keeps each request within the provider's token limits);
            ``None`` cuts batches of ``batch_size``.

    Returns:
        ``(vectors, stats)``: float32 ``(len(texts), d)`` in input order, and `CacheStats`.
        With no texts and an unknown fingerprint, the shape is ``(0, 0)``.

    Raises:
        MalformedResponse: ``embed`` returned the wrong number of rows, a dimension that
            differs between batches or from the cache, or a NaN or infinite value.
        CacheError: the cache cannot be read or written.
        Exception: whatever ``embed`` raises, after the earlier batches are committed.

    Example:
        >>> import numpy as np, tempfile, pathlib
        >>> calls = []
        >>> def fake(batch):
        ...     calls.append(len(batch))
        ...     return np.full((len(batch), 2), 0.5, dtype=np.float32)
        >>> with EmbeddingCache(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite") as c:
        ...     v, stats = embed_with_cache(fake, ["a", "b", "c", "a"], cache=c,
        ...                                 fingerprint="f" * 64, role="document", batch_size=2)
        >>> calls, stats.embedded, v.shape
        ([2, 1], 3, (4, 2))
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    role = _check_role(role)
    vectors, found = cache.get_many(fingerprint, role, texts)
    n = len(texts)
    hits = int(found.sum())
    missing: dict[str, list[int]] = {}
    for i in np.flatnonzero(~found).tolist():
        missing.setdefault(texts[i], []).append(i)
    # Longest first: a batch then holds texts of about one length, so a transformer pads
    # little (about twice as fast on abstracts), and the batch that needs most memory runs
    # first instead of last.
    todo = sorted(missing, key=len, reverse=True)
    sizes = _batch_sizes(todo, batch_size, plan)
    dims = vectors.shape[1] if vectors.shape[1] else None
    out: npt.NDArray[np.float32] = vectors
    done = 0
    starts = np.cumsum([0, *sizes[:-1]]).tolist() if sizes else []
    for b, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        batch = todo[start : start + size]
        answer = embed(batch)
        where = (
            f"embed() batch {b + 1} of {len(sizes)} "
            f"(texts {start + 1}-{start + len(batch)} of {len(todo)} to embed, "
            f"model {fingerprint[:12]}, role {role})"
        )
        try:
            got = _as_vectors(answer, len(batch), what="the returned array")
        except ValueError as exc:
            raise MalformedResponse(f"{where}: {exc}.") from exc
        if dims is None:
            dims = int(got.shape[1])
            out = np.zeros((n, dims), dtype=np.float32)
        elif got.shape[1] != dims:
            raise MalformedResponse(
                f"{where}: returned {got.shape[1]}-dimensional vectors where {dims} were "
                "expected (from earlier batches or the cache)."
            )
        cache.put_many(fingerprint, role, batch, got, identity=identity)
        for text, row in zip(batch, got, strict=True):
            out[missing[text]] = row
        done += len(batch)
        if progress is not None:
            progress(done, len(todo))
    return out, CacheStats(hits=hits, misses=n - hits, embedded=len(todo))


def _batch_sizes(
    todo: Sequence[str], batch_size: int, plan: Callable[[Sequence[str]], Sequence[int]] | None
) -> list[int]:
    if plan is None:
        return [min(batch_size, len(todo) - start) for start in range(0, len(todo), batch_size)]
    sizes = [int(size) for size in plan(todo)]
    if any(size < 1 for size in sizes) or sum(sizes) != len(todo):
        raise ValueError(
            f"plan() returned batch sizes {sizes[:8]}{'...' if len(sizes) > 8 else ''} for "
            f"{len(todo)} texts; they must be positive and add up to the number of texts"
        )
    return sizes
