"""The SVG bar charts of the board's pages, read back as XML."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from assets import charts

NAN = math.nan


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(root: ET.Element) -> list[ET.Element]:
    """The data bars, not the legend's swatches."""
    return root.findall("rect")


def texts(root: ET.Element) -> list[str]:
    return ["".join(text.itertext()) for text in root.iter("text")]


def zero_line(root: ET.Element) -> ET.Element:
    return next(line for line in root.iter("line") if line.get("stroke") == "#333333")


@pytest.mark.parametrize(("low", "high", "integer", "expected"), [
    (0, 48, True, [0, 10, 20, 30, 40, 50]),
    (0, 3, True, [0, 1, 2, 3]),
    (0, 0, True, [0, 1]),                                  # nothing to show still has an axis
    (0, 1, False, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (0, 7, True, [0, 2, 4, 6, 8]),                         # no 2.5 between counts
    (0, 1_400_000, False, [0, 500_000, 1_000_000, 1_500_000]),
    (-120_000, 200_000, False, [-200_000, -100_000, 0, 100_000, 200_000]),
])
def test_nice_ticks(low, high, integer, expected) -> None:
    assert charts.nice_ticks(low, high, integer=integer) == expected


def test_ticks_cover_the_data_and_are_integers_for_counts() -> None:
    for high in (1, 2, 5, 9, 11, 17, 99, 101, 333, 4_999):
        ticks = charts.nice_ticks(0, high, integer=True)
        assert ticks[0] == 0 and ticks[-1] >= high and 2 <= len(ticks) <= 7
        assert all(tick == int(tick) for tick in ticks)


def test_chart_is_accessible_self_contained_svg() -> None:
    svg = charts.bar_chart(["A", "B"], [charts.Series("Antal", [1, 2], "#1f77b4")],
                           chart_id="diagram-1", description="Diagram: antal", title="Antal")
    root = parse(svg)
    assert root.tag == "svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "diagram-1"
    title = root.find("title")
    assert title is not None and title.get("id") == "diagram-1" and title.text == "Diagram: antal"
    assert root.get("viewBox") == f"0 0 {charts.WIDTH} {root.get('height')}"
    assert "http" not in svg and "<script" not in svg and "<image" not in svg
    assert "Antal" in texts(root)                                   # title and legend


def test_labels_are_escaped() -> None:
    svg = charts.bar_chart(["<b>&"], [charts.Series('"x" & <y>', [1], "#1f77b4")],
                           chart_id='a"b', description="<script>", title="T & U")
    root = parse(svg)                                               # well-formed despite it all
    assert "<b>&" in texts(root) and "T & U" in texts(root) and '"x" & <y>' in texts(root)
    assert root.find("title").text == "<script>" and "<script>" not in svg


def test_same_data_same_bytes() -> None:
    def draw() -> str:
        return charts.bar_chart([f"2024 kv {q}" for q in range(1, 5)],
                                [charts.Series("Ny", [1.0, NAN, 3.0, 4.0], "#1f77b4",
                                               ["", "..", "", ""])],
                                chart_id="d", description="d")
    assert draw() == draw()


def test_hidden_value_has_no_bar_but_its_label_at_the_foot() -> None:
    root = parse(charts.bar_chart(
        ["Q1", "Q2"], [charts.Series("Ny", [4.0, NAN], "#1f77b4", ["", ".."]),
                       charts.Series("Ut", [NAN, 2.0], "#ff7f0e", ["..", ""])],
        chart_id="d", description="d"))
    assert len(bars(root)) == 2
    hidden = [text for text in root.iter("text") if text.text == ".."]
    assert len(hidden) == 2
    zero = float(zero_line(root).get("y1"))
    assert all(zero - 12 < float(text.get("y")) <= zero for text in hidden)


def test_negative_values_draw_below_the_zero_line() -> None:
    root = parse(charts.bar_chart(
        ["Kvartal 1", "Kvartal 2"], [charts.Series("Utfall", [100_000.0, -40_000.0], "#1f4e79")],
        chart_id="d", description="d", tick_format=str, integer=False))
    zero = float(zero_line(root).get("y1"))
    positive, negative = bars(root)
    assert float(positive.get("y")) + float(positive.get("height")) == pytest.approx(zero)
    assert float(negative.get("y")) == pytest.approx(zero)
    # heights in proportion to the values
    assert float(negative.get("height")) / float(positive.get("height")) == pytest.approx(0.4,
                                                                                           abs=0.01)


def test_bar_heights_follow_the_ticks() -> None:
    root = parse(charts.bar_chart(["A", "B"], [charts.Series("n", [10.0, 20.0], "#1f77b4")],
                                  chart_id="d", description="d"))
    first, second = bars(root)
    assert float(second.get("height")) == pytest.approx(2 * float(first.get("height")), abs=0.2)
    assert [text for text in texts(root) if text.isdigit()][:2] == ["0", "5"]


def test_labels_slant_only_beyond_six_categories() -> None:
    def rotated(count: int) -> int:
        root = parse(charts.bar_chart([f"Q{n}" for n in range(count)],
                                      [charts.Series("n", [1.0] * count, "#1f77b4")],
                                      chart_id="d", description="d"))
        return sum("rotate(-45" in (text.get("transform") or "") for text in root.iter("text"))
    assert rotated(6) == 0 and rotated(7) == 7


def test_horizontal_share_chart_with_target_markers() -> None:
    root = parse(charts.bar_chart(
        ["Insats A", "Insats B"],
        [charts.Series("Andel", [0.5, NAN], "#1f77b4", ["50 %", "inga utskrivna"])],
        chart_id="d", description="d", horizontal=True, tick_format=charts.percent,
        integer=False, domain=(0.0, 1.0), marker=charts.Marker("Mål", [0.4, 0.6])))
    labels = texts(root)
    assert ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"] == [text for text in labels
                                                              if text.endswith(" %")
                                                              and text != "50 %"]
    assert "50 %" in labels and "inga utskrivna" in labels and "Mål" in labels
    (bar,) = bars(root)
    zero = float(zero_line(root).get("x1"))
    assert float(bar.get("x")) == pytest.approx(zero)
    targets = [line for line in root.findall("line") if line.get("stroke-width") == "2.5"]
    positions = sorted(float(line.get("x1")) for line in targets)
    full = float(bar.get("width")) / 0.5
    assert positions == pytest.approx([zero + 0.4 * full, zero + 0.6 * full], abs=0.2)


