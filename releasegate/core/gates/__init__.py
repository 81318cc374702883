"""Gate evaluation, one module per condition kind; `evaluate` combines them."""
