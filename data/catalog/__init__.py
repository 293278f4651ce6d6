"""The catalog: every mutable table (accounts, rosters, audit, loads, SSR deliveries, ...)."""
