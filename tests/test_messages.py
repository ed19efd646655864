"""The messages and result objects a user reads: each says what went wrong and
what to do, once, without cutting a number in half or dumping arrays."""

import textwrap

import pytest
from click.testing import CliRunner

from diffcheck.cli import main
from diffcheck.documents.plotdata import SAMPLE_ONE_IN, derivative_finding, in_sample, wanted
from diffcheck.reports import htmlreport, mdreport
from diffcheck.reports.records import report_record
from diffcheck.reports.textreport import clip


def case_file(tmp_path, claim: str) -> str:
    path = tmp_path / "doc.toml"
    path.write_text(textwrap.dedent('''\
        format = 1
        document = "doc.txt"

        [[case]]
        name = "c"
        where = "Sec 1"
        expression = "x**2"
        variables = { x = 3.0 }

        [[case.claim]]
        ''') + claim)
    return str(path)


def audit(*args):
    return CliRunner().invoke(main, ["audit", *args, "--no-reports", "--backend", "engine",
                                     "--backend", "numeric"], catch_exceptions=False)


def test_a_claimed_number_written_without_quotes_says_to_quote_it(tmp_path):
    result = audit(case_file(tmp_path, 'kind = "gradient"\nwrt = "x"\nclaimed = 0.54\n'))
    assert result.exit_code == 2
    said = " ".join(result.output.split())   # rich wraps at the terminal's width
    assert 'write it in quotes, as the document shows it: "0.54"' in said
    # Printed once, as it was met, and no empty summary table.
    assert said.count("0.54 is not of type") == 1
    assert "┏" not in result.output and "no case was checked" in result.output


def test_an_unknown_function_lists_the_known_ones():
    result = CliRunner().invoke(main, ["check", "softmax(x)", "--at", "x=1"])
    assert result.exit_code == 2
    assert "unknown function 'softmax' (the functions are: abs," in result.output
    assert "sigmoid" in result.output and "tanh" in result.output


def test_a_refuted_comparison_claim_shows_the_comparison(tmp_path):
    # x**2 at 3 is 9, which is not < 5: the finding must read "claimed < 5", not "claimed 5".
    result = audit(case_file(tmp_path, 'kind = "value"\nrelation = "<"\nclaimed = "5"\n'))
    assert result.exit_code == 1, result.output
    assert "claimed < 5, true 9" in " ".join(result.output.split())


@pytest.mark.parametrize("text,limit,expected", [
    ("short", 60, "short"),
    ("tensor([0.8022, 1.0000, 1.0000, 0.9973])", 30, "tensor([0.8022, 1.0000,…"),
    ("0.12345678901234567890", 10, "0.1234567…"),       # no boundary: cut, but marked
])
def test_clip_cuts_at_a_boundary_and_says_so(text, limit, expected):
    assert clip(text, limit) == expected
    assert len(clip(text, limit)) <= limit


def pytest_case(outcome: str, verdict: str = "agree") -> dict:
    check = {"expression": "relu(x)", "point": {"x": 0.0}, "wrt": ["x"], "verdict": verdict, "reason": "",
             "value": 0.0, "reference": "symbolic", "backends": {}, "discrepancies": []}
    return {"id": "t.py::test_kink", "file": "t.py", "document": "t.py", "name": "test_kink",
            "where": "t.py::test_kink", "quote": "", "note": "", "expression": "relu(x)", "variables": {},
            "wrt": [], "checks": [check], "scenarios": [], "findings": [], "outcome": outcome}


def test_a_pytest_report_with_a_failed_test_does_not_say_all_is_right():
    # require_differentiable=True fails the test at a kink although the check's
    # verdict (nondifferentiable) is not a problem of the methods.
    record = report_record([pytest_case("failed", "nondifferentiable")], [], True,
                           {"started": "", "seconds": 0.0}, source="pytest")
    page, markdown = htmlreport.render(record), mdreport.render(record)
    assert "Every check agrees" not in markdown and "test failed" in markdown
    assert "1 nondifferentiable" in markdown
    assert "1 test file, 1 test." in markdown                      # not "1 test files"
    assert "Every check agrees" not in page and "the test failed" in page
    passed = report_record([pytest_case("passed")], [], True, {"started": "", "seconds": 0.0}, source="pytest")
    assert "Every check agrees and every test that made one passed." in mdreport.render(passed)


def test_html_evidence_shows_a_few_short_numbers_not_every_random_point():
    evidence = "claimed [0.5547001962252291, 0.5828343340645258, 0.8396101846504216, 0.35241852812126717, " \
               "0.34236847812797216], true [2.0, 1.4210066035728524]"
    assert htmlreport.brief(evidence) == "claimed [0.5547, 0.5828, 0.8396, … 2 more], true [2.0, 1.421]"


class Seen:
    """A case's check as plotdata.wanted reads it."""

    def __init__(self, verdicts=(), findings=()):
        self.checks = [type("Check", (), {"verdict": v}) for v in verdicts]
        self.scenarios = []
        self.findings = [type("Finding", (), {"kind": k, "status": s}) for k, s in findings]


@pytest.mark.parametrize("seen,expected", [
    (Seen(["agree"], [("gradient", "confirmed")]), False),
    (Seen(["discrepancy"]), True),                              # the methods disagree
    (Seen(["agree"], [("gradient", "refuted")]), True),         # a wrong derivative
    (Seen(["agree"], [("value", "refuted")]), False),           # a wrong printed value: no curve helps
])
def test_plots_go_to_findings_about_derivatives(seen, expected):
    assert derivative_finding(seen) is expected
    unsampled = next(f"doc::case-{n}" for n in range(1000) if not in_sample(f"doc::case-{n}"))
    assert wanted(unsampled, seen, "findings") is expected
    assert wanted(unsampled, seen, "all") and not wanted(unsampled, seen, "none")


def test_the_sample_of_agreeing_cases_is_small_and_fixed():
    ids = [f"doc::case-{n}" for n in range(3200)]
    drawn = [i for i in ids if in_sample(i)]
    # crc32 spreads ids evenly: about one in SAMPLE_ONE_IN, the same ones every time.
    assert 0.5 * len(ids) / SAMPLE_ONE_IN < len(drawn) < 1.5 * len(ids) / SAMPLE_ONE_IN
    assert drawn == [i for i in ids if in_sample(i)]


def test_a_swapped_product_rule_lists_each_wrong_number_once():
    torch = pytest.importorskip("torch")
    import diffcheck

    class SwappedMul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * a, g * b      # d(a*b)/da is b, not a: swapped

    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([4.0, 5.0, 6.0], dtype=torch.float64, requires_grad=True)
    result = diffcheck.check(SwappedMul.apply, a, b)
    assert result.verdict == "discrepancy"
    keys = [m.key for m in result.mismatches]
    assert keys and len(keys) == len(set(keys))
    # The Jacobian of a*b is diagonal: entry i of the output moves with entry i of
    # each input, by b[i] for a and a[i] for b; the swapped rule gives the other.
    for m in result.mismatches:
        (i,) = m.entry
        assert m.output_entry == (i,)
        expected = (a[i], b[i]) if m.input == 0 else (b[i], a[i])
        assert (m.value, m.reference) == pytest.approx((float(expected[0]), float(expected[1])), rel=1e-9)
    # A REPL and print show the readable lines, not a dump of the dataclass.
    assert repr(result).startswith("<CallableCheck gradient check: discrepancy") and "Mismatch(" not in repr(result)
    assert str(result) == result.message()
    assert "<table>" in result._repr_html_()
