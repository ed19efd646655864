"""Readers: every format gives located blocks in order; hostile input gives a located problem."""

import nbformat

from diffcheck.reading import latex, markdown, notebook, rst, script, textexport
from diffcheck.reading.detect import is_document, read_document


def kinds(document):
    return [(b.kind, b.location.cell, b.location.line, b.text) for b in document.blocks]


def test_markdown_inline_display_math_and_fenced_code_are_located():
    text = "# Title\n\nLet $f(x) = x^2$ here.\n\n$$\nf'(x) = 2x\n$$\n\n```python\ny = 1  # >>> 1\n```\n"
    doc = markdown.read("a.md", text)
    assert doc.title == "Title"
    assert kinds(doc) == [
        ("prose", None, 1, "Title"),
        ("prose", None, 3, "Let $f(x) = x^2$ here."),
        ("math", None, 3, "f(x) = x^2"),
        ("math", None, 5, "f'(x) = 2x"),
        ("code", None, 10, "y = 1  # >>> 1"),
        ("output", None, 10, "1"),
    ]
    assert doc.blocks[-1].of == 4 and doc.blocks[4].language == "python"


def test_markdown_bracket_math_and_unbalanced_dollar():
    doc = markdown.read("a.md", "Here \\(x^2\\) and a price of $5 only.\n")
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("prose", "Here \\(x^2\\) and a price of $5 only."), ("math", "x^2")]


def test_text_export_splits_code_output_and_prose():
    text = ("Intro.\n\nIn [3]:\nx = 2\nprint(x * 3)\n\n6\n\n\nThe product is $x = 2$ times three.\n\n"
            "In [None]:\nimport torch\n\n# comment\ny = 1\n\n## Next heading\n")
    doc = textexport.read("n.txt", text)
    assert kinds(doc) == [
        ("prose", None, 1, "Intro."),
        ("code", "In [3]", 4, "x = 2\nprint(x * 3)"),
        ("output", "In [3]", 7, "6"),
        ("prose", None, 10, "The product is $x = 2$ times three."),
        ("math", None, 10, "x = 2"),
        ("code", "In [ ] (line 12)", 13, "import torch\n\n# comment\ny = 1"),
        ("prose", None, 18, "Next heading"),
    ]
    assert doc.blocks[2].of == 1


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nbformat.writes(nb)


def test_notebook_cells_outputs_and_execution_counts():
    code = nbformat.v4.new_code_cell("y = 3\ny", execution_count=4)
    code.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "3"}, execution_count=4),
                    nbformat.v4.new_output("stream", text="hello\n")]
    text = _notebook([nbformat.v4.new_markdown_cell("# T\n\n$y = 3$"), code])
    doc = notebook.read("n.ipynb", text)
    assert kinds(doc) == [
        ("prose", "cell 1", 1, "T"), ("prose", "cell 1", 3, "$y = 3$"), ("math", "cell 1", 3, "y = 3"),
        ("code", "In [4]", 1, "y = 3\ny"), ("output", "In [4]", 1, "3"), ("output", "In [4]", 1, "hello"),
    ]


def test_notebook_huge_output_is_one_problem():
    code = nbformat.v4.new_code_cell("print(0)", execution_count=1)
    code.outputs = [nbformat.v4.new_output("stream", text="0" * (1024 * 1024))]
    doc = notebook.read("big.ipynb", _notebook([code]))
    assert doc.problems == ["big.ipynb: In [1], line 1: output of 1048576 characters not read (the limit is 100000)"]
    assert [b.kind for b in doc.blocks] == ["code"]


def test_notebook_nested_and_invalid_json_are_located_problems():
    deep = "[" * 100000 + "]" * 100000
    assert notebook.read("deep.ipynb", deep).problems == [
        "deep.ipynb: line 1: not read: the notebook's JSON is nested too deeply"]
    bad = notebook.read("bad.ipynb", '{"cells": [}')
    assert len(bad.problems) == 1 and bad.problems[0].startswith("bad.ipynb: line 1: not read: invalid JSON")


def test_script_percent_cells_docstrings_and_comments():
    text = ('"""Squares: $f(x) = x^2$."""\n# %% [markdown]\n# The derivative is $2x$.\n'
            "# %%\nx = 3\n# Output: 9\n")
    doc = script.read("s.py", text)
    assert kinds(doc) == [
        ("code", "%% 1", 1, '"""Squares: $f(x) = x^2$."""'),
        ("prose", "%% 1", 1, "Squares: $f(x) = x^2$."), ("math", "%% 1", 1, "f(x) = x^2"),
        ("prose", "%% 2", 3, "The derivative is $2x$."), ("math", "%% 2", 3, "2x"),
        ("code", "%% 3", 5, "x = 3\n# Output: 9"), ("output", "%% 3", 6, "9"),
    ]


def test_latex_math_environments_and_inline_math():
    text = "\\begin{document}\nLet $f(x) = x^3$.\n\\begin{equation}\nf'(x) = 3x^2\n\\end{equation}\n\\end{document}\n"
    doc = latex.read("n.tex", text)
    maths = [(b.location.line, b.display, b.text) for b in doc.blocks if b.kind == "math"]
    assert maths == [(2, False, "f(x) = x^3"), (3, True, "f'(x) = 3x^2")]


def test_rst_math_directive_role_and_code():
    text = "Let :math:`f(x) = x^2`.\n\n.. math::\n\n   f'(x) = 2x\n\n.. code-block:: python\n\n   y = 1\n"
    doc = rst.read("n.rst", text)
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("prose", "Let f(x) = x^2."), ("math", "f(x) = x^2"), ("math", "f'(x) = 2x"), ("code", "y = 1")]
    assert doc.blocks[2].location.line == 5      # the formula itself stands on line 5


def test_detect_by_extension_and_content(tmp_path):
    export = tmp_path / "n.txt"
    export.write_text("In [1]:\nx = 1\n")
    assert read_document(export).blocks[0].location.cell == "In [1]"
    assert is_document("a.ipynb") and is_document("b.tex") and not is_document("cases.toml")
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\xff\xfe")
    assert read_document(binary).problems == [f"{binary}: line 1: not UTF-8 text (byte 0); not read"]
    missing = read_document(tmp_path / "none.md").problems
    assert len(missing) == 1 and missing[0].endswith("cannot read: No such file or directory")


def test_rst_nested_thousands_deep_is_refused_quickly():
    # docutils would take minutes; the first line indented past the limit is named
    text = "".join("  " * i + "- item\n" for i in range(3000))
    assert rst.read("deep.rst", text).problems == [
        "deep.rst: line 82: indented 162 columns (more than 160); reStructuredText nested this deep is not read"]


def test_text_export_with_a_megabyte_of_output_is_read_without_trouble():
    text = "In [1]:\nprint(1)\n\n" + "tensor(1.)\n" * 100_000
    doc = textexport.read("big.txt", text)
    assert [b.kind for b in doc.blocks] == ["code", "output"]
    assert doc.blocks[1].text.count("tensor(1.)") == 100_000
