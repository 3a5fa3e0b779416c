from typing import get_args

import pytest

from castling import Agent, Qwen
from castling.agents.strategies import STRATEGIES
from castling.backbones.profiles import Strategy
from castling.errors import ConfigError


def test_every_strategy_name_users_can_type_has_a_builder_and_no_more():
    assert set(STRATEGIES) == set(get_args(Strategy))


def test_an_unknown_strategy_name_says_which_ones_exist():
    with pytest.raises(ConfigError, match="Unknown strategy 'react': use 'tools' or 'plan'"):
        Agent(backbone=Qwen("qwen3:8b"), strategy="react")  # type: ignore[arg-type]
