"""Duty in dollars: one shipment, whole files (locally or on Spark), and IEEPA refund estimates.

The calculator turns the engine's duty stacks into money (ad valorem, specific and compound
duties with unit conversion, all-in floors on the ad valorem equivalent, duties on part of the
value), adds the user fees (MPF, HMF) and the low-value rules (de minimis, postal duties), and
prices files by evaluating each distinct situation once. docs/CALC.md documents the columns.
"""

from tariffstack.calc.pricing import PanelTables, Pricer
from tariffstack.calc.quote import Quote, Shipment, quote

__all__ = ["PanelTables", "Pricer", "Quote", "Shipment", "quote"]
