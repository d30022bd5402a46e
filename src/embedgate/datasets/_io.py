"""Line readers and field checks shared by the loaders; every failure is a `DatasetError`."""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

from embedgate.datasets.types import DatasetWarning, DatasetWarningCode
from embedgate.errors import DatasetError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path

ID_KEYS = ("_id", "id")


def json_kind(value: object) -> str:
    """``value`` as a message shows it: ``null``, ``true``, ``the number 2``, ``an array [...]``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return f"an array {_clip(json.dumps(value, ensure_ascii=False))}"
    if isinstance(value, dict):
        return f"an object {_clip(json.dumps(value, ensure_ascii=False))}"
    return type(value).__name__


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def some(items: Iterable[str], shown: int = 5) -> str:
    """``a, b, c and 7 more``; items come already quoted."""
    items = list(items)
    head = ", ".join(items[:shown])
    rest = len(items) - shown
    return head + (f" and {rest} more" if rest > 0 else "")


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def require_file(path: Path, what: str) -> None:
    """Raise a `DatasetError` that says what the missing file is for and what is there."""
    if path.is_file():
        return
    if path.exists():
        raise DatasetError(f"is not a file. {what}.", path=path)
    if path.parent.is_dir():
        found = sorted(p.name + ("/" if p.is_dir() else "") for p in path.parent.iterdir())
        there = f"The folder holds: {some(found, 12)}." if found else "The folder is empty."
    else:
        there = f"The folder {path.parent} does not exist."
    raise DatasetError(f"file not found. {what}. {there}", path=path)


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, text)`` of every non-blank line, decoded as UTF-8, line end removed.

    A byte-order mark on line 1 is dropped (Windows editors write one).
    """
    try:
        f = path.open("rb")
    except FileNotFoundError:
        require_file(path, "It is required")
        raise
    except OSError as exc:
        raise DatasetError(f"cannot be read: {exc.strerror}.", path=path) from exc
    with f:
        offset = 0
        for n, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                raise DatasetError(
                    f"byte 0x{bad} at byte offset {offset + exc.start} of the file "
                    f"(byte {exc.start + 1} of the line) is not valid UTF-8. Re-encode the file "
                    "as UTF-8, e.g. `iconv -f latin1 -t utf-8 in > out` if it is Latin-1.",
                    path=path,
                    line=n,
                ) from None
            offset += len(raw)
            if n == 1 and text.startswith("\ufeff"):
                text = text[1:]
            text = text.rstrip("\r\n")
            if text.strip():
                yield n, text


def iter_json_objects(path: Path, example: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, object)`` for each non-blank line of a JSON Lines file."""
    for n, text in iter_lines(path):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            near = text[max(0, exc.pos - 25) : exc.pos + 25]
            raise DatasetError(
                f"not valid JSON: {exc.msg} at column {exc.colno}, near {near!r}. Each line must "
                f"hold one complete JSON object, e.g. {example}; a pretty-printed or array file "
                "must be rewritten one object a line.",
                path=path,
                line=n,
            ) from None
        if not isinstance(obj, dict):
            raise DatasetError(
                f"expected a JSON object, found {json_kind(obj)}. Write one object a line, "
                f"e.g. {example}.",
                path=path,
                line=n,
            )
        yield n, obj


def check_id(value: object, what: str, path: Path, line: int) -> str:
    """A valid id as a string; JSON integers are accepted and written in decimal."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DatasetError(
            f'{what} must be a string, found {json_kind(value)}. Write it in quotes, e.g. "d1".',
            path=path,
            line=line,
        )
    if not value:
        raise DatasetError(
            f"{what} is empty. Give every line a unique, non-empty id.", path=path, line=line
        )
    if value != value.strip() or "\t" in value or "\n" in value:
        raise DatasetError(
            f"{what} {value!r} has surrounding whitespace, a tab or a line break; ids are "
            "compared exactly and qrels are tab-separated. Remove them.",
            path=path,
            line=line,
        )
    return value


