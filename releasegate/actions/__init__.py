"""The acts releasegate performs: the API the CLI and the demo share.

Each function loads what it needs, validates against the committed state, folds,
evaluates and appends, inside one ledger transaction. None prints or prompts.
"""