def test_a_long_category_name_is_cut_but_kept_as_tooltip() -> None:
    name = "Ett mycket långt insatsnamn som ingen styrelse orkar läsa i sin helhet " * 2
    root = parse(charts.bar_chart([name], [charts.Series("n", [1.0], "#1f77b4")],
                                  chart_id="d", description="d", horizontal=True))
    label = next(text for text in root.iter("text") if text.find("title") is not None)
    tooltip = label.find("title")
    assert tooltip.text == name and tooltip.tail.endswith("…") and len(tooltip.tail) < 60


def test_figure_has_the_caption() -> None:
    assert charts.figure("<svg></svg>", "Budget & utfall") == (
        '<figure class="diagram"><svg></svg>'
        "<figcaption>Budget &amp; utfall</figcaption></figure>")
    assert "figcaption" not in charts.figure("<svg></svg>")


def test_a_long_legend_wraps_inside_the_picture() -> None:
    series = [charts.Series(f"En lång serie nummer {n} med ett utförligt namn", [1.0], color)
              for n, color in enumerate(charts.PALETTE)]
    root = parse(charts.bar_chart(["A"], series, chart_id="d", description="d"))
    legend = root.find("g[@class='legend']")
    names = legend.findall("text")
    assert len(names) == 5 and len({text.get("y") for text in names}) > 1
    assert all(float(text.get("x")) + len(text.text) * 12 * 0.6 <= charts.WIDTH for text in names)
    # the plot starts below the legend's last row
    assert min(float(rect.get("y")) for rect in bars(root)) > max(float(t.get("y")) for t in names)


def test_labels_must_match_the_bars() -> None:
    # a short list of labels would otherwise drop the bars it does not reach
    with pytest.raises(ValueError):
        charts.bar_chart(["A", "B"], [charts.Series("n", [1.0, 2.0], "#1f77b4", [".."])],
                         chart_id="d", description="d")
