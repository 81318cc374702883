"""releasegate: vendor patches through dev, test and prod, gate by gate, on a git ledger."""

__version__ = "0.1.0"
