"""The rate engines: the U.S. stack for a product, origin and date (``us``), its timelines and search."""

from tariffstack.engine.us import Engine, Inputs, parse_date, parse_hts

__all__ = ["Engine", "Inputs", "parse_date", "parse_hts"]
