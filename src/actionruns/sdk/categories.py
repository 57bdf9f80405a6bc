"""The one vocabulary of app categories, the slugs of Zapier's app directory, so that a
partner's picker groups apps as its users know them from there.

An app names one or more (``App(categories=...)``, an overlay's ``categories:``). A few
shorter words that apps were written with are accepted as aliases and always answered as
the vocabulary's slug (``ai`` is ``artificial-intelligence``); any other word is refused by
``actionruns connectors check``.
"""

from __future__ import annotations

from collections.abc import Iterable

# slug: the title a picker shows.
CATEGORIES: dict[str, str] = {
    "accounting": "Accounting",
    "ads-conversion": "Ads & Conversion",
    "analytics": "Analytics",
    "artificial-intelligence": "AI Tools",
    "calendar": "Calendar",
    "communication": "Communication",
    "crm": "CRM",
    "customer-support": "Customer Support",
    "databases": "Databases",
    "developer-tools": "Developer Tools",
    "documents": "Documents",
    "ecommerce": "eCommerce",
    "email": "Email",
    "email-newsletters": "Email Newsletters",
    "file-management-storage": "File Management & Storage",
    "forms": "Forms & Surveys",
    "human-resources": "Human Resources",
    "images-design": "Images & Design",
    "internet-of-things": "Internet of Things",
    "it-operations": "IT Operations",
    "marketing-automation": "Marketing Automation",
    "notes": "Notes",
    "payment-processing": "Payment Processing",
    "phone-sms": "Phone & SMS",
    "productivity": "Productivity",
    "project-management": "Project Management",
    "security-identity": "Security & Identity",
    "server-monitoring": "Server Monitoring",
    "spreadsheets": "Spreadsheets",
    "task-management": "Task Management",
    "team-chat": "Team Chat",
    "transactional-email": "Transactional Email",
    "translation": "Translation",
    "utilities": "Utilities",  # ours: the built-in formatter and the like
    "video-conferencing": "Video Conferencing",
    "website-builders": "Website & App Building",
}

# Words apps were written with, and the slug each stands for; with Activepieces' categories
# (SALES_AND_CRM, as a piece's manifest writes it "Sales And Crm").
ALIASES: dict[str, str] = {
    "ai": "artificial-intelligence",
    "business-intelligence": "analytics",
    "commerce": "ecommerce",
    "content-and-files": "file-management-storage",
    "core": "utilities",
    "customer-service": "customer-support",
    "file-management-and-storage": "file-management-storage",
    "flow-control": "utilities",
    "forms-and-surveys": "forms",
    "sales-and-crm": "crm",
    "universal-ai": "artificial-intelligence",
    "collaboration": "productivity",
    "design": "images-design",
    "identity": "security-identity",
    "iot": "internet-of-things",
    "marketing": "marketing-automation",
    "messaging": "developer-tools",
    "monitoring": "server-monitoring",
    "payments": "payment-processing",
    "sales": "crm",
    "search": "developer-tools",
    "security": "security-identity",
    "sms": "phone-sms",
    "support": "customer-support",
}


def canonical(word: str) -> str | None:
    """The vocabulary's slug for ``word`` (a slug or an alias, in any case, with spaces or
    underscores for hyphens), or None if it is neither."""
    spelled = "-".join(word.strip().lower().replace("_", " ").split())
    if spelled in CATEGORIES:
        return spelled
    return ALIASES.get(spelled)


def slugs(words: Iterable[str]) -> tuple[str, ...]:
    """An app's categories as the vocabulary's slugs, each once, in the app's order; a word
    outside the vocabulary is left out (``connectors check`` names it)."""
    found = (canonical(word) for word in words)
    return tuple(dict.fromkeys(slug for slug in found if slug is not None))
