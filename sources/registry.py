"""The source registry: every source finsam reads, and the checks that refuse an incomplete one.

Everything that differs per source (the consent filter, the withdrawal rules, the identity guard,
the steward's labels, the Dagster assets, the warehouse schema checks) iterates a registry instead
of keeping its own per-source dict. Building a registry checks every declaration, so a forgotten
consent rule or table schema stops finsam at import time rather than passing silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import pandera.pandas as pa
from sqlalchemy import Table

from finsam import reference
from finsam.consent import OwnRecord, PartnerConsent
from finsam.errors import RegistryError
from sources import af, budget, ekonomi, fk, hsf, insats, samtycke, soc
from sources.spec import Role, Source, SourceSpec, Strategy
from validation.warehouse import SCHEMAS


class Registry:
    """Sources by name, in an order where every source comes after those it depends on."""

    def __init__(self, sources: Iterable[Source], *,
                 schemas: Mapping[str, pa.DataFrameSchema] = SCHEMAS) -> None:
        given = list(sources)
        names = [source.name for source in given]
        for name in {name for name in names if names.count(name) > 1}:
            raise RegistryError(name, "källan är registrerad två gånger")
        self._by_name = {source.name: source for source in given}
        self.schemas = dict(schemas)
        for source in given:
            _check(source.spec, self._by_name, schemas)
        self._order = _dependency_order(self._by_name)
        _unique(self, "folder", lambda spec: spec.folder)
        _unique(self, "asset", lambda spec: spec.asset)

    def __getitem__(self, name: str) -> Source:
        try:
            return self._by_name[name]
        except KeyError:
            raise RegistryError(name, f"ingen sådan källa; kända: {', '.join(self.names)}") from None

    def __iter__(self) -> Iterator[Source]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(source.name for source in self._order)

    def spec(self, name: str) -> SourceSpec:
        return self[name].spec

    def specs(self) -> list[SourceSpec]:
        return [source.spec for source in self._order]

    def with_role(self, role: Role) -> list[SourceSpec]:
        return [spec for spec in self.specs() if spec.role == role]

    def partner_sources(self) -> list[SourceSpec]:
        """Sources whose records are stored only under a consent naming their partner."""
        return [spec for spec in self.specs() if isinstance(spec.consent, PartnerConsent)]

    def tables(self) -> dict[str, Table]:
        """Every table a source loads, by name."""
        tables: dict[str, Table] = {}
        for spec in self.specs():
            for table in _tables_of(spec):
                tables[table.name] = table
        return tables

    def table_of(self, name: str) -> Table:
        table = self.spec(name).table
        if table is None:
            raise RegistryError(name, "källan har ingen tabell")
        return table

    def labels(self) -> dict[str, str]:
        return {spec.name: spec.label for spec in self.specs()}


def _tables_of(spec: SourceSpec) -> list[Table]:
    return [table for table in (spec.table, *spec.extra_tables.values()) if table is not None]


def _check(spec: SourceSpec, sources: Mapping[str, Source],
           schemas: Mapping[str, pa.DataFrameSchema]) -> None:
    """Everything a declaration must say, or the registry is not built."""
    if spec.personal and spec.consent is None:
        raise RegistryError(spec.name, "personuppgifter utan samtyckesregel: ange PartnerConsent "
                                       "(partnerns poster) eller OwnRecord (förbundets eget register)")
    if spec.role == Role.PARTNER and not isinstance(spec.consent, PartnerConsent):
        raise RegistryError(spec.name, "en partners poster kräver PartnerConsent med partnerns kod")
    if not spec.personal and spec.consent is not None:
        raise RegistryError(spec.name, "samtyckesregel för en källa utan personuppgifter")
    if isinstance(spec.consent, PartnerConsent):
        partners = reference.codes("partner")
        if spec.consent.partner not in partners:
            raise RegistryError(spec.name, f"okänd partner {spec.consent.partner!r} "
                                           f"(kända: {', '.join(sorted(partners))})")
    if isinstance(spec.consent, OwnRecord) and not spec.consent.reason.strip():
        raise RegistryError(spec.name, "OwnRecord kräver en angiven grund")
    if spec.table is None:
        raise RegistryError(spec.name, "källan anger ingen tabell")
    for table in _tables_of(spec):
        if table.name not in schemas:
            raise RegistryError(spec.name, f"tabellen {table.name} saknar Pandera-schema "
                                           "i validation/warehouse.py")
        if spec.personal and "pseudonym" not in table.c:
            raise RegistryError(spec.name, f"tabellen {table.name} saknar kolumnen pseudonym")
    if isinstance(spec.consent, PartnerConsent):
        missing = [name for name in spec.consent.time.columns() if name not in spec.table.c]
        if missing:
            raise RegistryError(spec.name, f"postens tid ({', '.join(missing)}) finns inte i "
                                           f"tabellen {spec.table.name}")
    lineage = ("record_key", "delivery_id", "extraction_date", "row_number")
    if spec.strategy == Strategy.DELTA:
        lineage += ("version",)   # newest wins by it, whatever order deliveries arrive in
    missing = [name for name in lineage if name not in spec.table.c]
    if spec.strategy != Strategy.WORKBOOK and missing:
        raise RegistryError(spec.name, f"tabellen {spec.table.name} saknar {', '.join(missing)}")
    if spec.personal and "pseudonym" not in spec.record_key:
        raise RegistryError(spec.name, "en personkälla nycklas med pseudonymen")
    for dependency in spec.depends_on:
        if dependency not in sources:
            raise RegistryError(spec.name, f"beror på okänd källa {dependency!r}")


def _dependency_order(sources: Mapping[str, Source]) -> list[Source]:
    """Topological order, ties in registration order; a cycle is an error."""
    done: dict[str, Source] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise RegistryError(name, "källorna beror på varandra i en cirkel")
        visiting.add(name)
        for dependency in sources[name].spec.depends_on:
            visit(dependency)
        visiting.discard(name)
        done[name] = sources[name]

    for name in sources:
        visit(name)
    return list(done.values())


def _unique(registry: Registry, what: str, value) -> None:
    seen: dict[str, str] = {}
    for spec in registry.specs():
        key = value(spec)
        if key in seen:
            raise RegistryError(spec.name, f"samma {what} {key!r} som källan {seen[key]}")
        seen[key] = spec.name


# The one list of sources: a new source is a folder under sources/ and a line here.
REGISTRY = Registry([budget.SOURCE, insats.SOURCE, samtycke.SOURCE, fk.SOURCE, af.SOURCE,
                     soc.SOURCE, hsf.SOURCE, ekonomi.SOURCE])
