"""The notice board: a static web site of every release notice, the environment board
and Atom feeds, that any intranet web server can host or that opens from disk.

`rows` turns patch states and the board into localized rows, `build` lays pages out
with jinja2, `feeds` writes Atom, and `files` writes only the files whose bytes
changed; `paths` says where each page lives. Every link is relative, so the site works
from file:// too. The site's phrases live with the notices' in releasegate.notices.catalogue.
"""
