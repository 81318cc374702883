"""History that cannot be rewritten unseen.

Each clone remembers, inside `.git/releasegate/`, the last head of its branch that a
command read and the last head of the shared remote it fetched. A new head that does
not descend from the remembered one (a force-push, a reset to an old state) stops
every command with exit 1 until a person has checked it and run
`releasegate verify --accept-rewrite`.
"""

from __future__ import annotations

import os

from releasegate.core.errors import VerificationError
from releasegate.ledger.store import GitStore

LOCAL, REMOTE = "verified-head", "verified-remote"


class History:
    """The remembered heads of one clone."""

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self.folder = store.root / ".git" / "releasegate"

    def remembered(self, which: str) -> str | None:
        try:
            text = (self.folder / which).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return text if len(text) == 40 and all(c in "0123456789abcdef" for c in text) \
            else None

    def check(self, which: str, head: str | None, *, accept: bool = False) -> None:
        """Refuse `head` when it does not descend from the remembered one; remember it."""
        if head is None or not (self.folder.parent).is_dir():
            return
        known = self.remembered(which)
        if known == head:
            return
        if known is not None and not accept and not self.store.is_ancestor(known, head):
            where = "the shared ledger's branch" if which == REMOTE else "the ledger's branch"
            raise VerificationError(
                f"the ledger's history was rewritten: {where} is now at {head[:12]}, which "
                f"does not contain {known[:12]}, the last head this clone verified; nothing "
                "was done", code="history-rewritten",
                hint=f"find out what changed (`git log {head[:12]}..{known[:12]}`, `git "
                     "reflog`), restore it if it was not meant, else run `releasegate verify "
                     "--accept-rewrite`")
        self.remember(which, head)

    def remember(self, which: str, head: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{which}.{os.getpid()}.tmp"
            tmp.write_text(head + "\n", encoding="ascii")
            tmp.replace(self.folder / which)
        except OSError:
            pass  # remembering is a safeguard; a read-only clone can still be read
