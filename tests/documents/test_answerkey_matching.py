"""The matcher the corpus tests use: tolerant of where a tool says a claim is,
strict on what it says about it.  Findings here are made up by hand."""

from __future__ import annotations

from types import SimpleNamespace

from answerkey import load_key, parse_where, score

DOCS = {d.file: d for d in load_key()}


def finding(where, quote="", status="refuted", **extra):
    return {"where": where, "quote": quote, "status": status, **extra}


def test_parse_where_reads_the_usual_conventions():
    assert parse_where("chain_rule_notes.tex: line 16") == (16, None)
    assert parse_where("In [4], line 3") == (3, "In [4]")
    assert parse_where("cell 7, line 2") == (2, "cell 7")
    assert parse_where("doc.md:25") == (25, None)


def test_a_refutation_two_lines_off_finds_the_planted_mistake():
    doc = DOCS["chain_rule_notes.tex"]            # sin(2x) planted on line 16
    s = score(doc, [finding("line 18")])
    assert "#1" in s.found and not s.false_alarms


def test_a_refutation_three_lines_off_does_not():
    doc = DOCS["chain_rule_notes.tex"]
    s = score(doc, [finding("line 19")])
    assert "#1" not in s.found


def test_a_quote_finds_the_mistake_wherever_the_line_is_counted():
    doc = DOCS["chain_rule_notes.tex"]
    s = score(doc, [finding("equation 2", r"\frac{d}{dx}\sin(2x) = \cos(2x)")])
    assert "#1" in s.found


def test_a_confirmed_claim_on_the_mistake_does_not_find_it():
    doc = DOCS["chain_rule_notes.tex"]
    s = score(doc, [finding("line 16", r"\sin(2x)", status="confirmed")])
    assert "#1" not in s.found


def test_refuting_a_right_claim_is_a_false_alarm_even_beside_a_mistake():
    # Line 25 is the wrong middle step; line 26, one line down, is the right last
    # step, quoted exactly: the quote decides.
    doc = DOCS["chain_rule_notes.tex"]
    s = score(doc, [finding("line 26", "&= 6x(x^2+1)^2 .")])
    assert s.false_alarms and not s.found


def test_a_refutation_where_the_key_has_nothing_is_unexplained():
    doc = DOCS["chain_rule_notes.tex"]
    s = score(doc, [finding("line 3")])
    assert s.unexplained


def test_notebook_cells_match_by_index_index_plus_one_or_execution_count():
    doc = DOCS["autograd_basics.ipynb"]           # h'(1) = 5.4366 planted in cell 8 (In [5])
    planted = next(m for m, cs in doc.mistakes().items() if cs[0].cell == 8)
    for label in ("cell 8", "cell 9", "In [5]"):
        assert planted in score(doc, [finding(f"{label}, line 1")]).found, label
    assert planted not in score(doc, [finding("In [4], line 1")]).found


def test_grouped_statements_of_one_mistake_count_once():
    doc = DOCS["autograd_pitfalls.txt"]
    s = score(doc, [finding("line 29", "gives the same gradient again")])
    assert "pitfalls-accumulate" in s.found
    assert all(c.mistake != "pitfalls-accumulate" for c in s.missed)


def test_code_that_cannot_run_may_be_found_as_a_located_problem():
    doc = DOCS["autograd_pitfalls.txt"]           # dtpye= on line 76
    s = score(doc, [], problems=["autograd_pitfalls.txt: line 76: torch.tensor has no keyword dtpye"])
    assert any(c.quote == "dtpye=torch.float32" for m in s.found for c in doc.mistakes()[m])


def test_a_wrong_value_found_only_as_unread_is_missed():
    doc = DOCS["chain_rule_notes.tex"]
    unread = [SimpleNamespace(location=SimpleNamespace(path="x", line=16, cell=None),
                              quote=r"\sin(2x)", reason="could not parse")]
    assert "#1" not in score(doc, [], unread).found


def test_unread_passages_match_by_location_or_quote():
    doc = DOCS["chain_rule_notes.tex"]
    by_line = SimpleNamespace(location=SimpleNamespace(path="x", line=51, cell=None),
                              quote="", reason="Bessel")
    by_quote = SimpleNamespace(location=SimpleNamespace(path="x", line=None, cell=None),
                               quote=r"-J_1(1) \approx -0.4401", reason="Bessel")
    s = score(doc, [], [by_line, by_quote])
    assert not s.unread_missing


def _where(c):
    return f"cell {c.cell}, line {c.line}" if c.cell is not None else f"{c.file}: line {c.line}"


def test_a_tool_refuting_exactly_the_planted_claims_scores_perfectly():
    for doc in DOCS.values():
        unread = [SimpleNamespace(location=SimpleNamespace(path=doc.file, line=c.line,
                                                           cell=None if c.cell is None else f"cell {c.cell}"),
                                  quote=c.quote, reason="outside the language") for c in doc.unread()]
        s = score(doc, [finding(_where(c), c.quote) for c in doc.claims if not c.right], unread)
        assert (s.missed, s.false_alarms, s.unexplained, s.unread_missing) == ([], [], [], []), doc.file
        assert len(s.found) == len(doc.mistakes())


def test_a_tool_refuting_every_right_claim_finds_nothing_and_alarms_on_each():
    for doc in DOCS.values():
        right = [c for c in doc.claims if c.right and c.kind != "unread"]
        s = score(doc, [finding(_where(c), c.quote) for c in right])
        assert not s.found, doc.file
        assert len(s.false_alarms) == len(right), doc.file
