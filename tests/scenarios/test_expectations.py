from castling.scenarios.expectations import check, check_all
from castling.scenarios.format import Expectation, Outcome, ToolCallOutcome
from castling.scenarios.names import allow, register_check

OUTCOME = Outcome(
    final_answer="Lyon is warmer: 21 °C.",
    steps=2,
    tool_calls=[
        ToolCallOutcome(name="weather", arguments={"city": "Paris"}),
        ToolCallOutcome(name="weather", arguments={"city": "Lyon", "units": "c"}),
    ],
)


def e(**kind: object) -> Expectation:
    return Expectation.model_validate(kind)


def test_answer_checks():
    assert check(e(final_answer={"contains": ["Lyon", "21 °C"]}), OUTCOME) == ""
    assert check(e(final_answer={"icontains": "LYON"}), OUTCOME) == ""
    assert "not_contains 'Lyon'" in check(e(final_answer={"not_contains": "Lyon"}), OUTCOME)
    assert check(e(final_answer={"regex": r"\d+ °C"}), OUTCOME) == ""
    assert "equals" in check(e(final_answer={"equals": "Lyon"}), OUTCOME)


def test_tool_checks():
    assert check(e(tool_called={"name": "weather", "args": {"city": "Lyon"}}), OUTCOME) == ""
    assert "matched 0" in check(e(tool_called={"name": "weather", "args": {"city": "Lyon"}, "match": "exact"}), OUTCOME)
    assert "at most 1" in check(e(tool_called={"name": "weather", "max": 1}), OUTCOME)
    assert check(e(tool_not_called={"name": "fetch"}), OUTCOME) == ""
    assert "max_steps" in check(e(max_steps=1), OUTCOME)
    assert check(e(no_error=True), OUTCOME) == "" and "boom" in check(e(no_error=True), Outcome(error="boom"))


def test_custom_check_registered_by_code_and_its_reason():
    register_check("mentions_both", mentions_both)
    assert check(e(custom="mentions_both"), OUTCOME) == ""
    failed = check(e(custom="mentions_both"), Outcome(final_answer="Paris"))
    assert failed == "custom: mentions_both failed: Lyon missing"


def test_custom_check_by_module_path_is_refused_unless_allowed():
    path = "tests.scenarios.test_expectations:mentions_both"
    refused = check(e(custom=path), OUTCOME)
    assert "nothing registered the check" in refused and "castling_checks" in refused
    allow(path, "check")  # what the pytest ini option and `castling replay --check` do
    assert check(e(custom=path), OUTCOME) == ""


def mentions_both(outcome: Outcome) -> tuple[bool, str]:
    return "Lyon" in outcome.final_answer, "Lyon missing"


def test_one_kind_per_expectation():
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError, match="exactly one kind"):
        e(max_steps=1, no_error=True)
    assert check_all([e(max_steps=5), e(no_error=True)], OUTCOME) == []
