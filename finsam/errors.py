"""The project's exceptions. Each carries its context; no message ever holds an identity number."""

from __future__ import annotations

from pathlib import Path


class FinsamError(Exception):
    """Base of every error finsam raises on purpose."""


class ConfigurationError(FinsamError):
    """A setting, key file or URL is missing or unusable. The message says what to set."""

    def __init__(self, setting: str, problem: str):
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class KeyFileError(ConfigurationError):
    """A secret key file is missing, unreadable or too short."""

    def __init__(self, env_var: str, path: str | Path | None, problem: str, *,
                 advice: str | None = None):
        self.path = None if path is None else Path(path)
        where = "är inte satt" if path is None else f"pekar på {path}, som {problem}"
        advice = advice or (f"Sätt {env_var} till en läsbar nyckelfil (minst 32 byte; README "
                            "beskriver hur nycklarna skapas)")
        super().__init__(env_var, f"{where}. {advice}.")


class KeyMismatch(ConfigurationError):
    """A key file holds another key than the one the warehouse was written with. Nothing has been
    written when this is raised; the message says how to go on."""

    def __init__(self, env_var: str, role: str):
        self.role = role
        super().__init__(env_var, (
            f"{role} är inte den som lagret skrevs med (kontrollvärdet i lagret stämmer inte). "
            "Inget har skrivits. Sätt tillbaka rätt nyckelfil; en nyckel byts bara med "
            "`finsam nycklar byt`, som nycklar om hela lagret"))


class WarehouseBusy(ConfigurationError):
    """Another run holds the warehouse's run lock longer than this run may wait."""

    def __init__(self, warehouse: str, holder: str, waited: float):
        self.holder = holder
        super().__init__("lagret", (
            f"{warehouse} används av en annan körning ({holder}); väntade {waited:.0f} s. "
            "Inget har skrivits. Kör igen när den är klar, eller vänta längre med "
            "FINSAM_LOCK_WAIT_SECONDS"))


class DeliveryRejected(FinsamError):
    """A whole delivery file cannot be read: wrong encoding, missing required column, unreadable sheet.

    The rest of the run goes on; the file is recorded in the manifest as rejected.
    """

    def __init__(self, source: str, file: str, reason: str, *, column: str | None = None,
                 line: int | None = None):
        self.source = source
        self.file = file
        self.reason = reason
        self.column = column
        self.line = line
        where = file
        if line is not None:
            where += f", rad {line}"
        if column is not None:
            where += f", kolumn {column!r}"
        # Swedish: the steward reads these in the review page
        super().__init__(f"{source}: avvisad fil {where}: {reason}")


class MissingColumn(DeliveryRejected):
    """A required column is missing. Only the contract's own headers are named; other headers are
    counted, never shown (in a file without a header row they are a person's data)."""

    def __init__(self, source: str, file: str, column: str, known: list[str], others: int, *,
                 headerless: bool = False):
        found = ", ".join(known) if known else "inga av kontraktets"
        extra = f" och {others} andra" if others else ""
        reason = (f"obligatorisk kolumn {column!r} saknas (kolumner i filen: {found}{extra})")
        if headerless:
            reason = f"filen saknar rubrikrad: första raden ser ut som data ({reason})"
        super().__init__(source, file, reason, column=column)


class DuplicateColumn(DeliveryRejected):
    """A contract column appears twice in the header: which of the two holds the truth cannot be
    known, so neither is read."""

    def __init__(self, source: str, file: str, column: str):
        super().__init__(source, file, (
            f"kolumnen {column!r} finns två gånger i rubrikraden; be parten leverera filen med "
            "kolumnen en gång"), column=column)


ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}


class EncodingRejected(DeliveryRejected):
    def __init__(self, source: str, file: str, expected: str, line: int):
        name = ENCODING_NAMES.get(expected, expected)
        super().__init__(source, file, f"tecknen kan inte läsas som {name}", line=line)


class WarehouseError(FinsamError):
    """The warehouse could not be reached, migrated or written."""


class WarehouseSchemaViolation(WarehouseError):
    """A frame about to be loaded breaks its table's schema; the load is rolled back."""

    def __init__(self, table: str, problems: list[str]):
        self.table = table
        self.problems = problems
        super().__init__(f"tabellen {table} laddas inte: {'; '.join(problems)}")


class RunFailed(FinsamError):
    """A Dagster run did not succeed; carries the failed steps."""

    def __init__(self, run_id: str, failed_steps: list[str], reason: str, *, details: str = ""):
        self.run_id = run_id
        self.failed_steps = failed_steps
        self.details = details    # the chain of exceptions (masked), for the log file
        super().__init__(f"körning {run_id} misslyckades i {', '.join(failed_steps) or 'start'}: "
                         f"{reason}")


class RegistryError(FinsamError):
    """A source's declaration is incomplete or contradicts itself; finsam refuses to start."""

    def __init__(self, source: str, problem: str):
        self.source = source
        self.problem = problem
        super().__init__(f"källan {source!r}: {problem}")