def find_id(
    obj: Mapping[str, Any], what: str, path: Path, line: int, *, null_is_absent: bool = False
) -> str | None:
    """The ``"_id"`` (or its alias ``"id"``) of a line, checked; ``None`` when it has neither.

    With ``null_is_absent``, a field whose value is JSON ``null`` counts as absent.
    """
    present = [k for k in ID_KEYS if k in obj and not (null_is_absent and obj[k] is None)]
    if not present:
        return None
    ids = [check_id(obj[k], f"{what} {json.dumps(k)}", path, line) for k in present]
    if len(ids) == 2 and ids[0] != ids[1]:
        raise DatasetError(
            f'"_id" {ids[0]!r} and "id" {ids[1]!r} disagree. Keep one of the two fields.',
            path=path,
            line=line,
        )
    return ids[0]


def get_id(obj: Mapping[str, Any], what: str, path: Path, line: int, example: str) -> str:
    """The ``"_id"`` (or its alias ``"id"``) of a line, which it must have."""
    found = find_id(obj, what, path, line)
    if found is None:
        raise DatasetError(
            f'missing required field "_id" (the {what}; "id" is accepted too). Add it, '
            f"e.g. {example}.",
            path=path,
            line=line,
        )
    return found


def get_str(
    obj: Mapping[str, Any], key: str, path: Path, line: int, *, required: bool, example: str
) -> str:
    """A string field; an optional one may be absent or null and reads as ``""``."""
    if key not in obj or (obj[key] is None and not required):
        if required:
            raise DatasetError(
                f"missing required field {json.dumps(key)}{_close_key(key, obj)}. Add it, "
                f"e.g. {example}.",
                path=path,
                line=line,
            )
        return ""
    value = obj[key]
    if not isinstance(value, str):
        raise DatasetError(
            f"{json.dumps(key)} must be a string, found {json_kind(value)}. Write it as a "
            "JSON string in quotes.",
            path=path,
            line=line,
        )
    return value


def _close_key(key: str, obj: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, [k for k in obj if isinstance(k, str)], n=1)
    return f" (found {json.dumps(close[0])}: a typo?)" if close else ""


def get_language(obj: Mapping[str, Any], path: Path, line: int) -> str | None:
    value = obj.get("lang")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(
            f'"lang" must be a language tag such as "de" or "pt-BR", found {json_kind(value)}. '
            "Fix it or leave the field out.",
            path=path,
            line=line,
        )
    return value


def get_tags(obj: Mapping[str, Any], path: Path, line: int) -> dict[str, str]:
    value = obj.get("tags")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DatasetError(
            f'"tags" must be an object of names to strings, e.g. {{"topic": "billing"}}, found '
            f"{json_kind(value)}.",
            path=path,
            line=line,
        )
    for k, v in value.items():
        if not isinstance(v, str):
            raise DatasetError(
                f"tag {json.dumps(k)} must be a string, found {json_kind(v)}. Quote it, "
                f"e.g. {json.dumps({k: str(v)}, ensure_ascii=False)}.",
                path=path,
                line=line,
            )
    return dict(value)


def check_unknown_keys(
    obj: Mapping[str, Any], allowed: tuple[str, ...], path: Path, line: int
) -> None:
    for key in obj:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f" Did you mean {json.dumps(close[0])}?" if close else ""
            raise DatasetError(
                f"unknown field {json.dumps(key)}.{hint} A line may hold "
                f'{", ".join(json.dumps(a) for a in allowed)}; put labels under "tags".',
                path=path,
                line=line,
            )


class WarningLog:
    """Collects occurrences by code and folds each code into one `DatasetWarning`."""

    def __init__(self) -> None:
        self._seen: dict[tuple[DatasetWarningCode, Path], list[tuple[int | None, str]]] = {}
        self._order: list[tuple[DatasetWarningCode, Path]] = []

    def add(self, code: DatasetWarningCode, path: Path, line: int | None, item: str) -> None:
        """Record one occurrence; ``item`` is how the message shows it (``'471'``)."""
        key = (code, path)
        if key not in self._seen:
            self._seen[key] = []
            self._order.append(key)
        self._seen[key].append((line, item))

    def items(self, code: DatasetWarningCode, path: Path) -> list[str]:
        return [item for _, item in self._seen.get((code, path), [])]

    def fold(
        self, messages: Mapping[DatasetWarningCode, Callable[[int, str], str]]
    ) -> tuple[DatasetWarning, ...]:
        """One warning per (code, file); ``messages[code](count, some_items)`` words it."""
        out = []
        for code, path in self._order:
            seen = self._seen[(code, path)]
            message = messages[code](len(seen), some(item for _, item in seen))
            out.append(DatasetWarning(code, message, path, seen[0][0], len(seen)))
        return tuple(out)
