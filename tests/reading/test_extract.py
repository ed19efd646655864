"""Extraction to case files: written with tomli-w, loaded back by the catalogue loader."""

import tomllib

from diffcheck.documents.catalogue import load
from diffcheck.reading.extract import extract, to_case_file

DOCUMENT = """# Derivatives

Let $f(x) = x^3 + 2x$. Then $f'(x) = 3x^2 + 2$.

And $f''(x) = 6x$.

$$\\frac{dL}{dw} = \\sum_{i=1}^{n} x_i$$
"""


def test_cases_are_named_uniquely_and_unread_is_listed(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(DOCUMENT)
    extraction = extract(path)
    assert [c["name"] for c in extraction.cases] == ["line-3", "line-5"]
    text = to_case_file(extraction)
    assert "# unread:\n# - line 7: " in text
    assert "L is not defined before this derivative" in text
    data = tomllib.loads(text)
    assert data["format"] == 1 and data["document"] == "notes.md" and data["title"] == "Derivatives"
    # f'' = 6x is found, but the audit checks first derivatives: listed unread, not written as a claim
    assert [c["name"] for c in data["case"]] == ["line-3"]
    assert "f''(x) = 6x\": a derivative of order 2" in text


def test_strict_case_file_loads_back_with_the_catalogue_loader(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(DOCUMENT)
    target = tmp_path / "notes.toml"
    target.write_text(to_case_file(extract(path), strict=True))
    loaded = load(target)
    assert loaded.errors == []
    # f'' = 6x cannot be a format-1 claim (it would be checked as a first derivative): listed unread
    assert [c.name for c in loaded.cases] == ["line-3"]
    assert loaded.cases[0].claims[0].kind == "formula"
    assert ("# - line 5: \"f''(x) = 6x\": a derivative of order 2; case format 1 checks first "
            "derivatives only") in target.read_text()


def test_strict_review_becomes_a_note(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("$$f = qz \\quad \\text{where} \\quad q = x + y$$\n\n$$\\frac{\\partial f}{\\partial z} = q$$\n")
    target = tmp_path / "notes.toml"
    target.write_text(to_case_file(extract(path), strict=True))
    loaded = load(target)
    assert loaded.errors == [] and "REVIEW: the reader was unsure of this case" in loaded.cases[0].note


def test_the_schema_accepts_what_the_reader_was_unsure_of(tmp_path):
    # `review = true` marks what a person should look at; the case file still loads
    path = tmp_path / "notes.md"
    path.write_text("$$f = qz \\quad \\text{where} \\quad q = x + y$$\n\n$$\\frac{\\partial f}{\\partial z} = q$$\n")
    target = tmp_path / "notes.toml"
    target.write_text(to_case_file(extract(path)))
    assert "review = true" in target.read_text()
    assert load(target).errors == []


def test_hostile_documents_give_problems_not_tracebacks(tmp_path):
    deep = tmp_path / "deep.ipynb"
    deep.write_text("[" * 100000 + "]" * 100000)
    extraction = extract(deep)
    assert extraction.problems == [f"{deep}: line 1: not read: the notebook's JSON is nested too deeply"]
    assert to_case_file(extraction).endswith("# no cases found\n")


def test_a_failing_finder_is_a_problem_and_the_other_finders_still_run(tmp_path, monkeypatch):
    from diffcheck.reading import extract as extraction_module

    def broken(document):
        raise ValueError("cannot follow this cell")

    monkeypatch.setattr(extraction_module, "_finders", lambda: iter([("code", broken),
                                                                     ("math", extraction_module.mathfinder.find)]))
    path = tmp_path / "notes.md"
    path.write_text(DOCUMENT)
    extraction = extract(path)
    assert extraction.problems == [f"{path}: the code finder failed: ValueError: cannot follow this cell"]
    assert [c["name"] for c in extraction.cases] == ["line-3", "line-5"]


def test_a_subscripted_capital_applied_to_an_argument_is_a_named_function_not_a_product():
    from diffcheck.reading.latexexpr import translate
    # J_0(x) is Bessel's J_0 at x, not J_0 times x; w_1(x + 1) stays a product.
    assert translate("-J_1(x)").expression is None
    assert "named function" in translate("-J_1(x)").reason
    assert translate("w_1(x+1)").expression == "w_1 * (x + 1)"
