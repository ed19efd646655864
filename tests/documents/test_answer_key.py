"""The answer key itself: every claim it lists stands where it says, in the words it quotes.

These tests need nothing from diffcheck; they keep `expected.toml` honest when a
document is edited.
"""

from __future__ import annotations

import pytest
from answerkey import HERE, KEY_PATH, load_key, notebook_cells, text_at

KEY = load_key()
CLAIMS = [c for doc in KEY for c in doc.claims]
KINDS = {"value", "gradient", "formula", "derivation", "accumulate", "descent",
         "second_derivative", "runs", "unread"}
FORMAT_OF_SUFFIX = {".ipynb", ".md", ".txt", ".py", ".tex", ".rst"}


def test_every_document_in_the_folder_has_a_key_and_every_key_a_document():
    on_disk = {p.name for p in HERE.iterdir() if p.suffix in FORMAT_OF_SUFFIX
               and p.name not in ("answerkey.py", "README.md") and not p.name.startswith("test_")}
    assert on_disk == {d.file for d in KEY}


def test_every_format_has_at_least_two_documents():
    suffixes = [d.file.rsplit(".", 1)[1] for d in KEY]
    assert {s: suffixes.count(s) for s in set(suffixes)} == \
        {s: max(2, suffixes.count(s)) for s in ("ipynb", "md", "txt", "py", "tex", "rst")}


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.file}:{c.cell}:{c.line}")
def test_claim_quote_stands_on_its_line(claim):
    assert claim.quote in text_at(claim), claim.describe()


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.file}:{c.cell}:{c.line}")
def test_claim_is_described_enough_to_judge(claim):
    assert claim.kind in KINDS
    if claim.kind == "unread":
        assert claim.reason, claim.describe()
    elif not claim.right:
        assert claim.why, claim.describe()


def test_each_document_plants_at_least_one_mistake_and_states_right_claims():
    for doc in KEY:
        assert doc.mistakes(), doc.file
        assert sum(c.right and c.kind != "unread" for c in doc.claims) >= 3, doc.file


def test_notebooks_parse_with_nbformat_in_the_versions_they_claim():
    nbformat = pytest.importorskip("nbformat")
    versions = {}
    for doc in KEY:
        if doc.file.endswith(".ipynb"):
            nb = nbformat.read(str(doc.path), as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
            versions[doc.file] = (nb.nbformat, nb.nbformat_minor)
            assert notebook_cells(doc.path)
    assert sorted(versions.values()) == [(3, 0), (4, 0), (4, 5)]


def test_key_file_is_valid_toml_with_one_entry_per_document():
    assert KEY_PATH.exists()
    assert len({d.file for d in KEY}) == len(KEY)
