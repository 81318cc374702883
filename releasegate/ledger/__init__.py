"""The ledger: the git store, event files, caches, ids and the committed pipeline."""
