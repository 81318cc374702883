"""Trust: signed statements bound to the artifact, checked with ssh-keygen."""
