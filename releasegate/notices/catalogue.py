"""Every fixed phrase of a notice, per language, and the language's way with dates.

Both dictionaries hold the same keys with the same {placeholders} (a test checks),
so a translator edits values only. Environment names the catalogue knows (dev, test,
prod) are shown in the reader's words; others are shown as configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

EN: dict[str, str] = {
    # subject and lead
    "subject.upcoming": "[Upcoming change] {patch}: {title}",
    "subject.released": "[Released] {patch}: {title}",
    "subject.rolled-back": "[Rolled back] {patch}: {title}",
    "status.upcoming": "Upcoming change",
    "status.released": "Released",
    "status.rolled-back": "Rolled back",
    "lead": "{status} · System {system} · Reference {patch}",
    # business sections
    "h.what": "What changes",
    "h.who": "Who is affected",
    "h.when": "When",
    "h.downtime": "Expected downtime",
    "h.action": "What you need to do",
    "h.fixes.upcoming": "Known problems this will fix",
    "h.fixes.released": "Known problems this fixes",
    "h.fixes.rolled-back": "Known problems it was meant to fix (still open)",
    "h.contact": "Contact",
    "label.system": "System",
    "label.functions": "Business functions",
    "what.none": "The vendor gave no further description.",
    "functions.none": "not stated",
    "when.upcoming": "Not scheduled yet. The change is now in {current} and waits for "
                     "approval to enter {next}.",
    "when.upcoming.new": "Not scheduled yet. The change has been received and waits for "
                         "approval to enter {next}.",
    "when.released": "In {env} since {time}.",
    "when.rolled-back": "The change has been withdrawn from {env}; the previous version is "
                        "in use again.",
    "downtime.unknown": "Not stated for this change; any interruption of service will be "
                        "announced separately.",
    "action.none": "No action is needed unless you are told otherwise.",
    "fixes.none": "This change names no specific known problems.",
    "contact.default": "Your usual IT support contact.",
    "footer.generated": "This notice was produced by releasegate from the release records.",
    "footer.sender": "Issued by {sender}.",
    "fallback.en": "(in English) ",
    "fallback.zh-CN": "(in Chinese) ",
    # environments
    "env.dev": "development",
    "env.test": "test",
    "env.prod": "production",
    # technical sections
    "h.technical": "Technical details",
    "h.delivery": "Vendor delivery",
    "label.vendor": "Vendor",
    "label.vendor_ref": "Vendor reference",
    "label.version": "Version",
    "label.digest": "Patch digest",
    "not_given": "not given",
    "h.artifacts": "Artifacts",
    "artifact.line": "{name} ({size}), sha256 {sha256}",
    "label.file": "File",
    "label.size": "Size",
    "label.sha256": "sha256",
    "h.tests": "Test results",
    "tests.none": "No test results were recorded for this delivery.",
    "suite.heading": "{suite} in {env}",
    "suite.counts": "Tests: {tests} (passed {passed}, failed {failed}, errors {errors}, "
                    "skipped {skipped}, flaky {flaky})",
    "suite.baseline": "Compared with the results of {patch}, which left {env} on {time}.",
    "suite.no_baseline": "No baseline yet: no other patch of this system has left {env}.",
    "suite.new_failures": "New failures (passed in the baseline, fail now)",
    "suite.known_failures": "Known failures (failing in the baseline too)",
    "suite.fixed": "Fixed (failed in the baseline, pass now)",
    "suite.missing": "Missing (in the baseline, not run now)",
    "none": "none",
    "h.waivers": "Waivers",
    "waiver.line": "{pattern}: waived by {person} until {until}. Reason: {reason}",
    "waivers.none": "No failing test was waived.",
    "h.gate": "Gate into {target}",
    "gate.passed": "Passed: {person} promoted the change into {target} on {time}.",
    "gate.open": "Current verdict: open; the change may be promoted.",
    "gate.closed": "Current verdict: closed; the conditions marked failed must be met first.",
    "gate.none": "No gate verdict is available.",
    "h.conditions": "Conditions",
    "condition.named": "{kind} ({name})",
    "label.result": "Result",
    "label.condition": "Condition",
    "label.detail": "Detail (as recorded)",
    "status.pass": "Passed",
    "status.fail": "Failed",
    "status.waived": "Waived",
    "kind.order": "Order",
    "kind.depends": "Dependencies",
    "kind.soak": "Soak time",
    "kind.checklists": "Checklist",
    "kind.tests": "Tests",
    "kind.signoffs": "Sign-off",
    "kind.waiver": "Waiver",
    "kind.signatures": "Signatures",
    "kind.windows": "Change window",
    "kind.parity": "Parity",
    "kind.emergency": "Emergency",
    "h.signoffs": "Sign-offs",
    "signoff.approve": "{role}: approved by {person} on {time}",
    "signoff.reject": "{role}: rejected by {person} on {time}",
    "signoff.comment": "“{comment}”",
    "signoffs.none": "No sign-off counts yet.",
    "h.checklists": "Checklists completed",
    "checklist.line": "{title}: completed by {person} on {time}",
    "checklists.none": "None yet.",
    "h.rollback": "Rollback plan",
    "rollback.none": "The vendor gave no rollback plan.",
    # formats
    "format.datetime": "{day} {month} {year} {hour}:{minute} ({timezone})",
    "format.months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "format.bytes": "{count} bytes",
    "format.list_separator": ", ",
    "colon": ": ",
}

ZH_CN: dict[str, str] = {
    # subject and lead
    "subject.upcoming": "【变更预告】{patch}：{title}",
    "subject.released": "【已上线】{patch}：{title}",
    "subject.rolled-back": "【已回退】{patch}：{title}",
    "status.upcoming": "变更预告",
    "status.released": "已上线",
    "status.rolled-back": "已回退",
    "lead": "{status} · 系统：{system} · 编号：{patch}",
    # business sections
    "h.what": "变更内容",
    "h.who": "影响范围",
    "h.when": "时间",
    "h.downtime": "预计停机时间",
    "h.action": "您需要做什么",
    "h.fixes.upcoming": "将修复的已知问题",
    "h.fixes.released": "已修复的已知问题",
    "h.fixes.rolled-back": "原计划修复的问题（仍未解决）",
    "h.contact": "联系方式",
    "label.system": "系统",
    "label.functions": "业务功能",
    "what.none": "厂商未提供更多说明。",
    "functions.none": "未说明",
    "when.upcoming": "尚未排定上线时间。该变更目前处于{current}环境，"
                     "正在等待进入{next}环境的审批。",
    "when.upcoming.new": "尚未排定上线时间。该变更已登记，正在等待进入{next}环境的审批。",
    "when.released": "已于{time}上线{env}环境。",
    "when.rolled-back": "该变更已从{env}环境撤回，系统已恢复使用之前的版本。",
    "downtime.unknown": "本次变更未注明；如有服务中断，将另行通知。",
    "action.none": "除非另行通知，您无需采取任何操作。",
    "fixes.none": "本次变更未列出具体修复的问题。",
    "contact.default": "请联系您平时对接的IT支持人员。",
    "footer.generated": "本通知由 releasegate 根据发布记录生成。",
    "footer.sender": "发布人：{sender}",
    "fallback.en": "（英文原文）",
    "fallback.zh-CN": "（中文原文）",
    # environments
    "env.dev": "开发",
    "env.test": "测试",
    "env.prod": "生产",
    # technical sections
    "h.technical": "技术信息",
    "h.delivery": "厂商交付",
    "label.vendor": "厂商",
    "label.vendor_ref": "厂商编号",
    "label.version": "版本",
    "label.digest": "补丁摘要",
    "not_given": "未提供",
    "h.artifacts": "交付文件",
    "artifact.line": "{name}（{size}），sha256 {sha256}",
    "label.file": "文件",
    "label.size": "大小",
    "label.sha256": "sha256",
    "h.tests": "测试结果",
    "tests.none": "本次交付尚未记录测试结果。",
    "suite.heading": "{suite}（{env}环境）",
    "suite.counts": "测试用例：{tests}个（通过{passed}，失败{failed}，错误{errors}，跳过{skipped}，"
                    "不稳定{flaky}）",
    "suite.baseline": "对比基线：{patch}的测试结果，该补丁于{time}从{env}环境推进到下一环境。",
    "suite.no_baseline": "暂无对比基线：该系统尚无其他补丁从{env}环境推进到下一环境。",
    "suite.new_failures": "新增失败（基线中通过，本次失败）",
    "suite.known_failures": "已知失败（基线中同样失败）",
    "suite.fixed": "已修复（基线中失败，本次通过）",
    "suite.missing": "缺失（基线中有，本次未运行）",
    "none": "无",
    "h.waivers": "豁免",
    "waiver.line": "{pattern}：由{person}豁免，有效期至{until}。理由：{reason}",
    "waivers.none": "没有失败用例被豁免。",
    "h.gate": "进入{target}环境的准入检查",
    "gate.passed": "已通过：{person}于{time}将该变更推进至{target}环境。",
    "gate.open": "当前结论：条件已满足，可以推进。",
    "gate.closed": "当前结论：条件未满足，须先完成标记为“未通过”的条件。",
    "gate.none": "暂无准入检查结论。",
    "h.conditions": "检查条件",
    "condition.named": "{kind}（{name}）",
    "label.result": "结果",
    "label.condition": "条件",
    "label.detail": "说明（系统原文）",
    "status.pass": "通过",
    "status.fail": "未通过",
    "status.waived": "已豁免",
    "kind.order": "环境顺序",
    "kind.depends": "依赖补丁",
    "kind.soak": "驻留时长",
    "kind.checklists": "检查单",
    "kind.tests": "测试",
    "kind.signoffs": "审批",
    "kind.waiver": "豁免",
    "kind.signatures": "签名",
    "kind.windows": "变更窗口",
    "kind.parity": "环境一致性",
    "kind.emergency": "紧急变更",
    "h.signoffs": "审批记录",
    "signoff.approve": "{role}：{person}于{time}批准",
    "signoff.reject": "{role}：{person}于{time}驳回",
    "signoff.comment": "“{comment}”",
    "signoffs.none": "尚无有效审批。",
    "h.checklists": "已完成的检查单",
    "checklist.line": "{title}：{person}于{time}完成",
    "checklists.none": "尚无。",
    "h.rollback": "回退方案",
    "rollback.none": "厂商未提供回退方案。",
    # formats
    "format.datetime": "{year}年{month}月{day}日 {hour}:{minute}（{timezone}）",
    "format.months": "1 2 3 4 5 6 7 8 9 10 11 12",
    "format.bytes": "{count} 字节",
    "format.list_separator": "、",
    "colon": "：",
}

PHRASES: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH_CN}


def phrase(lang: str, key: str, **values: object) -> str:
    """The phrase `key` in `lang` with its placeholders filled."""
    return PHRASES[lang][key].format(**values)


def has_phrase(lang: str, key: str) -> bool:
    return key in PHRASES[lang]


def env_name(lang: str, env: str) -> str:
    """An environment as the reader calls it; its configured name when unknown."""
    key = f"env.{env}"
    return phrase(lang, key) if has_phrase(lang, key) else env


def format_time(lang: str, moment: datetime, timezone: str) -> str:
    """A moment in the pipeline's time zone, written as the language writes dates."""
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(timezone))
    month = phrase(lang, "format.months").split()[local.month - 1]
    return phrase(lang, "format.datetime", day=local.day, month=month, year=local.year,
                  hour=f"{local.hour:02d}", minute=f"{local.minute:02d}", timezone=timezone)


def format_bytes(lang: str, count: int) -> str:
    return phrase(lang, "format.bytes", count=f"{count:,}")


def join(lang: str, items: tuple[str, ...] | list[str]) -> str:
    return phrase(lang, "format.list_separator").join(items)
