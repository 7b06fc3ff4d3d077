"""The console's words for the applications pages (issue 22, api/web/application_pages.py): a plain
dict of key: (fi, sv, en), merged into api/web/i18n.M (i18n.PARTS)."""
from __future__ import annotations

M: dict[str, tuple[str, str, str]] = {
    "nav.applications": ("Hakemukset", "Ansökningar", "Applications"),
}
