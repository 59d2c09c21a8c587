"""What the board's and SUS's workbooks share: cells created with a ready style."""

from __future__ import annotations

from openpyxl.cell import Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet.worksheet import Worksheet


def style_array(worksheet: Worksheet, **attributes: object) -> StyleArray:
    """What ``Cell(style_array=...)`` takes for a cell with ``attributes`` (font, fill, border,
    alignment, number_format). Set on a cell, a style object is hashed and looked up in the
    workbook again, for every cell; here it is looked up once per workbook. openpyxl has no public
    way to the array but to style a cell and read it back."""
    cell = Cell(worksheet)
    for name, value in attributes.items():
        setattr(cell, name, value)
    return cell._style
