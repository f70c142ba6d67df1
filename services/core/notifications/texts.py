"""What a notification says, in Chinese first and English for readers who chose it.

The texts only ever fill in what the recipient may read: a problem's title (shown even in a
redacted read) or its number, an expert's name, a review comment to the problem's owner. Never
a description, a budget, a withheld organization or a message body.
"""

from __future__ import annotations

from typing import Any

LINES: dict[str, tuple[str, str]] = {
    "recommendation": ("新的推荐需求：{title}", "A problem that fits you: {title}"),
    "invitation": ("你收到一项邀请：{title}", "You are invited to answer: {title}"),
    "answer.interested": ("{expert} 对「{title}」有意向", "{expert} is interested in “{title}”"),
    "answer.declined": ("{expert} 婉拒了「{title}」", "{expert} declined “{title}”"),
    "message": ("「{title}」有新消息", "New message on “{title}”"),
    "review.approve": ("你的需求「{title}」已通过审核", "Your problem “{title}” was approved"),
    "review.return": (
        "你的需求「{title}」被退回：{comment}",
        "Your problem “{title}” was returned: {comment}",
    ),
    "queue": ("新需求待审核：{title}", "A problem waits for review: {title}"),
    "deal": ("「{title}」已记录成交", "A deal was recorded on “{title}”"),
    "account.approved": (
        "你的专家注册已通过审核，欢迎加入绿平台",
        "Your expert sign-up was approved: welcome to greenplat",
    ),
    "account.rejected": (
        "你的专家注册未通过审核：{reason}",
        "Your expert sign-up was not approved: {reason}",
    ),
    "recommendation.nudge": (
        "「{title}」仍在等待专家回应",
        "“{title}” is still waiting for an expert's answer",
    ),
}
DIGEST = ("绿平台每日汇总：{n} 条新通知", "greenplat daily digest: {n} new notifications")
FOOTER = (
    "在绿平台处理：{link}\n\n你可以在「通知设置」中选择哪些通知发送邮件。",
    "Act on it in greenplat: {link}\n\nChoose which notifications are e-mailed under "
    "Notification settings.",
)


def _key(kind: str, params: dict[str, Any]) -> str:
    variant = params.get("variant")
    return f"{kind}.{variant}" if variant else kind


def line(kind: str, params: dict[str, Any], language: str) -> str:
    """The one-line text of a notification in the language (zh-CN unless 'en')."""
    zh, en = LINES[_key(kind, params)]
    values = {
        "title": f"#{params.get('problem_id', '')}",
        "expert": "",
        "comment": "",
        "reason": "",
    } | params
    return (en if language == "en" else zh).format(**values)


def mail(lines: list[str], link: str, language: str, *, digest: bool = False) -> tuple[str, str]:
    """(subject, body) of an e-mail carrying these notification lines."""
    pick = 1 if language == "en" else 0
    subject = DIGEST[pick].format(n=len(lines)) if digest else lines[0]
    body = "\n".join(f"· {x}" for x in lines) + "\n\n" + FOOTER[pick].format(link=link)
    return subject, body
