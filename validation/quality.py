"""Great Expectations suites over the warehouse: keys, links, completeness and distributions.

The suites run on frames read from the warehouse (``assets/quality``) through one GX checkpoint,
which also writes the Data Docs site under ``<out>/steward/gx/``. Each suite's result becomes a
Dagster asset check on the asset that loads the table.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pandas as pd

PSEUDONYM = r"^[0-9a-f]{64}$"
MAX_SHARE_CHANGE = 0.35   # a category's share of enrolments moving more than this is worth a look
EXAMPLES = 10


def _gx() -> ModuleType:
    # Great Expectations takes seconds to import; only the quality check pays for it.
    import great_expectations

    return great_expectations


@dataclass(frozen=True)
class Suite:
    name: str
    frame: str
    expectations: Callable[[], list]


def _unique_keys() -> list:
    return [_gx().expectations.ExpectColumnValuesToBeUnique(column="record_key"),
            _gx().expectations.ExpectColumnValuesToNotBeNull(column="record_key")]


def _partner(name: str) -> Suite:
    return Suite(name, name, lambda: [
        *_unique_keys(),
        _gx().expectations.ExpectColumnValuesToMatchRegex(column="pseudonym", regex=PSEUDONYM),
        # referential integrity: a partner record is stored only under a consent
        _gx().expectations.ExpectColumnValuesToBeInSet(column="has_consent", value_set=[True]),
    ])


SUITES = (
    Suite("spell", "spell", lambda: [
        *_unique_keys(),
        _gx().expectations.ExpectColumnValuesToMatchRegex(column="pseudonym", regex=PSEUDONYM),
        _gx().expectations.ExpectColumnValuesToBeInSet(column="kon", value_set=["K", "M"]),
        _gx().expectations.ExpectColumnValuesToBeBetween(column="age_at_enrolment", min_value=0,
                                                      max_value=130),
        # every linkable spell has its number in the vault, or the SUS submission cannot be made
        _gx().expectations.ExpectColumnValuesToBeInSet(column="in_vault", value_set=[True]),
    ]),
    Suite("spell_distribution", "distribution", lambda: [
        _gx().expectations.ExpectColumnValuesToBeBetween(column="share_change", min_value=0,
                                                      max_value=MAX_SHARE_CHANGE),
    ]),
    Suite("consent", "consent", lambda: [
        *_unique_keys(),
        _gx().expectations.ExpectColumnValuesToNotBeNull(column="pseudonym"),
        _gx().expectations.ExpectColumnValuesToMatchRegex(column="pseudonym", regex=PSEUDONYM),
    ]),
    *(_partner(name) for name in ("fk_benefit", "af_support", "soc_payment", "hsf_contact")),
    Suite("partner_completeness", "completeness", lambda: [
        _gx().expectations.ExpectColumnValuesToBeBetween(column="rows", min_value=1),
    ]),
    Suite("ledger_entry", "ledger_entry", lambda: [
        *_unique_keys(),
        _gx().expectations.ExpectColumnValuesToBeInSet(column="account_class",
                                                    value_set=["cost", "income", "ignored"]),
    ]),
)


@dataclass
class SuiteResult:
    suite: str
    success: bool
    evaluated: int
    failed: list[dict]


def run_suites(frames: Mapping[str, pd.DataFrame], docs_dir: Path) -> dict[str, SuiteResult]:
    """Validate every suite whose frame is given; build the Data Docs in ``docs_dir``."""
    gx = _gx()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    context.add_data_docs_site("finsam", {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    source = context.data_sources.add_pandas("lager")
    definitions, batches = [], {}
    for suite in SUITES:
        frame = frames.get(suite.frame)
        if frame is None or frame.empty:
            continue
        batch = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("alla")
        expectation_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
        for expectation in suite.expectations():
            expectation_suite.add_expectation(expectation)
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=expectation_suite)))
        batches[suite.name] = frame
    results = {definition.name: _summarise(definition.name, definition.run(
        batch_parameters={"dataframe": batches[definition.name]},
        result_format={"result_format": "SUMMARY"})) for definition in definitions}
    # one site build for all suites: building per suite rewrites the whole site each time
    context.build_data_docs(site_names=["finsam"])
    write_offline_index(docs_dir, results)
    return results


OFFLINE_INDEX = "oversikt.html"


def write_offline_index(docs_dir: Path, results: Mapping[str, SuiteResult]) -> Path:
    """GX's own index builds its lists with scripts from the internet; this page lists the newest
    result of every suite with plain links, so the Data Docs open on an offline machine too."""
    rows = []
    for name, result in sorted(results.items()):
        pages = sorted((docs_dir / "validations" / name).rglob("*.html"))
        link = pages[-1].relative_to(docs_dir).as_posix() if pages else ""
        state = "godkänd" if result.success else f"{len(result.failed)} förväntningar uppfylls inte"
        rows.append(f'<tr><td><a href="{html.escape(link)}">{html.escape(name)}</a></td>'
                    f"<td>{result.evaluated}</td><td>{html.escape(state)}</td></tr>")
    page = ("<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'>"
            "<title>Kvalitetskontroller av lagret</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem}"
            "td,th{border:1px solid #ccc;padding:.3rem .6rem}table{border-collapse:collapse}</style>"
            "</head><body><h1>Kvalitetskontroller av lagret (Great Expectations)</h1>"
            "<table><tr><th>Svit</th><th>Förväntningar</th><th>Resultat</th></tr>"
            + "".join(rows) + "</table></body></html>\n")
    path = docs_dir / OFFLINE_INDEX
    path.write_text(page, encoding="utf-8")
    return path


def _summarise(name: str, validation) -> SuiteResult:
    failed = []
    for result in validation.results:
        if result.success:
            continue
        config = result.expectation_config
        failed.append({
            "förväntan": config.type,
            "kolumn": config.kwargs.get("column"),
            "antal_avvikande": result.result.get("unexpected_count"),
            "exempel": [str(value) for value in
                        (result.result.get("partial_unexpected_list") or [])[:EXAMPLES]],
        })
    return SuiteResult(name, bool(validation.success), len(validation.results), failed)
