"""Trajectory expectations: strict, unordered, subset, superset; arguments exact or partial."""

import pytest

from castling.scenarios.expectations import check
from castling.scenarios.format import Expectation, Outcome, ToolCallOutcome

PARIS = {"name": "weather", "args": {"city": "Paris"}}
ROME = {"name": "weather", "args": {"city": "Rome"}}


def _run(*calls: tuple[str, dict]) -> Outcome:
    return Outcome(tool_calls=[ToolCallOutcome(name=n, arguments=a) for n, a in calls])


def _verdict(mode: str, reference: list[dict], outcome: Outcome, args: str = "exact") -> str:
    return check(Expectation(trajectory={"calls": reference, "mode": mode, "args": args}), outcome)


PARIS_THEN_ROME = _run(("weather", {"city": "Paris"}), ("weather", {"city": "Rome"}))
ROME_THEN_PARIS = _run(("weather", {"city": "Rome"}), ("weather", {"city": "Paris"}))
PARIS_ONLY = _run(("weather", {"city": "Paris"}))


@pytest.mark.parametrize(
    ("mode", "outcome", "met"),
    [
        ("strict", PARIS_THEN_ROME, True),
        ("strict", ROME_THEN_PARIS, False),
        ("unordered", ROME_THEN_PARIS, True),
        ("unordered", PARIS_ONLY, False),
        ("subset", PARIS_ONLY, True),  # nothing beyond the reference
        ("subset", _run(("weather", {"city": "Paris"}), ("capital_of", {"country": "Japan"})), False),
        (
            "superset",
            _run(("capital_of", {"country": "Japan"}), *[(c.name, c.arguments) for c in ROME_THEN_PARIS.tool_calls]),
            True,
        ),
        ("superset", PARIS_ONLY, False),
    ],
)
def test_each_mode_against_paris_then_rome(mode: str, outcome: Outcome, met: bool):
    verdict = _verdict(mode, [PARIS, ROME], outcome)
    assert (verdict == "") is met, verdict


def test_partial_arguments_allow_extra_keys_and_exact_does_not():
    outcome = _run(("weather", {"city": "Paris", "unit": "C"}))
    assert _verdict("strict", [PARIS], outcome, args="partial") == ""
    verdict = _verdict("strict", [PARIS], outcome, args="exact")
    assert verdict.startswith("trajectory (strict, args exact): call 1 differs; expected weather({'city': 'Paris'})")
    assert "the run made weather({'city': 'Paris', 'unit': 'C'})" in verdict


def test_numbers_compare_loosely_and_a_call_without_args_matches_any():
    assert _verdict("strict", [{"name": "add", "args": {"a": 2}}], _run(("add", {"a": 2.0}))) == ""
    assert _verdict("strict", [{"name": "weather"}], _run(("weather", {"city": "Oslo"}))) == ""


def test_unordered_pairs_one_to_one_even_when_a_greedy_match_would_fail():
    # The first reference call (any arguments) could take Paris greedily and leave Paris-specific unmatched.
    reference = [{"name": "weather"}, PARIS]
    assert _verdict("unordered", reference, _run(("weather", {"city": "Paris"}), ("weather", {"city": "Oslo"}))) == ""
    assert "1 of 2 expected call(s) matched" in _verdict("unordered", [PARIS, PARIS], PARIS_THEN_ROME)


def test_a_trajectory_is_one_expectation_kind_among_the_others():
    with pytest.raises(ValueError, match="exactly one kind"):
        Expectation(trajectory={"calls": []}, max_steps=2)
