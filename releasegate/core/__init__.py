"""The domain: types, state folding, gate evaluation, the clock and the error family.

Pure: nothing in core reads git, files or the terminal.
"""
