"""`castling eval`: live runs of scenario tasks per model × backbone × strategy, repeated, with intervals."""
