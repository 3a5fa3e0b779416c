from castling.scenarios.canonical import canonical, differences, fingerprint, short_diff


def test_ints_and_floats_compare_equal_and_volatile_keys_drop():
    a = {"model": "m", "options": {"temperature": 0, "num_ctx": 8192}, "keep_alive": "5m"}
    b = {
        "keep_alive": 300,
        "options": {"num_ctx": 8192.0, "temperature": 0.0},
        "model": "m",
        "tools": [],
        "format": None,
    }
    assert canonical(a) == canonical(b)
    assert fingerprint(canonical(a)) == fingerprint(canonical(b))


def test_ignore_paths_with_wildcards():
    body = {"tools": [{"function": {"name": "a", "description": "x"}}, {"function": {"name": "b", "description": "y"}}]}
    other = {"tools": [{"function": {"name": "a", "description": "changed"}}, {"function": {"name": "b"}}]}
    ignore = ["$.tools[*].function.description"]
    assert canonical(body, ignore) == canonical(other, ignore)
    assert canonical(body) != canonical(other)


def test_tool_call_ids_become_positional():
    a = {"messages": [{"role": "assistant", "tool_calls": [{"id": "call_abc", "function": {"name": "w"}}]}]}
    b = {"messages": [{"role": "assistant", "tool_calls": [{"id": "call_xyz", "function": {"name": "w"}}]}]}
    assert canonical(a) == canonical(b)


def test_differences_lists_paths_in_order_and_diff_is_short():
    recorded = {"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]}
    actual = {"messages": [{"role": "system", "content": "Be verbose."}, {"role": "user", "content": "hi"}, {"x": 1}]}
    found = differences(recorded, actual)
    assert [d.path for d in found] == ["$.messages[0].content", "$.messages[2]"]
    assert found[0].recorded == "Be terse." and found[0].actual == "Be verbose."
    diff = short_diff(recorded, actual, "$.messages[0]")
    assert '-  "content": "Be terse.",' in diff and '+  "content": "Be verbose.",' in diff
