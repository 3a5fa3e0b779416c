import pytest

from castling.backbones.registry import BACKBONES, FALLBACK_FAMILY, family_for_model, family_or_fallback
from castling.errors import ConfigError


@pytest.mark.parametrize(
    ("model", "family"),
    [("qwen3:8b", "qwen"), ("qwq:32b", "qwen"), ("llama3.1:8b", "llama"), ("hf.co/org/Llama-3.2-3B", "llama")],
)
def test_a_model_name_picks_its_family(model, family):
    assert family_for_model(model) == family_or_fallback(model) == family


def test_a_model_no_family_claims_falls_back_where_the_cli_and_scenarios_need_a_family():
    with pytest.raises(ConfigError, match="known families are llama, qwen"):
        family_for_model("mistral:7b")
    assert family_or_fallback("mistral:7b") == FALLBACK_FAMILY
    assert FALLBACK_FAMILY in BACKBONES
