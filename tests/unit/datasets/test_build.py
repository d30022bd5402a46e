"""The golden-set builder: reading, splitting, generation with resume, filters, review, export.

The LLM and the reference retriever are fakes here (plain functions); the real chat adapters
are tested in tests/unit/models/test_chat.py and the whole path in
tests/integration/test_cli_golden_build.py.
"""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from embedgate.datasets import load_dataset
from embedgate.datasets.build import (
    BuildSettings,
    Candidate,
    Passage,
    ReplyError,
    ReplyRecord,
    SourceDocument,
    build,
    collect_candidates,
    export,
    longest_common_run,
    parse_reply,
    read_documents,
    read_review,
    review_candidates,
    split_passages,
    tokenize,
)
from embedgate.errors import DatasetError

# -- documents --------------------------------------------------------------------------------


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_markdown_text_and_html_are_read_with_titles_and_without_markup(tmp_path: Path) -> None:
    write(
        tmp_path,
        "guide/start.md",
        "---\nauthor: x\n---\n# Start *here*\n\nSee [the docs](http://x.y) and **bold** `code`.\n"
        "## Next\n- item one\n",
    )
    write(tmp_path, "notes.txt", "Plain title\n\nBody line one.\nBody line two.\n")
    write(
        tmp_path,
        "page.html",
        "<html><head><title>Page &amp; co</title><style>p{}</style></head><body><h1>Page &amp; "
        "co</h1><p>First&nbsp;para.</p><script>var x = 1;</script><p>Second para.</p></body>",
    )
    write(tmp_path, "manual.pdf", tiny_pdf("Hold the power button for ten seconds.", "Manual"))
    write(tmp_path, "broken.pdf", b"%PDF-1.4")
    write(tmp_path, "blank.pdf", tiny_pdf("", "Scanned"))
    write(tmp_path, ".hidden/secret.md", "# hidden\n")
    docs, skipped = read_documents(tmp_path)
    by_id = {d.id: d for d in docs}
    assert sorted(by_id) == ["guide-start", "manual", "notes", "page"]
    manual = by_id["manual"]
    assert (manual.title, manual.text, manual.format) == (
        "Manual",
        "Hold the power button for ten seconds.",
        "pdf",
    )
    start = by_id["guide-start"]
    assert (start.title, start.format) == ("Start here", "markdown")
    assert start.text == "See the docs and bold code.\nNext\nitem one"
    assert (by_id["notes"].title, by_id["notes"].text) == (
        "Plain title",
        "Body line one.\nBody line two.",
    )
    page = by_id["page"]
    assert page.title == "Page & co"
    assert "var x" not in page.text
    assert "p{}" not in page.text
    assert page.text == "First para.\n\nSecond para."
    reasons = dict(skipped)
    assert sorted(reasons) == ["blank.pdf", "broken.pdf"]
    assert "no text layer" in reasons["blank.pdf"]
    assert "not a readable PDF" in reasons["broken.pdf"]


