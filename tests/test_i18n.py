"""The whole product speaks Simplified Chinese first, English second.

Every user-facing string in the code and the templates has a zh-hans translation in the shipped,
compiled catalogue (English is the source language), and no user-facing text is left unmarked:
error messages, model, form, filter and serializer labels and help texts, admin action names.
The source folders are the project's own apps (read from INSTALLED_APPS) and config/, so a new
app is covered without editing this file.
"""

import ast
import gettext
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
# Calls whose first argument is shown to a user: a plain literal there is an untranslated message.
MESSAGE_CALLS = {
    "ValidationError",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "ParseError",
    "APIException",
    "Throttled",
    "message_user",
}
# Keyword arguments that label things in the admin, forms, filters and the browsable API.
LABEL_KEYWORDS = {
    "verbose_name",
    "verbose_name_plural",
    "help_text",
    "label",
    "short_description",
    "empty_label",
}


def _source_dirs() -> list[Path]:
    own = [
        Path(app.path)
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(ROOT) and ".venv" not in Path(app.path).parts
    ]
    return sorted({*own, ROOT / "config"})


def _python_files():
    for directory in _source_dirs():
        for path in directory.rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"))


def _call_name(node: ast.Call) -> str | None:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def _strings_marked_in_python():
    for path, tree in _python_files():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _call_name(node) not in GETTEXT_NAMES:
                continue
            args = node.args[1:] if "pgettext" in _call_name(node) else node.args
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", args[0].value


_TEMPLATE_CALL = re.compile(r"\b(n?p?gettext)\((u?'(?:[^'\\]|\\.)*')")


def _strings_marked_in_templates():
    for directory in _source_dirs():
        for path in directory.rglob("templates/**/*.html"):
            code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            for match in _TEMPLATE_CALL.finditer(code):
                if match.group(1).startswith(("pgettext", "npgettext")):
                    continue  # the first argument is the context; none are used so far
                yield str(path.relative_to(ROOT)), ast.literal_eval(match.group(2).lstrip("u"))


def _literal(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    if isinstance(node, ast.JoinedStr):
        # f"{title} · {label}" only arranges texts translated elsewhere; words in it are not.
        words = "".join(p.value for p in node.values if isinstance(p, ast.Constant))
        return f"<f-string {words!r}>" if any(ch.isalpha() for ch in words) else None
    return None


def _unmarked_in(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{name}:{node.lineno}"
        if _call_name(node) in MESSAGE_CALLS and len(node.args) > (
            _call_name(node) == "message_user"
        ):
            first = node.args[1] if _call_name(node) == "message_user" else node.args[0]
            values = first.values if isinstance(first, ast.Dict) else [first]
            for value in values:
                items = value.elts if isinstance(value, ast.List) else [value]
                for item in items:
                    if (text := _literal(item)) is not None:
                        yield f"{where}: {_call_name(node)}({text!r})"
        for keyword in node.keywords:
            if keyword.arg in LABEL_KEYWORDS and (text := _literal(keyword.value)) is not None:
                yield f"{where}: {keyword.arg}={text!r}"


def _unmarked_literals():
    for path, tree in _python_files():
        yield from _unmarked_in(tree, str(path.relative_to(ROOT)))


def _catalog() -> dict:
    locale = str(ROOT / "locale")
    return gettext.translation("django", localedir=locale, languages=["zh_Hans"])._catalog


def _translated(catalog: dict, text: str) -> bool:
    # Plural entries are keyed (msgid, index) in the compiled catalogue.
    return bool(catalog.get(text) or catalog.get((text, 0)))


def test_every_marked_string_has_a_chinese_translation():
    catalog = _catalog()
    missing = sorted(
        f"{where}: {text!r}"
        for where, text in [*_strings_marked_in_python(), *_strings_marked_in_templates()]
        if not _translated(catalog, text)
    )
    assert not missing, "untranslated (run `make messages` and translate):\n" + "\n".join(missing)


def test_no_user_facing_text_is_left_unmarked():
    unmarked = sorted(_unmarked_literals())
    assert not unmarked, "wrap these in gettext / gettext_lazy:\n" + "\n".join(unmarked)


def test_the_scan_finds_templates_and_unmarked_text(tmp_path):
    """The scanners above must not silently find nothing."""
    assert any(True for _ in _strings_marked_in_python())
    code = templatize('{% load i18n %}{% translate "Dashboard" %}', origin="x.html")
    assert [ast.literal_eval(m.group(2).lstrip("u")) for m in _TEMPLATE_CALL.finditer(code)] == [
        "Dashboard"
    ]
    tree = ast.parse(
        'raise ValidationError({"f": ["plain"]})\n'
        'x = F(help_text="also plain", label=_("marked"))\n'
        'raise NotFound(_("marked too"))\n'
        'y = F(label=f"{a} · {b}", help_text=f"{n} items")\n'
    )
    assert list(_unmarked_in(tree, "x.py")) == [
        "x.py:1: ValidationError('plain')",
        "x.py:2: help_text='also plain'",
        "x.py:4: help_text=\"<f-string ' items'>\"",
    ]


def test_language_follows_the_request_and_defaults_to_chinese(client, db):
    from config.settings import base

    # The tests themselves run in English (config/settings/test.py); the product's default is not.
    assert base.LANGUAGE_CODE == "zh-hans"
    assert settings.LANGUAGES[0][0] == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Agent") == "代理"
    with translation.override("en"):
        assert translation.gettext("Agent") == "Agent"
