"""A syrupy extension that stores each snapshot as one markdown file a reviewer reads in a diff."""

from __future__ import annotations

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

__all__ = ["MarkdownSnapshotExtension"]


class MarkdownSnapshotExtension(SingleFileSnapshotExtension):
    """``__snapshots__/<test file>/<test name>.md``, written as UTF-8 text.

    The value snapshotted must be a `str` (a table from `embedgate.report`); the file holds it
    as is, so a pull request that changes a model shows the table rows that changed.
    """

    file_extension = "md"
    _write_mode = WriteMode.TEXT
