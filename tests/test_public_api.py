import types

import castling


def test_all_is_sorted_and_every_name_resolves():
    assert castling.__all__ == sorted(castling.__all__)
    for name in castling.__all__:
        assert getattr(castling, name) is not None


def test_no_public_name_is_left_out_of_all():
    public = {
        name
        for name, value in vars(castling).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "Any", "TYPE_CHECKING"}
    }
    assert public <= set(castling.__all__)


def test_web_tools_export_the_tools_and_injection_points_only():
    import castling.tools.web as web

    assert sorted(web.__all__) == [
        "AddressPolicy",
        "AddressRefused",
        "ExtractorPool",
        "FetchTool",
        "HttpRequestTool",
        "Resolver",
        "StaticResolver",
        "WebSettings",
        "fetch",
        "http_request",
    ]
    for name in web.__all__:
        assert getattr(web, name) is not None


def test_testing_names_its_public_helpers():
    import castling.testing as testing

    assert set(testing.__all__) == {
        "DEFAULT_CAPABILITIES",
        "ScriptExhausted",
        "ScriptedOllama",
        "ScriptedOpenAI",
        "ScriptedReply",
        "WindowedOllama",
        "prompt_size",
    }
    namespace: dict[str, object] = {}
    exec("from castling.testing import *", namespace)  # what `import *` gives: the helpers, not httpx or re
    assert {"ScriptedOllama", "ScriptedOpenAI"} <= set(namespace) and "httpx" not in namespace


def test_the_type_checking_imports_match_the_one_export_table():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(castling.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    imported = {
        (node.module, alias.asname or alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    table = {(module, name) for module, names in castling._EXPORTS.items() for name in names}
    assert imported == table
    assert sorted(castling.__all__) == sorted([name for _, name in table] + ["__version__"])
