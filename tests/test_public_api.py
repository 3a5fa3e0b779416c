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
