"""Which key signs: `--key FILE`, else RELEASEGATE_SIGNING_KEY, else git's
`user.signingKey` where git signs with SSH (`gpg.format ssh`): a key file, or `key::`
and a public key line whose private half is in ssh-agent. A public key file works
too when ssh-agent holds the private key."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from releasegate.core.errors import InputError
from releasegate.ledger.store import GitStore


def signing_key(explicit: Path | None, environ: Mapping[str, str],
                store: GitStore) -> Path | None:
    """The key to sign with, or None when none is configured anywhere."""
    if explicit is not None:
        return _existing(explicit, "--key")
    from_env = environ.get("RELEASEGATE_SIGNING_KEY")
    if from_env:
        return _existing(Path(from_env).expanduser(), "RELEASEGATE_SIGNING_KEY")
    if (store.config_value("gpg.format") or "").lower() != "ssh":
        return None  # git signs with GPG here: its user.signingKey is no SSH key
    configured = store.config_value("user.signingkey")
    if not configured:
        return None
    if configured.startswith("key::"):
        folder = Path(tempfile.mkdtemp(prefix="releasegate-key-"))
        public = folder / "agent-key.pub"
        public.write_text(configured.removeprefix("key::").strip() + "\n", encoding="utf-8")
        return public
    return _existing(Path(configured).expanduser(), "git's user.signingKey")


def _existing(path: Path, source: str) -> Path:
    if not path.is_file():
        raise InputError(f"the signing key {path} (from {source}) is not a file",
                         file=str(path), code="no-key",
                         hint="give the path of your SSH private key, or of its .pub file "
                              "when ssh-agent holds the key")
    return path
