"""tariffstack: U.S. tariff rate stacks, layer by layer, from the official schedule."""

__version__ = "0.1.0"
