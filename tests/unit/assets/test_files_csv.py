"""CSV written by finsam: a text a spreadsheet would evaluate is neutralised, a number is not."""

from __future__ import annotations

import pandas as pd

from assets.files import neutralise_formulas


def test_text_that_looks_like_a_formula_is_neutralised_numbers_in_a_mixed_column_are_not():
    # a correction's "Nytt värde" column holds numbers and texts side by side
    frame = pd.DataFrame({"värde": pd.Series([-3000.0, 12, "=HYPERLINK(\"x\")", "-2+3", "..", None],
                                             dtype=object)})
    shown = neutralise_formulas(frame)["värde"].tolist()
    assert shown[:2] == [-3000.0, 12]
    assert shown[2:5] == ["'=HYPERLINK(\"x\")", "'-2+3", ".."]
    assert pd.isna(shown[5])
