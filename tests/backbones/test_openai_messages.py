"""`to_openai_messages` converts each wire message once and reuses it while the message is resent in place,
and the reuse never changes what is sent: a message seen at another call position, a replaced message and a
message whose content was reassigned are converted afresh."""

from __future__ import annotations

from castling.backbones.openai_messages import to_openai_messages


def _call(name: str, **arguments: object) -> dict:
    return {"function": {"name": name, "arguments": arguments}}


def _history() -> list[dict]:
    return [
        {"role": "user", "content": "Weather in Paris and Lyon, then add 1 and 2."},
        {"role": "assistant", "content": "", "tool_calls": [_call("weather", city=c) for c in ("Paris", "Lyon")]},
        {"role": "tool", "content": "sunny", "tool_name": "weather"},
        {"role": "tool", "content": "rain", "tool_name": "weather"},
        {"role": "assistant", "content": "", "tool_calls": [_call("add", a=1, b=2)], "thinking": "now add"},
        {"role": "tool", "content": "3", "tool_name": "add"},
    ]


def test_resent_messages_are_not_converted_again():
    history = _history()
    first = to_openai_messages(history)
    history.append({"role": "assistant", "content": "Sunny, rain, and 3."})
    second = to_openai_messages(history)
    assert all(second[i] is first[i] for i in (0, 1, 4))  # the same converted dicts: no json.dumps again
    assert second[:6] == first and second[6] == {"role": "assistant", "content": "Sunny, rain, and 3."}


ADDED = '{"a": 1, "b": 2}'


def test_reuse_gives_what_a_fresh_conversion_gives():
    history = _history()
    converted = to_openai_messages(history)
    assert [c["id"] for c in converted[1]["tool_calls"]] == ["call_0", "call_1"]
    assert converted[1]["tool_calls"][1]["function"] == {"name": "weather", "arguments": '{"city": "Lyon"}'}
    assert [m["tool_call_id"] for m in converted[2:4]] == ["call_0", "call_1"]
    assert converted[4] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "call_2", "type": "function", "function": {"name": "add", "arguments": ADDED}}],
    }
    assert converted[5] == {"role": "tool", "tool_call_id": "call_2", "content": "3"}
    assert to_openai_messages(history) == converted


def test_a_message_at_another_call_position_gets_the_ids_of_that_position():
    history = _history()
    to_openai_messages(history)
    shorter = to_openai_messages([history[0], history[4], history[5]])  # e.g. after compaction dropped a turn
    assert shorter[1]["tool_calls"][0]["id"] == "call_0" and shorter[2]["tool_call_id"] == "call_0"


def test_replaced_or_reassigned_messages_are_converted_afresh():
    history = _history()
    to_openai_messages(history)
    history[4] = {"role": "assistant", "content": "", "tool_calls": [_call("add", a=5, b=6)]}  # replaced
    history[0]["content"] = "Only add 5 and 6."  # reassigned in place
    converted = to_openai_messages(history)
    assert converted[4]["tool_calls"][0]["function"]["arguments"] == '{"a": 5, "b": 6}'
    assert converted[0] == {"role": "user", "content": "Only add 5 and 6."}


def test_a_result_that_names_its_call_leaves_the_open_calls_to_the_others():
    turn = {"role": "assistant", "content": "", "tool_calls": [_call("add", a=1, b=2), _call("add", a=3, b=4)]}
    named = {"role": "tool", "content": "7", "tool_name": "add", "tool_call_id": "call_1"}
    plain = {"role": "tool", "content": "3", "tool_name": "add"}
    converted = to_openai_messages([turn, named, plain])
    assert [m["tool_call_id"] for m in converted[1:]] == ["call_1", "call_0"]


def test_conversations_sharing_a_system_prompt_keep_their_own_conversions():
    system = {"role": "system", "content": "You are helpful."}  # one dict for all of an agent's conversations
    first = [system, *_history()]
    second = [system, {"role": "user", "content": "Something else."}]
    converted = to_openai_messages(first)
    to_openai_messages(second)  # another thread of the same agent, in between
    again = to_openai_messages([*first, {"role": "assistant", "content": "Done."}])
    assert again[2] is converted[2] and again[5] is converted[5]
