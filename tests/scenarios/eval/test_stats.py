"""Wilson intervals and percentiles, checked against values worked by hand (95 % Wilson score)."""

import pytest

from castling.scenarios.eval.stats import percentile, wilson


@pytest.mark.parametrize(
    ("passed", "runs", "interval"),
    [(2, 4, (0.150, 0.850)), (4, 4, (0.510, 1.0)), (0, 4, (0.0, 0.49)), (8, 8, (0.676, 1.0)), (0, 0, (0.0, 1.0))],
)
def test_wilson_interval(passed: int, runs: int, interval: tuple[float, float]):
    assert wilson(passed, runs) == interval


def test_percentile_interpolates_between_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([], 50) == 0.0


def test_large_token_counts_print_as_plain_numbers():
    from castling.scenarios.eval.text import number

    assert [number(123456.0), number(37.5), number(30.0)] == ["123456", "37.5", "30"]
