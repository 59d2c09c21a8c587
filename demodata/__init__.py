"""Demo data (``finsam demo``): a realistic landing zone with the partners' usual mistakes in it."""

from demodata.generator import INJECTED_FILE_NAME, GeneratedLandingZone, generate

__all__ = ["INJECTED_FILE_NAME", "GeneratedLandingZone", "generate"]
