"""The hostile-file generator makes what it promises (no diffcheck needed)."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
from answerkey import HERE

_spec = importlib.util.spec_from_file_location("hostile_make", HERE / "hostile" / "make.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make.make_hostile(tmp_path_factory.mktemp("gen"))


def test_every_promised_file_is_made(files):
    assert set(files) == set(make.PURPOSE)


def test_the_huge_notebook_is_valid_json_with_a_megabyte_of_output(files):
    nb = json.loads(files["huge_outputs.ipynb"].read_text())
    assert len(nb["cells"][1]["outputs"][0]["text"]) >= 1_000_000


def test_the_deep_notebook_defeats_the_json_module(files):
    with pytest.raises(RecursionError):
        json.loads(files["deep_nesting.ipynb"].read_text())


@pytest.mark.parametrize("name", ["invalid_json.ipynb", "empty.ipynb"])
def test_broken_notebooks_are_not_json(files, name):
    with pytest.raises(json.JSONDecodeError):
        json.loads(files[name].read_text())


def test_the_binary_markdown_is_not_text(files):
    with pytest.raises(UnicodeDecodeError):
        files["binary.md"].read_bytes().decode("utf-8")


def test_the_unbalanced_markdown_opens_display_math_it_never_closes(files):
    assert files["unbalanced_dollars.md"].read_text().count("$$") == 1


def test_the_long_markdown_is_40_kb_of_varied_sections(tmp_path):
    text = make.make_long_markdown(tmp_path).read_text()
    assert len(text.encode()) >= 40_000
    slopes = re.findall(r"the slope is \$(\d+)\$", text)
    assert len(set(slopes)) >= 5                 # not one section repeated


def test_the_long_markdown_values_follow_from_its_formulas(tmp_path):
    # f(x) = a x^3 + b x, f'(x) = 3a x^2 + b: recompute every stated slope.
    text = make.make_long_markdown(tmp_path).read_text()
    sections = re.findall(r"f\(x\) = (\d*)x\^3 \+ (\d+)x\$.*?at \$x = (\d+)\$ the slope is \$(\d+)\$", text, re.DOTALL)
    assert sections
    for a, b, x, slope in sections:
        a = int(a or 1)
        assert 3 * a * int(x) ** 2 + int(b) == int(slope)
