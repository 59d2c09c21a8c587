"""budget: the year's budget workbook (snapshot per year); its sheets' columns are in ``reader``."""

from __future__ import annotations

from sources.spec import DATE_GROUP as _DATE
from sources.spec import Role, SourceSpec, Strategy
from warehouse import models

SPEC = SourceSpec(
    name="budget", folder="budget", pattern=_DATE + r"_budget_(?P<scope>\d{4})\.xlsx",
    natural_key=("year", "insats", "kostnadsslag"),
    description="Budgetarbetsbok (Insatser, Budget, Finansiering)",
    columns=(),
    label="Budget",
    strategy=Strategy.WORKBOOK, role=Role.ACCOUNTS,
    asset="budget_workbook",
    asset_description="Styrelsens budget per år: insatskatalog, budgetrader och finansiering.",
    table=models.BudgetLine.__table__,
    record_key=("year", "insats", "kostnadsslag"),
    scope_column="year",
    extra_tables={"insatser": models.BudgetInsats.__table__, "arsbudget": models.BudgetAnnual.__table__, "finansiering": models.BudgetFinancing.__table__},
    freshness_days=400,
)
