"""The window asked for fits in memory: the KV cache's size from `/api/show`, capped by `kv_memory` (#11)."""

import os
import warnings

import pytest

from castling import ContextMemoryWarning
from castling.backbones.llama import Llama
from castling.backbones.memory import kv_bytes_per_token, kv_values_per_token, parse_size
from castling.backbones.qwen import Qwen
from castling.testing import ScriptedOllama

QWEN3_8B = {  # /api/show model_info of qwen3:8b, the figures the KV cache is computed from
    "general.architecture": "qwen3",
    "qwen3.block_count": 36,
    "qwen3.attention.head_count": 32,
    "qwen3.attention.head_count_kv": 8,
    "qwen3.attention.key_length": 128,
    "qwen3.attention.value_length": 128,
    "qwen3.embedding_length": 4096,
}
SCOUT = {  # llama4:scout: no key_length given, so the head size comes from embedding_length / head_count
    "general.architecture": "llama4",
    "llama4.block_count": 48,
    "llama4.attention.head_count": 40,
    "llama4.attention.head_count_kv": 8,
    "llama4.embedding_length": 5120,
}
SCOUT_BYTES_PER_TOKEN = 48 * 8 * (128 + 128) * 2  # 192 KiB at f16


@pytest.fixture(autouse=True)
def no_memory_settings(monkeypatch):
    monkeypatch.delenv("CASTLING_KV_MEMORY", raising=False)
    monkeypatch.delenv("OLLAMA_KV_CACHE_TYPE", raising=False)


def scout_server() -> ScriptedOllama:
    server = ScriptedOllama("llama4:scout", model_info=SCOUT, context_length=10_485_760)
    server.add_reply("ok")
    return server


def sent_num_ctx(backbone, server) -> int:
    backbone.chat([{"role": "user", "content": "hi"}])
    return server.requests[-1]["options"]["num_ctx"]


def test_the_kv_cache_size_comes_from_the_layer_and_head_figures():
    assert kv_values_per_token(QWEN3_8B) * 2 == 147_456  # 144 KiB a token: 32K tokens need 4.5 GiB
    assert kv_bytes_per_token(kv_values_per_token(SCOUT)) == SCOUT_BYTES_PER_TOKEN
    assert kv_bytes_per_token(kv_values_per_token(SCOUT), "q8_0") < SCOUT_BYTES_PER_TOKEN * 0.6
    assert kv_values_per_token({"general.architecture": "qwen3", "qwen3.context_length": 4096}) is None


def test_llama4_scout_asks_for_what_the_memory_holds_not_10m_tokens():
    server = scout_server()
    backbone = Llama("llama4:scout", think=False, kv_memory="8GiB", transport=server.transport)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # capping a long window is the plan, not a problem
        num_ctx = sent_num_ctx(backbone, server)
    assert num_ctx == 43_008  # 8 GiB / 192 KiB, rounded down to a multiple of 1024
    assert num_ctx * SCOUT_BYTES_PER_TOKEN <= parse_size("8GiB")
    assert "capped at 43,008 by memory (8.0 GiB, kv_memory)" in backbone.window_choice.why


def test_a_bigger_budget_gets_a_bigger_window():
    server = scout_server()
    backbone = Llama("llama4:scout", think=False, kv_memory="64GiB", transport=server.transport)
    assert sent_num_ctx(backbone, server) == 349_184


def test_when_even_the_usual_window_does_not_fit_it_is_lowered_with_a_warning_and_a_chat_notice():
    server = ScriptedOllama("qwen3:8b", model_info=QWEN3_8B)
    server.add_reply("ok")
    backbone = Qwen("qwen3:8b", think=False, kv_memory="2GiB", transport=server.transport)
    with pytest.warns(ContextMemoryWarning, match="asking for num_ctx=14,336 instead of 32,768"):
        assert sent_num_ctx(backbone, server) == 14_336  # 2 GiB / 144 KiB
    assert len(backbone.notices) == 1 and "kv_memory=" in backbone.notices[0]  # the chat shows it once


def test_an_explicit_num_ctx_that_does_not_fit_is_sent_as_asked_with_a_warning():
    server = scout_server()
    backbone = Llama("llama4:scout", think=False, num_ctx=200_000, kv_memory="8GiB", transport=server.transport)
    with pytest.warns(ContextMemoryWarning, match=r"num_ctx=200,000 may not fit in memory.*about 43,008 fits"):
        assert sent_num_ctx(backbone, server) == 200_000


def test_the_warning_is_given_once_per_backbone():
    server = scout_server()
    server.add_reply("again")
    backbone = Llama("llama4:scout", think=False, num_ctx=200_000, kv_memory="8GiB", transport=server.transport)
    with pytest.warns(ContextMemoryWarning):
        sent_num_ctx(backbone, server)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sent_num_ctx(backbone, server) == 200_000
    assert len(backbone.notices) == 1


def test_a_local_server_without_a_setting_is_capped_at_half_this_machines_ram():
    server = scout_server()
    backbone = Llama("llama4:scout", think=False, transport=server.transport)  # default host: 127.0.0.1
    half_ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    num_ctx = sent_num_ctx(backbone, server)
    assert "half this machine's RAM" in backbone.window_choice.why
    assert num_ctx == max(2048, half_ram // SCOUT_BYTES_PER_TOKEN // 1024 * 1024)


def test_castling_kv_memory_sets_the_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("CASTLING_KV_MEMORY", "16GiB")
    server = scout_server()
    backbone = Llama("llama4:scout", think=False, transport=server.transport)
    assert sent_num_ctx(backbone, server) == 87_040
    assert "CASTLING_KV_MEMORY" in backbone.window_choice.why


def test_a_remote_server_without_a_budget_gets_the_profile_default_not_the_long_window():
    server = scout_server()
    backbone = Llama("llama4:scout", host="http://gpu-box:11434", think=False, transport=server.transport)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sent_num_ctx(backbone, server) == Llama.profile.default_num_ctx


def test_a_qwen_256k_variant_asks_for_its_long_window_when_it_fits():
    info = {**QWEN3_8B, "qwen3.context_length": 262_144}
    server = ScriptedOllama("qwen3:30b-a3b-instruct-2507", model_info=info, context_length=262_144)
    server.add_reply("ok")
    backbone = Qwen(server.model, think=False, kv_memory="40GiB", transport=server.transport)
    assert sent_num_ctx(backbone, server) == 262_144  # 36 GiB of KV cache: fits in 40


def test_a_bad_kv_memory_is_refused_when_the_backbone_is_made():
    with pytest.raises(ValueError, match=r"kv_memory='lots' is not a size: use bytes or a number with a unit"):
        Qwen("qwen3:8b", kv_memory="lots")
