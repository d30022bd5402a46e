"""Every malformed file is refused with a message that names the file, line and value, and
says how to fix it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from embedgate.datasets import load_beir, load_dataset, load_golden
from embedgate.errors import DatasetError

if TYPE_CHECKING:
    from collections.abc import Callable


def error_of(load: Callable[..., Any], *args: Any, **kwargs: Any) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        load(*args, **kwargs)
    return info.value


def assert_says(err: DatasetError, where: str, *parts: str) -> None:
    """``where`` is ``"<file> line <n>"`` (or just the file); every part is in the message."""
    text = str(err)
    assert re.search(rf"(^|/){re.escape(where)}: ", text), text
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"


# --- JSON Lines files -------------------------------------------------------------------


def test_malformed_json_names_line_column_and_what_json_said(make_beir, toy):
    toy["corpus"].insert(1, '{"_id": "d9" "text": "x"}')
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(
        err,
        "corpus.jsonl line 2",
        "not valid JSON: Expecting ',' delimiter at column 14",
        "near",
        "one complete JSON object",
    )
    assert err.line == 2
    assert err.path is not None
    assert err.path.name == "corpus.jsonl"


def test_pretty_printed_json_is_refused_with_a_hint(make_beir):
    err = error_of(load_beir, make_beir(corpus=["{", '  "_id": "d1",', '  "text": "x"', "}"]))
    assert_says(err, "corpus.jsonl line 1", "not valid JSON", "pretty-printed")


def test_a_line_that_is_not_an_object_is_refused(make_beir, toy):
    toy["queries"].append('["q4", "text"]')
    err = error_of(load_beir, make_beir(queries=toy["queries"]))
    assert_says(
        err, "queries.jsonl line 4", "expected a JSON object, found an array", "one object a line"
    )


def test_missing_doc_id_is_refused(make_beir, toy):
    del toy["corpus"][2]["_id"]
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(err, "corpus.jsonl line 3", 'missing required field "_id"', "Add it, e.g.")


def test_missing_text_is_refused_and_a_near_key_is_named(make_beir, toy):
    toy["corpus"][1]["txt"] = toy["corpus"][1].pop("text")
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(err, "corpus.jsonl line 2", 'missing required field "text"', '(found "txt"')


def test_missing_query_text_is_refused(make_beir, toy):
    del toy["queries"][0]["text"]
    err = error_of(load_beir, make_beir(queries=toy["queries"]))
    assert_says(err, "queries.jsonl line 1", 'missing required field "text"')


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("text", 42, "the number 42"),
        ("text", None, "null"),
        ("text", ["a"], 'an array ["a"]'),
        ("title", {"t": 1}, "an object"),
    ],
)
def test_a_text_field_of_the_wrong_type_is_refused(make_beir, toy, field, value, found):
    toy["corpus"][0][field] = value
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(err, "corpus.jsonl line 1", f'"{field}" must be a string, found {found}', "quotes")


@pytest.mark.parametrize(
    ("value", "found"),
    [(1.5, "the number 1.5"), (True, "true"), (None, "null"), (["d1"], "an array")],
)
def test_an_id_of_the_wrong_type_is_refused(make_beir, toy, value, found):
    toy["corpus"][0]["_id"] = value
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(err, "corpus.jsonl line 1", f'doc id "_id" must be a string, found {found}')


@pytest.mark.parametrize("value", ["", " d1", "d1 ", "d\t1"])
def test_an_empty_or_padded_id_is_refused(make_beir, toy, value):
    toy["corpus"][0]["_id"] = value
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(err, "corpus.jsonl line 1", "doc id")
    assert "empty" in str(err) or "whitespace" in str(err)


def test_id_and_its_alias_must_agree(make_beir, toy):
    toy["corpus"][1]["id"] = "other"
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(err, "corpus.jsonl line 2", "\"_id\" 'd2' and \"id\" 'other' disagree")


def test_duplicate_doc_id_names_the_first_line(make_beir, toy):
    toy["corpus"].append({"_id": "d2", "text": "again"})
    err = error_of(load_beir, make_beir(corpus=toy["corpus"]))
    assert_says(
        err, "corpus.jsonl line 4", "doc id 'd2' already appeared on line 2", "Ids must be unique"
    )


def test_duplicate_query_id_names_the_first_line(make_beir, toy):
    toy["queries"].insert(2, {"_id": "q1", "text": "again"})
    err = error_of(load_beir, make_beir(queries=toy["queries"]))
    assert_says(err, "queries.jsonl line 3", "query id 'q1' already appeared on line 1")


def test_non_utf8_bytes_name_line_and_byte_offset(make_beir):
    root = make_beir()
    good = b'{"_id": "d1", "text": "ok"}\n'
    bad = '{"_id": "d2", "text": "caf\u00e9"}\n'.encode("latin-1")
    (root / "corpus.jsonl").write_bytes(good + bad)
    err = error_of(load_beir, root)
    column = bad.index(b"\xe9")
    offset = len(good) + column
    assert_says(
        err,
        "corpus.jsonl line 2",
        f"byte 0xe9 at byte offset {offset} of the file",
        f"(byte {column + 1} of the line)",
        "Re-encode the file as UTF-8",
    )


def test_crlf_line_ends_bom_and_blank_lines_are_accepted(make_beir):
    root = make_beir()
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        path = root / name
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    ds = load_beir(root)
    assert ds.doc_ids == ("d1", "d2", "d3")
    assert ds.query_ids == ("q1", "q2", "q3")


def test_integer_ids_are_read_as_strings(make_beir):
    root = make_beir(
        corpus=[{"_id": 12, "text": "twelve"}, {"_id": "13", "text": "thirteen"}],
        queries=[{"_id": 1, "text": "which is twelve"}],
        qrels=["query-id\tcorpus-id\tscore", "1\t12\t1"],
    )
    ds = load_beir(root)
    assert ds.doc_ids == ("12", "13")
    assert ds.qrels == {"1": {"12": 1}}


def test_integer_and_string_spelling_of_one_id_collide(make_beir):
    err = error_of(
        load_beir, make_beir(corpus=[{"_id": 7, "text": "a"}, {"_id": "7", "text": "b"}])
    )
    assert_says(err, "corpus.jsonl line 2", "doc id '7' already appeared on line 1")


def test_judged_query_with_empty_text_is_refused(make_beir, toy):
    toy["queries"][1]["text"] = "  "
    err = error_of(load_beir, make_beir(queries=toy["queries"]))
    assert_says(err, "queries.jsonl line 2", "query 'q2' is judged but its text is empty")


def test_unjudged_query_with_empty_text_is_ignored(make_beir, toy):
    toy["queries"].append({"_id": "q9", "text": ""})
    ds = load_beir(make_beir(queries=toy["queries"]))
    assert "q9" not in ds.query_ids


# --- missing and empty files ------------------------------------------------------------


def test_missing_corpus_file_lists_what_the_folder_holds(make_beir):
    root = make_beir()
    (root / "corpus.jsonl").unlink()
    err = error_of(load_beir, root)
    assert_says(err, "corpus.jsonl", "file not found", "needs corpus.jsonl", "holds: qrels/")


def test_missing_queries_file_is_named(make_beir):
    root = make_beir()
    (root / "queries.jsonl").unlink()
    err = error_of(load_beir, root)
    assert_says(err, "queries.jsonl", "file not found", "needs queries.jsonl")


def test_missing_folder_is_named(tmp_path):
    err = error_of(load_dataset, tmp_path / "nope")
    assert_says(err, "nope", "dataset folder does not exist")


def test_empty_corpus_is_refused(make_beir):
    err = error_of(load_beir, make_beir(corpus=["", "  "]))
    assert_says(err, "corpus.jsonl", "holds no documents", "Add one JSON object a line")


def test_empty_queries_file_is_refused(make_beir):
    err = error_of(load_beir, make_beir(queries=[]))
    assert_says(err, "queries.jsonl", "holds no queries")


def test_missing_split_lists_the_splits_there_are(make_beir):
    root = make_beir()
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    err = error_of(load_beir, root, split="dev")
    assert_says(
        err,
        "qrels/dev.tsv",
        "no qrels for split 'dev'",
        "Splits here: test, train; pass one of them as split",
    )


def test_missing_qrels_folder_is_named(make_beir):
    root = make_beir()
    (root / "qrels" / "test.tsv").unlink()
    (root / "qrels").rmdir()
    err = error_of(load_beir, root)
    assert_says(err, "toy", "no qrels/ folder", "qrels/test.tsv")


def test_empty_qrels_file_is_refused(make_beir):
    err = error_of(load_beir, make_beir(qrels=[]))
    assert_says(err, "qrels/test.tsv", "is empty", "query-id\\tcorpus-id\\tscore")


def test_qrels_with_only_a_header_is_refused(make_beir):
    err = error_of(load_beir, make_beir(qrels=["query-id\tcorpus-id\tscore"]))
    assert_says(err, "qrels/test.tsv", "holds a header but no judgements")


# --- qrels TSV --------------------------------------------------------------------------


def test_unknown_doc_in_qrels_reads_as_the_house_example(make_beir, toy):
    toy["qrels"].insert(3, "q2\tD912\t1")
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert str(err).endswith(
        "qrels/test.tsv line 4: doc id 'D912' is not in corpus.jsonl. Fix the id or drop the line."
    )


def test_unknown_query_in_qrels_is_refused(make_beir, toy):
    toy["qrels"].append("q404\td1\t1")
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert_says(
        err,
        "qrels/test.tsv line 6",
        "query id 'q404' is not in queries.jsonl. Fix the id or drop the line.",
    )


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("q1\td1", "found 2: 'q1\\td1'. Write query-id<TAB>corpus-id<TAB>score"),
        ("q1 d1 1", "found 1: 'q1 d1 1'. The columns look separated by spaces: use tabs"),
        ("q1 0 d1 1", "found 1: 'q1 0 d1 1'. It looks like a TREC qrels line"),
        ("q1\td1\t1\textra", "found 4"),
    ],
)
def test_wrong_column_count_is_refused_with_a_hint(make_beir, toy, line, hint):
    toy["qrels"].insert(2, line)
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert_says(err, "qrels/test.tsv line 3", "expected 3 tab-separated columns", hint)


def test_missing_header_is_refused(make_beir, toy):
    err = error_of(load_beir, make_beir(qrels=toy["qrels"][1:]))
    assert_says(
        err,
        "qrels/test.tsv line 1",
        "missing header: the first line must be 'query-id\\tcorpus-id\\tscore'",
        "found the judgement 'q1\\td1\\t2'",
        "Add the header as line 1",
    )


def test_unexpected_header_is_refused(make_beir, toy):
    toy["qrels"][0] = "qid\tdocid\trel"
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert_says(
        err, "qrels/test.tsv line 1", "unexpected header 'qid\\tdocid\\trel'", "Fix the first line"
    )


@pytest.mark.parametrize("score", ["1.0", "high", "", "1e3"])
def test_non_integer_score_is_refused(make_beir, toy, score):
    toy["qrels"].append(f"q3\td1\t{score}")
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert_says(err, "qrels/test.tsv line 6", f"score {score!r} is not an integer", "whole number")


def test_negative_score_is_refused(make_beir, toy):
    toy["qrels"].append("q3\td1\t-1")
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert_says(
        err, "qrels/test.tsv line 6", "score -1 is negative", "Use 0 for judged not relevant"
    )


def test_conflicting_repeat_judgement_is_refused(make_beir, toy):
    toy["qrels"].append("q1\td1\t1")
    err = error_of(load_beir, make_beir(qrels=toy["qrels"]))
    assert_says(
        err,
        "qrels/test.tsv line 6",
        "query 'q1' and doc 'd1' were judged 2 on line 2; this line says 1",
        "Keep one of the two lines",
    )


def test_qrels_cells_are_stripped_of_spaces(make_beir, toy):
    toy["qrels"][1] = "q1 \t d1\t2 "
    ds = load_beir(make_beir(qrels=toy["qrels"]))
    assert ds.qrels["q1"] == {"d1": 2}


# --- golden.jsonl -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relevant", "found"),
    [
        (["d1", "d2"], 'found an array ["d1", "d2"]'),
        ("d1", "found the string 'd1'"),
        (2, "found the number 2"),
    ],
)
def test_relevant_that_is_not_a_mapping_is_refused(make_golden, toy, relevant, found):
    toy["golden"][1]["relevant"] = relevant
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(
        err,
        "golden.jsonl line 2",
        '"relevant" must be an object of doc ids to grades, e.g. {"d1": 2, "d7": 1}',
        "2 = answers the query, 1 = related, 0 = judged not relevant",
        found,
    )


@pytest.mark.parametrize(
    ("grade", "found"),
    [
        ("2", "the string '2' is not an integer. Use a whole number without quotes: 2"),
        (1.5, "the number 1.5 is not an integer"),
        (True, "true is not an integer"),
        (None, "null is not an integer"),
    ],
)
def test_grade_that_is_not_an_integer_is_refused(make_golden, toy, grade, found):
    toy["golden"][0]["relevant"]["d2"] = grade
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 1", f"grade of doc 'd2' is {found}", "whole number")


def test_negative_grade_is_refused(make_golden, toy):
    toy["golden"][1]["relevant"]["d3"] = -1
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 2", "grade of doc 'd3' is -1 is negative", "Use 0")


def test_relevant_doc_not_in_corpus_is_refused(make_golden, toy):
    toy["golden"][1]["relevant"]["d404"] = 1
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(
        err,
        "golden.jsonl line 2",
        "\"relevant\" names doc id 'd404', which is not in corpus.jsonl",
        'remove it from "relevant"',
    )


def test_missing_relevant_is_refused(make_golden, toy):
    del toy["golden"][0]["relevant"]
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 1", 'missing required field "relevant"', '"d1": 2')


def test_misspelt_field_is_refused_with_a_suggestion(make_golden, toy):
    toy["golden"][1]["relevent"] = toy["golden"][1].pop("relevant")
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 2", 'unknown field "relevent". Did you mean "relevant"?')


def test_language_key_suggests_lang(make_golden, toy):
    toy["golden"][1]["language"] = toy["golden"][1].pop("lang")
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 2", 'unknown field "language". Did you mean "lang"?')


def test_tag_values_must_be_strings(make_golden, toy):
    toy["golden"][0]["tags"] = {"priority": 2}
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(
        err,
        "golden.jsonl line 1",
        'tag "priority" must be a string',
        'Quote it, e.g. {"priority": "2"}',
    )


def test_tags_must_be_an_object(make_golden, toy):
    toy["golden"][0]["tags"] = ["billing"]
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 1", '"tags" must be an object of names to strings')


def test_lang_must_be_a_string(make_golden, toy):
    toy["golden"][0]["lang"] = 7
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 1", '"lang" must be a language tag such as "de"')


def test_duplicate_golden_query_id_names_the_first_line(make_golden, toy):
    toy["golden"][1]["id"] = "q1"
    err = error_of(load_golden, make_golden(golden=toy["golden"]))
    assert_says(err, "golden.jsonl line 2", "query id 'q1' already appeared on line 1")


def test_golden_has_no_other_split(make_golden):
    err = error_of(load_dataset, make_golden(), split="train")
    assert_says(err, "golden.jsonl", "a golden set has no split 'train'", "Leave split")


def test_empty_golden_file_is_refused(make_golden):
    err = error_of(load_golden, make_golden(golden=[]))
    assert_says(err, "golden.jsonl", "holds no queries")


def test_golden_without_any_judgement_is_refused(make_golden):
    err = error_of(load_golden, make_golden(golden=[{"id": "q1", "text": "x", "relevant": {}}]))
    assert_says(err, "golden.jsonl", 'every "relevant" is empty')


def test_golden_needs_a_corpus_next_to_it(make_golden):
    root = make_golden()
    (root / "corpus.jsonl").unlink()
    err = error_of(load_dataset, root)
    assert_says(err, "corpus.jsonl", "file not found", "needs corpus.jsonl next to golden.jsonl")
