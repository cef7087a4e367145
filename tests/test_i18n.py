"""Every user-facing string in the code has a Simplified Chinese translation in the shipped,
compiled catalogue; English is the source language."""

import ast
import gettext
from pathlib import Path

from django.conf import settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
SOURCE_DIRS = ["config", "agents", "reports", "plans", "appraisals", "notifications"]
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "gettext_noop"}


def _strings_marked_for_translation():
    for directory in SOURCE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in GETTEXT_NAMES or not node.args:
                    continue
                args = node.args[1:] if name.startswith("pgettext") else node.args
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", args[0].value


def test_every_marked_string_has_a_chinese_translation():
    catalog = gettext.translation(
        "django", localedir=str(ROOT / "locale"), languages=["zh_Hans"]
    )._catalog
    missing = sorted(
        f"{where}: {text!r}"
        for where, text in _strings_marked_for_translation()
        if not catalog.get(text)
    )
    assert not missing, "untranslated (run `make messages` and translate):\n" + "\n".join(missing)


def test_language_follows_the_request_and_defaults_to_chinese(client, db):
    assert settings.LANGUAGES[0][0] == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Agent") == "代理"
    with translation.override("en"):
        assert translation.gettext("Agent") == "Agent"
