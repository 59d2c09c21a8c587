"""The data steward's view: every open failure, notice and conflict, as CSV and as a web page.

Everything here reads the warehouse only; identity numbers never appear (held rows are masked at
the source, notices are counts, conflicts show the birth-date part only).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, select

from sources.registry import REGISTRY
from validation.issues import ERROR
from warehouse import models, quarantine

COLUMNS = ("Typ", "ID", "Källa", "Fil", "Rad", "Kolumn", "Regel", "Allvarlighet", "Förväntat",
           "Hittat", "Antal", "Status", "Först sedd", "Senast sedd", "Anteckning")

NOTICE_TYPES = {
    "okänd_leverans": "okänd leverans",
    "avvisad_fil": "avvisad fil",
    "försvunna_poster": "försvunna poster",
    "reservnummer": "reservnummer",
    "utan_samtycke": "data utan samtycke",
    "återkallat": "data efter återkallat samtycke",
    "dubblett": "dubblett",
}

CONFLICT_COLUMNS = {"försörjning vid inskrivning saknar partnerns uppgift": "Försörjning vid inskrivning"}



def held_rows(connection: Connection, statuses: tuple[str, ...] = (quarantine.OPEN,
                                                                    quarantine.ACCEPTED)) -> pd.DataFrame:
    table = models.HeldRow.__table__
    return pd.read_sql(select(table).where(table.c.status.in_(statuses))
                       .order_by(table.c.source, table.c.file_name, table.c.rule, table.c.row_number),
                       connection)


def review_frame(connection: Connection) -> pd.DataFrame:
    """Held rows, notices and conflicts in one frame with the steward's Swedish columns."""
    held = held_rows(connection)
    failures = pd.DataFrame({
        "Typ": held["severity"].map({ERROR: "valideringsfel"}).fillna("varning"),
        "ID": held["id"], "Källa": held["source"], "Fil": held["file_name"],
        "Rad": held["row_number"], "Kolumn": held["column"], "Regel": held["rule"],
        "Allvarlighet": held["severity"], "Förväntat": held["expected"], "Hittat": held["found"],
        "Antal": 1, "Status": held["status"], "Först sedd": held["first_seen"],
        "Senast sedd": held["last_seen"], "Anteckning": held["note"],
    })
    notices = pd.read_sql(select(models.StewardNotice.__table__), connection)
    notice_rows = pd.DataFrame({
        "Typ": notices["kind"].map(NOTICE_TYPES).fillna(notices["kind"]),
        "Källa": notices["source"], "Fil": notices["file_name"], "Regel": notices["detail"],
        "Antal": notices["count"], "Status": quarantine.OPEN, "Först sedd": notices["first_seen"],
        "Senast sedd": notices["last_seen"],
    })
    conflicts = pd.read_sql(select(models.ReconciliationConflict.__table__), connection)
    conflict_rows = pd.DataFrame({
        "Typ": "konflikt", "Källa": "insats", "Fil": conflicts["file_name"],
        "Rad": conflicts["row_number"],
        "Kolumn": conflicts["rule"].map(CONFLICT_COLUMNS),
        "Regel": conflicts["rule"], "Förväntat": conflicts["expected"],
        "Hittat": conflicts["person"] + ", inskriven " + conflicts["inskrivningsdatum"].astype(str)
                  + ": " + conflicts["found"],
        "Antal": 1, "Status": quarantine.OPEN, "Senast sedd": conflicts["computed_at"],
    })
    frames = [frame for frame in (failures, notice_rows, conflict_rows) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    review = pd.concat(frames, ignore_index=True).reindex(columns=list(COLUMNS))
    for name in ("ID", "Rad", "Antal"):
        review[name] = pd.to_numeric(review[name]).astype("Int64")
    return review


def write_reports(connection: Connection, out: Path) -> dict[str, Path]:
    """``<out>/steward/failures.csv`` and ``failures.html``; returns their paths."""
    folder = out / "steward"
    folder.mkdir(parents=True, exist_ok=True)
    frame = review_frame(connection)
    csv_path = folder / "failures.csv"
    # utf-8-sig and ';' so that Excel with Swedish settings opens it directly
    frame.to_csv(csv_path, sep=";", index=False, encoding="utf-8-sig")
    html_path = folder / "failures.html"
    html_path.write_text(render_html(frame), encoding="utf-8")
    return {"csv": csv_path, "html": html_path}


def _cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value))


