"""Statistics over the rate panel: import weights and effective (import-weighted) tariff rates."""
