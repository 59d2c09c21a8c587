"""What `finsam demo` says when it is done: where the steward's page is, the board's files, and how
to open Dagster's UI on the demo."""

from __future__ import annotations

from cli.main import _print_demo_guide


def test_the_demo_summary_points_to_the_steward_page_the_board_files_and_dagster(tmp_path,
                                                                                 capsys):
    out = tmp_path / "out"
    for name in ("budget/2024Q3/budgetuppfoljning.html", "budget/2024Q4/budgetuppfoljning.html",
                 "delarsrapport/2024T2/delarsrapport.html", "arsredovisning/2024/arsredovisning.html",
                 "sus/2024Q4_2024Q4/sus_statistik.html", "steward/failures.html"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("x")
    env = tmp_path / "dagster.env"
    _print_demo_guide(out, tmp_path / "dagster_home", env)
    printed = capsys.readouterr().out
    assert f"Förvaltarens sida: {out / 'steward' / 'failures.html'}" in printed
    # the newest of each of the board's files, and where the rest are
    assert str(out / "budget" / "2024Q4" / "budgetuppfoljning.html") in printed
    assert str(out / "budget" / "2024Q3" / "budgetuppfoljning.html") not in printed
    for name in ("delarsrapport/2024T2/delarsrapport.html", "arsredovisning/2024/arsredovisning.html",
                 "sus/2024Q4_2024Q4/sus_statistik.html"):
        assert str(out / name) in printed
    assert f". {env} && " in printed and "dagster dev" in printed
    assert "http://127.0.0.1:3000" in printed