# One pass per value; & becomes &amp; without touching the entities the others become.
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _escaped(values: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(values):
        values = values.astype("Int64")
    return values.astype("string").fillna("").str.translate(_ENTITIES)


_SHOWN = ("ID", "Rad", "Kolumn", "Allvarlighet", "Förväntat", "Hittat", "Antal", "Status",
          "Senast sedd", "Anteckning")


def _row_html(frame: pd.DataFrame) -> pd.Series:
    """Every row as a table row, escaped once for the whole frame (not per group)."""
    cells = [_escaped(frame[name]) for name in _SHOWN]
    return "<tr><td>" + cells[0].str.cat(cells[1:], sep="</td><td>") + "</td></tr>"


_HEAD_ROW = "".join(f"<th>{html.escape(name)}</th>" for name in _SHOWN)


def _group_table(rows: str) -> str:
    """``rows``: the group's table rows, joined by newlines."""
    return f"<table><thead><tr>{_HEAD_ROW}</tr></thead><tbody>{rows}</tbody></table>"


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    """Per source, file and rule (sorted, a missing file or rule last; rows without a source are
    left out): the first row's type, the count and the rows' HTML in frame order. One grouping
    over the whole frame instead of slicing it group by group."""
    keyed = frame.assign(_html=_row_html(frame)).dropna(subset=["Källa"])
    groups = keyed.groupby(["Källa", "Fil", "Regel"], sort=True, dropna=False)
    return pd.DataFrame({"Typ": groups["Typ"].first(skipna=False),
                         "Antal": groups["Antal"].sum(),
                         "rows": groups["_html"].agg("\n".join)})


def render_html(frame: pd.DataFrame) -> str:
    """A self-contained Swedish page: counts per source and type, then every row grouped by
    source, file and rule; a filter box narrows the rows (no network, no cap)."""
    summary = (frame.pivot_table(index="Källa", columns="Typ", values="Antal", aggfunc="sum",
                                 fill_value=0) if not frame.empty else pd.DataFrame())
    parts = [_HEAD, "<h1>Granskning av leveranser</h1>",
             f"<p>{len(frame)} poster att granska. Personnummer visas aldrig i sin helhet.</p>",
             '<p><label>Filtrera: <input id="filter" type="search" '
             'placeholder="fil, regel, kolumn, värde ..."></label></p>']
    if not summary.empty:
        parts.append("<h2>Översikt</h2>" + summary.to_html(classes="summary", border=0))
    groups = _groups(frame)
    # a loop over the groups (hundreds), each one's rows already rendered
    for source, by_source in groups.groupby(level="Källa", sort=False):
        label = REGISTRY.labels().get(source, source)
        parts.append(f'<section><h2>{html.escape(label)} ({int(by_source["Antal"].sum())})</h2>')
        for (_, file_name, rule), typ, count, rows in by_source.itertuples(name=None):
            title = f"{_cell(file_name)} – {_cell(rule)} – {_cell(typ)}"
            parts.append(f'<details class="group"><summary>{title} '
                         f'<span class="count">{int(count)}</span></summary>'
                         f"{_group_table(rows)}</details>")
        parts.append("</section>")
    parts.append(_SCRIPT)
    return "\n".join(parts) + "\n</body></html>\n"


_HEAD = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"><title>Granskning av leveranser – finsam</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
summary { cursor: pointer; padding: .3rem 0; }
.count { background: #b00020; color: white; border-radius: 1rem; padding: 0 .5rem; }
input { font-size: 1rem; padding: .3rem; width: 24rem; }
</style></head><body>"""

_SCRIPT = """<script>
document.getElementById('filter').addEventListener('input', function () {
  var needle = this.value.toLowerCase();
  document.querySelectorAll('details.group').forEach(function (group) {
    var shown = 0;
    group.querySelectorAll('tbody tr').forEach(function (row) {
      var hit = !needle || (group.querySelector('summary').textContent + row.textContent)
        .toLowerCase().indexOf(needle) >= 0;
      row.style.display = hit ? '' : 'none';
      if (hit) { shown += 1; }
    });
    group.style.display = shown ? '' : 'none';
    group.open = !!needle && shown > 0;
  });
});
</script>"""
