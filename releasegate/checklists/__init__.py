"""The default checklist templates that `releasegate init` copies into a new ledger."""
