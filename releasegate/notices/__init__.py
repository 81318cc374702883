"""Release notices: what a vendor patch changes, for business readers and for IT.

`catalogue` holds every fixed phrase per language, `context` turns a patch's state
and gate report into localized values, and `render` lays them out with jinja2
templates (markdown, plain text, HTML) and builds e-mail messages. jinja2 is imported
only when a notice is rendered.
"""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
AUDIENCES = ("business", "technical")
KINDS = ("upcoming", "released", "rolled-back")
FORMATS = ("md", "html", "text", "eml")
