"""The notice board: a static web site of every release notice, the environment board
and Atom feeds, that any intranet web server can host or that opens from disk.

`model` turns patch states and the board into localized rows, `build` lays pages out
with jinja2, `feeds` writes Atom, and `output` writes only the files whose bytes
changed. Every link is relative, so the site works from file:// too. The phrases of
the site's own frame live here; a notice's phrases live in releasegate.notices.
"""

from __future__ import annotations

import posixpath

MANIFEST = ".releasegate-site.json"
FEED_ENTRIES = 100  # newest notices per feed; older ones stay on the index

EN: dict[str, str] = {
    "site.title": "Release notices",
    "site.author": "Release management",
    "site.footer": "Published by releasegate from the release records. Times are in {timezone}.",
    "nav.label": "Site",
    "nav.notices": "Notices",
    "nav.board": "Environments",
    "nav.languages": "Language",
    "index.count": "{count} notices",
    "index.latest": "Latest change: {time}",
    "index.feeds": "Subscribe (Atom)",
    "index.feed_all": "all systems",
    "filter.label": "Filter the notices",
    "filter.system": "System",
    "filter.env": "Environment",
    "filter.all_systems": "All systems",
    "filter.all_envs": "All environments",
    "filter.search": "Search",
    "filter.placeholder": "Reference, title, system…",
    "filter.no_match": "No notice matches the filter.",
    "filter.shown": "{shown} of {count} shown",
    "col.updated": "Updated",
    "col.notice": "Notice",
    "col.system": "System",
    "col.env": "Environment",
    "col.status": "Status",
    "env.none": "not in any environment yet",
    "patch.technical": "Technical details (for IT)",
    "board.title": "Environments now",
    "board.lead": "What is installed in each environment, and what each change on its way "
                  "still waits for.",
    "board.empty": "Nothing here.",
    "board.col.patch": "Change",
    "board.col.since": "Since",
    "board.col.digest": "Patch digest",
    "board.on_the_way": "On the way",
    "board.none_on_the_way": "No change is on its way.",
    "board.next": "{current} → {target}",
    "board.open": "Ready: every condition of the gate into {target} is met.",
    "board.waits": "The gate into {target} waits for:",
    "board.problem": "The gate cannot be evaluated: {problem}",
    "board.col.detail": "Waits for (as recorded)",
    "board.col.from": "From",
    "board.anyone": "—",
    "board.json": "The board as JSON",
    "feed.title.all": "Release notices",
    "feed.title.system": "Release notices: {system}",
    "lang.en": "English",
    "lang.zh-CN": "中文",
}

ZH_CN: dict[str, str] = {
    "site.title": "发布公告",
    "site.author": "发布管理",
    "site.footer": "由 releasegate 根据发布记录生成。时间为 {timezone} 时间。",
    "nav.label": "网站导航",
    "nav.notices": "公告",
    "nav.board": "环境看板",
    "nav.languages": "语言",
    "index.count": "共 {count} 条公告",
    "index.latest": "最近变更：{time}",
    "index.feeds": "订阅（Atom）",
    "index.feed_all": "全部系统",
    "filter.label": "筛选公告",
    "filter.system": "系统",
    "filter.env": "环境",
    "filter.all_systems": "全部系统",
    "filter.all_envs": "全部环境",
    "filter.search": "搜索",
    "filter.placeholder": "编号、标题、系统……",
    "filter.no_match": "没有符合筛选条件的公告。",
    "filter.shown": "显示 {shown} / {count} 条",
    "col.updated": "更新时间",
    "col.notice": "公告",
    "col.system": "系统",
    "col.env": "环境",
    "col.status": "状态",
    "env.none": "尚未进入任何环境",
    "patch.technical": "技术细节（供IT人员参阅）",
    "board.title": "各环境现状",
    "board.lead": "各环境当前安装的变更，以及进行中的变更还在等待什么。",
    "board.empty": "暂无。",
    "board.col.patch": "变更",
    "board.col.since": "进入时间",
    "board.col.digest": "补丁摘要",
    "board.on_the_way": "进行中",
    "board.none_on_the_way": "目前没有进行中的变更。",
    "board.next": "{current} → {target}",
    "board.open": "已就绪：进入{target}的各项条件均已满足。",
    "board.waits": "进入{target}还在等待：",
    "board.problem": "无法评估准入条件：{problem}",
    "board.col.detail": "等待事项（按记录原文）",
    "board.col.from": "负责人",
    "board.anyone": "—",
    "board.json": "看板数据（JSON）",
    "feed.title.all": "发布公告",
    "feed.title.system": "发布公告：{system}",
    "lang.en": "English",
    "lang.zh-CN": "中文",
}

PHRASES: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH_CN}


def site_phrase(lang: str, key: str, **values: object) -> str:
    """The site's phrase `key` in `lang` with its placeholders filled."""
    return PHRASES[lang][key].format(**values)


def language_root(lang: str, languages: tuple[str, ...]) -> str:
    """The folder of `lang`'s pages: the site root for the first language, else `<lang>/`."""
    return "" if lang == languages[0] else f"{lang}/"


def index_path(lang: str, languages: tuple[str, ...]) -> str:
    return language_root(lang, languages) + "index.html"


def board_path(lang: str, languages: tuple[str, ...]) -> str:
    return language_root(lang, languages) + "board.html"


def patch_path(patch: str, lang: str, languages: tuple[str, ...]) -> str:
    return f"{language_root(lang, languages)}patches/{patch}.html"


def feed_path(system: str | None, lang: str, languages: tuple[str, ...]) -> str:
    """The Atom feed of every system (None) or of one."""
    name = "all.atom" if system is None else f"systems/{system}.atom"
    return f"{language_root(lang, languages)}feeds/{name}"


def relative(target: str, page: str) -> str:
    """The link from the page at `page` to `target`, both relative to the site root."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")
