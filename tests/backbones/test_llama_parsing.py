"""Llama's text tool-call formats.

The strings below are constructed in the shapes Meta documents (llama-models prompt_format.md for 3.1/3.2/4) and
that real Ollama traffic shows (ollama#13519 fenced JSON, llama-stack recordings for pythonic lists and `[]`).
"""

import pytest

from castling.backbones.parsing.llama import parse_llama_content
from castling.backbones.wire import RawToolCall

TOOLS = ["weather", "run_python"]


def calls(text, tools=TOOLS):
    return [(c.name, dict(c.arguments)) for c in parse_llama_content(text, tools).calls]


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "weather", "parameters": {"city": "Paris"}}',
        '{"type": "function", "name": "weather", "parameters": {"city": "Paris"}}',
        '{"name": "weather", "parameters": {"city": "Paris"}}<|eom_id|>',
        '```json\n{"name": "weather", "parameters": {"city": "Paris"}}\n```',
        '<|python_tag|>{"name": "weather", "parameters": {"city": "Paris"}}<|eom_id|>',
        '<function=weather>{"city": "Paris"}</function>',
        "[weather(city='Paris')]",
        '[weather(city="Paris")]<|eot_id|>',
    ],
)
def test_single_call_forms(text):
    assert calls(text) == [("weather", {"city": "Paris"})]


def test_fenced_call_after_prose_keeps_the_prose_as_text():
    parsed = parse_llama_content(
        'Let me check.\n```json\n{"name": "weather", "parameters": {"city": "Oslo"}}\n```', TOOLS
    )
    assert parsed.calls == [RawToolCall("weather", {"city": "Oslo"})]
    assert parsed.text == "Let me check."


def test_pythonic_list_with_several_calls_quotes_and_python_literals():
    text = "[weather(city='Paris', metric=True), weather(city=\"Lyon\", days=3, note=None), run_python(code='1+1')]"
    assert calls(text) == [
        ("weather", {"city": "Paris", "metric": True}),
        ("weather", {"city": "Lyon", "days": 3, "note": None}),
        ("run_python", {"code": "1+1"}),
    ]


def test_pythonic_values_are_literals_only_never_evaluated():
    parsed = parse_llama_content("[weather(city=__import__('os').getcwd())]", TOOLS)
    assert parsed.calls == []
    assert parsed.errors and "not a literal" in parsed.errors[0]
    assert "__import__" in parsed.text


def test_positional_arguments_are_reported_not_guessed():
    parsed = parse_llama_content("[weather('Paris')]", TOOLS)
    assert parsed.calls == []
    assert "name=value" in parsed.errors[0]


def test_bare_call_without_brackets_only_for_an_offered_tool():
    assert calls('weather(city="Paris")') == [("weather", {"city": "Paris"})]
    assert calls('print("hello")') == []


def test_python_tag_code_goes_to_the_python_tool_when_offered():
    assert calls("<|python_tag|>import math\nprint(math.pi)<|eom_id|>") == [
        ("run_python", {"code": "import math\nprint(math.pi)"})
    ]


def test_python_tag_code_without_a_python_tool_is_an_error_not_a_call():
    parsed = parse_llama_content("<|python_tag|>print(1)", ["weather"])
    assert parsed.calls == []
    assert "run_python" in parsed.errors[0]


def test_builtin_tool_call_form_names_the_tool():
    assert calls('<|python_tag|>brave_search.call(query="Paris weather")', ["brave_search"]) == [
        ("brave_search", {"query": "Paris weather"})
    ]


def test_several_json_calls_separated_by_semicolons():
    text = '{"name": "weather", "parameters": {"city": "Paris"}}; {"name": "weather", "parameters": {"city": "Lyon"}}'
    assert calls(text) == [("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})]


def test_empty_list_means_no_call_and_no_text():
    parsed = parse_llama_content("[]", TOOLS)
    assert parsed.calls == [] and parsed.text == "" and parsed.errors == []


@pytest.mark.parametrize(
    "text",
    [
        "Paris is sunny today (22 °C).",
        "The list is [1, 2, 3].",
        'The JSON {"name": "weather", "parameters": {}} is what you would send.',
        "Use f(x) = x**2 here.",
    ],
)
def test_answers_are_not_mistaken_for_calls(text):
    parsed = parse_llama_content(text, TOOLS)
    assert parsed.calls == []
    assert parsed.text == text