def tiny_pdf(text: str, title: str) -> bytes:
    """A one-page PDF 1.4 with ``text`` in Helvetica (written here; pypdf only reads it)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (%s) >>" % title.encode(),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    write(tmp_path, "latin.txt", "caf\xe9".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin\.txt: is not UTF-8"):
        read_documents(tmp_path)


def test_two_files_with_one_id_and_an_empty_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="holds no document"):
        read_documents(tmp_path)
    write(tmp_path, "faq.md", "# A\n\ntext\n")
    write(tmp_path, "faq.txt", "text\n")
    with pytest.raises(DatasetError, match=r"faq\.txt: gives document id 'faq', as faq\.md"):
        read_documents(tmp_path)


# -- splitting --------------------------------------------------------------------------------


def test_tokens_are_words_cjk_characters_and_punctuation() -> None:
    text = "Don't panic, 42 times! 東京 über"
    assert [text[a:b] for a, b in tokenize(text)] == [
        "Don't",
        "panic",
        ",",
        "42",
        "times",
        "!",
        "東",
        "京",
        "über",
    ]


def doc(text: str, doc_id: str = "d") -> SourceDocument:
    return SourceDocument(doc_id, f"{doc_id}.txt", "Title", text, "text", "0" * 64)


@pytest.mark.parametrize(("n", "size", "overlap"), [(1, 4, 0), (7, 4, 1), (20, 5, 2), (23, 8, 3)])
def test_windows_match_a_plain_word_slicer(n: int, size: int, overlap: int) -> None:
    words = [f"w{i}" for i in range(n)]
    passages = split_passages(doc(" ".join(words)), passage_tokens=size, overlap=overlap)
    # An independent slicer over str.split: windows at 0, step, 2*step... until one ends at n.
    step, expected, start = size - overlap, [], 0
    while True:
        expected.append(" ".join(words[start : start + size]))
        if start + size >= n:
            break
        start += step
    assert [p.text for p in passages] == expected
    for a, b in itertools.pairwise(passages):
        assert a.end_token - b.start_token == overlap
    assert passages[-1].end_token == n
    assert [p.index for p in passages] == list(range(len(passages)))


def test_passages_are_exact_slices_of_the_document_with_positions() -> None:
    text = "Refunds: money back within 14 days.\n\nInvoices, sent monthly, list VAT."
    d = doc(text, "billing")
    passages = split_passages(d, passage_tokens=6, overlap=2)
    assert [p.id for p in passages] == [f"billing-p{i + 1}" for i in range(len(passages))]
    spans = tokenize(text)
    for p in passages:
        assert p.text == text[p.start_char : p.end_char]
        assert p.start_char == spans[p.start_token][0]
        assert p.end_char == spans[p.end_token - 1][1]
        assert p.end_token - p.start_token <= 6
        assert (p.doc_id, p.source, p.title) == ("billing", "billing.txt", "Title")


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (4, 4), (4, -1), (True, 0)])
def test_window_settings_out_of_range_are_errors(size: Any, overlap: Any) -> None:
    with pytest.raises(DatasetError):
        split_passages(doc("a b c"), passage_tokens=size, overlap=overlap)


# -- replies ----------------------------------------------------------------------------------


def test_replies_are_parsed_from_fenced_json_lists_and_strings() -> None:
    fenced = '```json\n{"queries": [{"text": " refund? ", "lang": "de", "form": "question"}]}\n```'
    assert parse_reply(fenced, default_lang="en") == [Candidate("refund?", "de", "question", "")]
    assert parse_reply('["a b", {"text": "c"}]', default_lang="es") == [
        Candidate("a b", "es"),
        Candidate("c", "es"),
    ]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("Sure! Here are queries.", "not JSON"),
        ('{"items": []}', 'no "queries" list'),
        ('{"queries": [{"q": "x"}]}', 'query 1 of the reply is not an object with a "text"'),
        ('{"queries": []}', "holds no query"),
    ],
)
def test_replies_not_in_the_asked_shape_say_why(reply: str, message: str) -> None:
    with pytest.raises(ReplyError, match=message):
        parse_reply(reply, default_lang="en")


# -- generation and resume --------------------------------------------------------------------


class FakeLLM:
    """Answers each prompt with queries built from the passage; can fail on call number N."""

    def __init__(self, fail_at: int | None = None, reply: str | None = None) -> None:
        self.prompts: list[str] = []
        self.fail_at = fail_at
        self.reply = reply

    def __call__(self, prompt: str, *, system: str | None = None) -> str:
        assert system
        if self.fail_at is not None and len(self.prompts) + 1 == self.fail_at:
            raise KeyboardInterrupt
        self.prompts.append(prompt)
        if self.reply is not None:
            return self.reply
        passage = prompt.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
        word = passage.split()[0]
        return json.dumps({"queries": [{"text": f"what is {word}", "lang": "en"}]})


def passages_of(n: int) -> list[Passage]:
    return [
        p
        for i in range(n)
        for p in split_passages(doc(f"topic{i} alpha beta", f"d{i}"), passage_tokens=50)
    ]


def test_an_interrupted_generation_resumes_without_asking_again(tmp_path: Path) -> None:
    passages = passages_of(5)
    sidecar = tmp_path / "candidates.jsonl"
    first = FakeLLM(fail_at=3)
    with pytest.raises(KeyboardInterrupt):
        collect_candidates(passages, first, sidecar, llm="fake")
    assert len(first.prompts) == 2
    second = FakeLLM()
    records = collect_candidates(passages, second, sidecar, llm="fake")
    asked_again = [p for p in second.prompts if any(p == q for q in first.prompts)]
    assert asked_again == []
    assert len(second.prompts) == 3
    assert [records[p.id].candidates[0].text for p in passages] == [
        f"what is topic{i}" for i in range(5)
    ]
    third = FakeLLM()
    collect_candidates(passages, third, sidecar, llm="fake")
    assert third.prompts == []


def test_a_line_cut_off_by_a_kill_is_dropped_and_asked_again(tmp_path: Path) -> None:
    passages = passages_of(3)
    sidecar = tmp_path / "candidates.jsonl"
    collect_candidates(passages, FakeLLM(), sidecar, llm="fake")
    text = sidecar.read_text(encoding="utf-8")
    sidecar.write_text(text[: len(text) - 20], encoding="utf-8")  # the last reply half written
    again = FakeLLM()
    collect_candidates(passages, again, sidecar, llm="fake")
    assert len(again.prompts) == 1
    assert "topic2" in again.prompts[0]
    lines = sidecar.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line) for line in lines)
    assert len(lines) == 4  # header + 3 replies


def test_resuming_with_other_settings_is_refused(tmp_path: Path) -> None:
    sidecar = tmp_path / "candidates.jsonl"
    collect_candidates(passages_of(1), FakeLLM(), sidecar, llm="fake", per_passage=4)
    with pytest.raises(DatasetError, match=r"candidates\.jsonl line 1: was generated with other"):
        collect_candidates(passages_of(1), FakeLLM(), sidecar, llm="fake", per_passage=3)


def test_an_unusable_reply_is_retried_once_then_recorded_and_asked_only_on_request(
    tmp_path: Path,
) -> None:
    sidecar = tmp_path / "candidates.jsonl"
    bad = FakeLLM(reply="no JSON here")
    records = collect_candidates(passages_of(1), bad, sidecar, llm="fake")
    assert len(bad.prompts) == 2
    (record,) = records.values()
    assert record.candidates == ()
    assert record.error is not None
    assert "not JSON" in record.error
    assert record.raw == "no JSON here"
    quiet = FakeLLM()
    collect_candidates(passages_of(1), quiet, sidecar, llm="fake")
    assert quiet.prompts == []
    retry = FakeLLM()
    records = collect_candidates(passages_of(1), retry, sidecar, llm="fake", retry_failed=True)
    assert len(retry.prompts) == 1
    assert next(iter(records.values())).error is None


# -- filters ----------------------------------------------------------------------------------

PASSAGE_TEXT = (
    "Annual plans cancelled within fourteen days of purchase are refunded in full by the "
    "billing team"
)


def one_passage() -> list[Passage]:
    return split_passages(doc(PASSAGE_TEXT, "refunds"), passage_tokens=100)


def review(
    candidates: Sequence[Candidate],
    retrieve: Any = None,
    languages: Sequence[str] | None = ("en", "de"),
) -> list[Any]:
    passages = one_passage()
    replies = {passages[0].id: ReplyRecord(passages[0].id, "x", tuple(candidates))}
    return review_candidates(passages, replies, retrieve=retrieve, languages=languages, k=3)


def test_each_filter_rejects_the_candidate_built_to_trip_it() -> None:
    items = review(
        [
            Candidate("  ", "en"),  # empty
            Candidate("remboursement annuel", "fr"),  # a language not asked for
            Candidate(
                "cancelled within fourteen days of purchase are refunded?", "en"
            ),  # 7-word run
            Candidate("refunded in full by", "en"),  # the whole (4-word) query copied
            Candidate("How do I get a REFUND?", "en"),
            Candidate("how do i get a refund", "en"),  # a duplicate, case and punctuation aside
            Candidate("Rückerstattung für Jahrespläne", "de"),
        ]
    )
    reasons = [(i.id, i.status, i.reason) for i in items]
    assert reasons[0][1:] == ("rejected", "empty: the query has no words")
    assert reasons[1][1] == "rejected"
    assert "language 'fr' was not asked for" in reasons[1][2]
    assert reasons[2][1] == "rejected"
    assert "copies the passage: 8 words in a row" in reasons[2][2]
    assert reasons[3][1] == "rejected"
    assert "4 words in a row" in reasons[3][2]
    assert reasons[5] == ("q0006", "rejected", "duplicate of q0005")
    assert [i.status for i in items[4::2]] == ["pending", "pending"]
    assert all(i.reason.startswith("review: no reference") for i in items[4::2])
    assert [i.auto_status for i in items] == [i.status for i in items]


def test_a_regional_tag_counts_as_its_language() -> None:
    items = review([Candidate("refund rules", "en-GB"), Candidate("Rückerstattung", "de_AT")])
    assert [i.status for i in items] == ["pending", "pending"]
    items = review([Candidate("refund rules", "en")], languages=["en-GB"])
    assert items[0].reason == "language 'en' was not asked for (en-gb)"


def test_accents_count_as_the_same_query_for_duplicates() -> None:
    items = review([Candidate("über Rückerstattung", "de"), Candidate("uber ruckerstattung", "de")])
    assert items[1].reason == "duplicate of q0001"


def test_the_reference_check_accepts_retrieved_queries_and_leaves_the_rest_pending() -> None:
    seen: list[tuple[list[str], int]] = []

    def retrieve(texts: Sequence[str], k: int) -> list[list[str]]:
        seen.append((list(texts), k))
        return [["other", "refunds-p1"] if "refund" in t else ["other", "x", "y"] for t in texts]

    items = review(
        [Candidate("refund rules", "en"), Candidate("billing contact", "en")], retrieve=retrieve
    )
    assert seen == [(["refund rules", "billing contact"], 3)]
    assert (items[0].status, items[1].status) == ("accepted", "pending")
    assert "ranks the source passage 2 of its top 3" in items[0].reason
    assert "does not rank the source passage in its top 3" in items[1].reason


@pytest.mark.parametrize(
    ("query", "passage"),
    [
        (list("abcx"), list("zabcd")),
        (list("xy"), list("ab")),
        (list("ababc"), list("babca")),
        (list("abcabcabd"), list("xabcabdab")),
    ],
)
def test_longest_common_run_agrees_with_difflib(query: list[str], passage: list[str]) -> None:
    match = difflib.SequenceMatcher(None, query, passage, autojunk=False).find_longest_match(
        0, len(query), 0, len(passage)
    )
    length, start = longest_common_run(query, passage)
    assert length == match.size
    if length:
        assert query[start : start + length] == passage[match.b : match.b + match.size]


# -- review file and export -------------------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    write(docs, "refunds.md", f"# Refunds\n\n{PASSAGE_TEXT}. Monthly plans are not refunded.\n")
    write(docs, "sharing.txt", "Sharing\n\nPublic links expire after thirty days.\n")

    def llm(prompt: str, *, system: str | None = None) -> str:
        if "Public links" in prompt:
            queries = [{"text": "when do shared links stop working", "lang": "en"}]
        else:
            queries = [
                {"text": "can I get my money back for a yearly plan", "lang": "en"},
                {"text": "monatliche Rückerstattung", "lang": "de"},
            ]
        return json.dumps({"queries": queries})

    def make_retriever(passages: Sequence[Passage]) -> Any:
        def retrieve(texts: Sequence[str], k: int) -> list[list[str]]:
            return [["refunds-p1"] if "money" in t else ["sharing-p1"] for t in texts]

        return retrieve

    out = tmp_path / "out"
    result = build(
        docs,
        out,
        generate=llm,
        settings=BuildSettings(languages=("en", "de"), llm="fake llm", reference="fake"),
        make_retriever=make_retriever,
    )
    assert (result.documents, result.passages, result.candidates) == (2, 2, 3)
    assert dict(result.statuses) == {"accepted": 2, "pending": 1}
    return out


def edit_review(folder: Path, change: Any) -> None:
    path = folder / "review.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [change(obj) or obj for obj in lines]
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines), "utf-8")


def test_export_writes_a_beir_folder_that_loads_with_the_accepted_items(built: Path) -> None:
    def accept_pending(obj: dict[str, Any]) -> None:
        if obj["status"] == "pending":
            obj["status"] = "accepted"
            obj["relevant"] = {"refunds-p1": 2, "sharing-p1": 0}
        elif obj["id"] == "q0003":
            obj["status"] = "rejected"
            obj["reason"] = "vague"

    edit_review(built, accept_pending)
    out = built.parent / "dataset"
    result = export(built, out, name="toy", lint=None)
    loaded = load_dataset(out, name="toy")
    assert loaded.fingerprint == result.dataset.fingerprint
    assert loaded.query_ids == ("q0001", "q0002")
    assert loaded.doc_ids == ("refunds-p1", "sharing-p1")
    assert loaded.qrels_dict() == {
        "q0001": {"refunds-p1": 2},
        "q0002": {"refunds-p1": 2, "sharing-p1": 0},
    }
    assert loaded.queries[1].language == "de"
    assert dict(loaded.queries[1].tags) == {"passage": "refunds-p1", "decided_by": "reviewer"}
    card = (out / "DATASET.md").read_text(encoding="utf-8")
    assert loaded.fingerprint in card
    assert "| statuses changed by a reviewer | 2 |" in card
    assert "| accepted (queries) | 2 |" in card
    assert "| `refunds.md` | markdown | 1 |" in card
    assert "| languages asked for | en, de |" in card
    assert "## Lint\n\nNot run." in card


def test_the_card_carries_the_lint_summary(built: Path) -> None:
    result = export(built)
    assert "## Lint" in result.card
    assert "### golden lint" in result.card  # the lint's own heading, nested
    assert result.dataset.path == built


def test_export_without_an_accepted_item_says_what_to_do(built: Path) -> None:
    edit_review(built, lambda o: o.update(status="pending"))
    with pytest.raises(DatasetError, match=r'review\.jsonl: holds no accepted item.*"accepted"'):
        export(built, lint=None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o.update(staus="accepted"), r'line 1: unknown field "staus"\. Did you mean'),
        (lambda o: o.update(status="done"), r'line 1: "status" is the string \'done\''),
        (lambda o: o.update(relevant={"nope-p9": 2}), r"line 1: passage 'nope-p9' in"),
        (lambda o: o.update(relevant={"refunds-p1": 1.5}), r"line 1: grade of 'refunds-p1'"),
        (lambda o: o.update(relevant={"refunds-p1": 0}), r"line 1: item 'q0001' is accepted"),
        (lambda o: o.pop("text"), r'line 1: missing "text"'),
        (lambda o: o.update(id="q0002"), r"line 2: id 'q0002' repeats line 1"),
    ],
)
def test_review_file_errors_name_the_file_and_line(built: Path, change: Any, message: str) -> None:
    first = True

    def edit(obj: dict[str, Any]) -> None:
        nonlocal first
        if first:
            change(obj)
        first = False

    edit_review(built, edit)
    with pytest.raises(DatasetError, match=r"review\.jsonl " + message):
        read_review(built / "review.jsonl", ["refunds-p1", "sharing-p1"])


def test_a_line_that_is_not_json_is_named(built: Path) -> None:
    path = built / "review.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"review\.jsonl line 4: not valid JSON"):
        read_review(path, ["refunds-p1", "sharing-p1"])


def test_building_again_does_not_replace_a_reviewed_file(built: Path) -> None:
    edit_review(built, lambda o: o.update(status="accepted"))

    def never(prompt: str, *, system: str | None = None) -> str:
        raise AssertionError("every passage was answered already")

    settings = BuildSettings(languages=("en", "de"), llm="fake llm")
    with pytest.raises(DatasetError, match=r"review\.jsonl: has been edited since the build"):
        build(built.parent / "docs", built, generate=never, settings=settings)
    result = build(
        built.parent / "docs", built, generate=never, settings=settings, overwrite_review=True
    )
    assert dict(result.statuses) == {"pending": 3}  # no reference this time
    assert [
        i.status for i in read_review(built / "review.jsonl", ["refunds-p1", "sharing-p1"])
    ] == ["pending"] * 3


@pytest.mark.parametrize(
    "options", [{"languages": ()}, {"languages": ("english!",)}, {"per_passage": 0}]
)
def test_bad_settings_are_errors(options: dict[str, Any]) -> None:
    with pytest.raises(DatasetError):
        BuildSettings(**options)
