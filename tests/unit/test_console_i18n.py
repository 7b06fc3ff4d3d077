"""The console's catalogue (api/web/i18n.py): every message in Finnish, Swedish and English with the
same placeholders, and legal citations put into words in each language."""
from __future__ import annotations

import re
from pathlib import Path

from api.web import i18n

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"


def test_every_key_has_three_languages_with_the_same_placeholders():
    for key, texts in i18n.M.items():
        assert len(texts) == 3 and all(t.strip() for t in texts), key
        fields = [sorted(re.findall(r"\{(\w+)\}", t)) for t in texts]
        assert fields[0] == fields[1] == fields[2], (key, fields)


def test_every_key_a_template_uses_is_in_the_catalogue():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        # whole keys only: `_("bal." + key)` is covered by the pages' tests
        used |= set(re.findall(r"""_\(\s*["']([a-z_.]*[a-z_])["']""", template.read_text()))
    assert used and used <= set(i18n.M), used - set(i18n.M)


def test_every_error_code_has_words():
    from api.errors import STATUS

    assert {f"err.{code}" for code in STATUS} <= set(i18n.M)


def test_every_role_has_words():
    from adapters.auth import ROLES

    assert {f"role.{r}" for r in ROLES} <= set(i18n.M)


def test_legal_basis_in_words():
    stored = "Act 1133/2002 §8(1)(1), §8(3)"
    assert i18n.basis_in_words(stored, "fi") == \
        "laki sosiaalisesta luototuksesta (1133/2002) 8 § 1 mom. 1 kohta, 8 § 3 mom."
    assert i18n.basis_in_words(stored, "sv") == \
        "lagen om social kreditgivning (1133/2002) 8 § 1 mom. 1 punkten, 8 § 3 mom."
    assert i18n.basis_in_words(stored, "en") == "the Act on Social Credit (1133/2002) section 8(1)(1), section 8(3)"
    assert i18n.basis_in_words("Act 1133/2002 §7a", "fi") == "laki sosiaalisesta luototuksesta (1133/2002) 7a §"
    assert i18n.basis_in_words(None, "sv") == "–"


def test_language_choice():
    assert i18n.pick("sv-FI,sv;q=0.9,en;q=0.5") == "sv"
    assert i18n.pick("de-DE,en;q=0.5") == "en"
    assert i18n.pick(None) == "fi"
    assert i18n.pick("sv", chosen="en") == "en" and i18n.pick("sv", chosen="xx") == "sv"


def test_every_part_is_merged_once_and_a_key_defined_twice_is_refused():
    import importlib

    import pytest

    for name in i18n.PARTS:
        part = importlib.import_module(name).M
        assert part and all(i18n.M[key] == texts for key, texts in part.items()), name
    with pytest.raises(ValueError, match="defined twice"):
        i18n._merge(dict(i18n.M), i18n.PARTS[:1])


def test_every_catalogue_module_is_a_part():
    """An api/web/i18n_*.py left out of i18n.PARTS would leave its pages' words missing."""
    modules = {f"api.web.{p.stem}" for p in TEMPLATES.parent.glob("i18n_*.py")}
    assert "api.web.i18n_money" in modules and modules == set(i18n.PARTS)
