"""`VHR_LANG` for the CLI framework itself: Click's and Typer's own strings, and our help texts.

Click and Typer look their messages up through `gettext` (``_`` and ``ngettext`` bound in each of
their modules); we put our catalogue in those names. Our own help texts follow the project's
convention "Vietnamese / English"; with ``VHR_LANG=vi`` or ``en`` the help shows the one half.
``both`` (the default) shows Click's strings as "vi / en" too. The same choice applies to the
titles, headers and cells of the CLI's rich tables.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from vhr_conformance.i18n import preferred_language

# Click's and Typer's message ids (English) → Vietnamese.
CATALOGUE: dict[str, str] = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Arguments": "Đối số",
    "Error": "Lỗi",
    "Error: {message}": "Lỗi: {message}",
    "Aborted!": "Đã hủy!",
    "Aborted.": "Đã hủy.",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "Try '{command} {option}' for help.": "Xem '{command} {option}' để được hướng dẫn.",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "Xem [blue]'{command_path} {help_option}'[/] để được hướng dẫn.",
    "Missing argument": "Thiếu đối số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing command.": "Thiếu lệnh.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải {number_type} hợp lệ.",
    "{value} is not in the range {range}.": "{value} không nằm trong khoảng {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} không tồn tại.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} là thư mục.",
    "{name} {filename!r} is a file.": "{name} {filename!r} là tệp.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} không đọc được.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} không ghi được.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "[default: {}]": "[mặc định: {}]",
    "[required]": "[bắt buộc]",
    "[env var: {}]": "[biến môi trường: {}]",
    "default: {default}": "mặc định: {default}",
    "required": "bắt buộc",
    "env var: {var}": "biến môi trường: {var}",
    "(deprecated) ": "(không dùng nữa) ",
    "deprecated": "không dùng nữa",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    "unknown error": "lỗi không rõ",
    "Got unexpected extra argument ({args})": "Thừa đối số ({args})",
    "Got unexpected extra arguments ({args})": "Thừa các đối số ({args})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Did you mean {possibility}?": "Ý bạn là {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Ý bạn là một trong: {possibilities}?)",
}

# Constants Typer computes from `_` at import time: recomputed when the language is set.
_TYPER_CONSTANTS = {
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "DEPRECATED_STRING": "(deprecated) ",
}

# Messages Typer's own copy of Click builds with f-strings: English pattern → Vietnamese template.
ERROR_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^No such option: (?P<a>.+?)(?: \(Possible options: (?P<b>.+)\))?$"),
        "Không có tùy chọn {a}",
    ),
    (re.compile(r"^No such command '(?P<a>.+)'\.$"), "Không có lệnh '{a}'."),
    (re.compile(r"^Missing option (?P<a>.+?)\.(?P<b>.*)$"), "Thiếu tùy chọn {a}."),
    (re.compile(r"^Missing argument (?P<a>.+?)\.(?P<b>.*)$"), "Thiếu đối số {a}."),
    (re.compile(r"^Missing parameter: (?P<a>.+)$"), "Thiếu tham số: {a}"),
    (re.compile(r"^Invalid value for (?P<a>.+?): (?P<b>.+)$", re.S), "Giá trị không hợp lệ cho {a}: {b}"),
    (re.compile(r"^Invalid value: (?P<b>.+)$", re.S), "Giá trị không hợp lệ: {b}"),
    (re.compile(r"^Got unexpected extra arguments? \((?P<a>.+)\)$"), "Thừa đối số ({a})"),
    (re.compile(r"^Option (?P<a>.+) requires an argument\.$"), "Tùy chọn {a} cần một giá trị."),
    (re.compile(r"^Option (?P<a>.+) requires (?P<b>\d+) arguments\.$"), "Tùy chọn {a} cần {b} giá trị."),
    (re.compile(r"^Value (?P<a>.+) is not a valid (?P<b>.+)\.$"), "Giá trị {a} không phải {b} hợp lệ."),
    (re.compile(r"^(?P<a>.+) is not one of (?P<b>.+)\.$"), "{a} không thuộc {b}."),
    (re.compile(r"^(?P<a>.+) is not in the range (?P<b>.+)\.$"), "{a} không nằm trong khoảng {b}."),
    (re.compile(r"^(?P<c>File|Directory|Path) (?P<a>.+) does not exist\.$"), "{c} {a} không tồn tại."),
]
_KIND = {"File": "Tệp", "Directory": "Thư mục", "Path": "Đường dẫn"}


def translate_message(message: str, lang: str) -> str:
    """A Click/Typer error message in the chosen language (unknown messages are left as they are)."""
    lang = lang.lower()
    if lang.startswith("en"):
        return message
    for pattern, template in ERROR_PATTERNS:
        match = pattern.match(message)
        if match is None:
            continue
        groups = {k: v or "" for k, v in match.groupdict().items()}
        if "c" in groups:
            groups["c"] = _KIND.get(groups["c"], groups["c"])
        if groups.get("b") and "Possible options" in message:
            template += " (có: {b})"
        vi = template.format(**groups)
        return vi if lang.startswith("vi") else f"{vi} / {message}"
    return message


_ORIGINAL_RICH_TEXT: Callable[..., Any] | None = None
_ORIGINAL_FORMAT_ERROR: Callable[..., Any] | None = None
_ORIGINAL_WRITE_USAGE: Callable[..., Any] | None = None


def translator(lang: str) -> Callable[[str], str]:
    lang = lang.lower()

    def tr(message: str) -> str:
        vi = CATALOGUE.get(message)
        if vi is None or lang.startswith("en"):
            return message
        if lang.startswith("vi"):
            return vi
        # "{}" twice would need two arguments: number it so one argument fills both halves
        return f"{vi} / {message}".replace("{}", "{0}")

    return tr


def pick_half(text: str, lang: str) -> str:
    """The Vietnamese or English half of a "vi / en" help text (unchanged when not of that form)."""
    lang = lang.lower()
    if not (lang.startswith("vi") or lang.startswith("en")):
        return text
    parts = text.split(" / ")
    if len(parts) != 2 or "\n" in text:
        return text
    return parts[0] if lang.startswith("vi") else parts[1]


_MARKUP = re.compile(r"^(?P<open>(?:\[[a-z][^\]/]*\])*)(?P<body>.*?)(?P<close>(?:\[/[^\]]*\])*)$", re.S)


def cell_half(value: Any, lang: str) -> Any:
    """:func:`pick_half` for a table's title, header or cell, keeping rich markup around it
    (``[green]đạt / pass[/]`` → ``[green]đạt[/]``); anything but a string is left as it is."""
    if not isinstance(value, str):
        return value
    match = _MARKUP.match(value)
    if match is None:  # pragma: no cover - the pattern matches every string
        return value
    return match["open"] + pick_half(match["body"], lang) + match["close"]


_ORIGINAL_TABLE: dict[str, Callable[..., Any]] = {}


def _install_tables(lang: str) -> None:
    """`VHR_LANG=vi|en` for every rich table the CLI prints: titles, headers and cells written
    "vi / en" show one half; the default (both) leaves them as they are."""
    from rich.table import Table

    for name in ("__init__", "add_column", "add_row"):
        _ORIGINAL_TABLE.setdefault(name, getattr(Table, name))
    init, column, row = (_ORIGINAL_TABLE[n] for n in ("__init__", "add_column", "add_row"))
    if not (lang.startswith("vi") or lang.startswith("en")):
        Table.__init__, Table.add_column, Table.add_row = init, column, row  # type: ignore[method-assign]
        return

    def table_init(self: Any, *headers: Any, **kw: Any) -> None:
        if "title" in kw:
            kw["title"] = cell_half(kw["title"], lang)
        init(self, *(cell_half(h, lang) for h in headers), **kw)

    def add_column(self: Any, header: Any = "", *args: Any, **kw: Any) -> None:
        column(self, cell_half(header, lang), *args, **kw)

    def add_row(self: Any, *cells: Any, **kw: Any) -> None:
        row(self, *(cell_half(c, lang) for c in cells), **kw)

    Table.__init__ = table_init  # type: ignore[method-assign]
    Table.add_column = add_column  # type: ignore[method-assign]
    Table.add_row = add_row  # type: ignore[method-assign]


def install(lang: str | None = None) -> None:
    """Apply the language to Click's and Typer's strings and to our help texts (idempotent)."""
    global _ORIGINAL_RICH_TEXT, _ORIGINAL_FORMAT_ERROR, _ORIGINAL_WRITE_USAGE
    lang = lang or preferred_language()
    tr = translator(lang)

    def ntr(singular: str, plural: str, n: int) -> str:
        return tr(singular if n == 1 else plural)

    for prefix in ("click", "typer._click"):
        for name in ("core", "exceptions", "decorators", "types", "parser", "formatting", "termui"):
            module = sys.modules.get(f"{prefix}.{name}")
            if module is None:
                continue
            if hasattr(module, "_"):
                module._ = tr  # type: ignore[attr-defined]
            if hasattr(module, "ngettext"):
                module.ngettext = ntr  # type: ignore[attr-defined]
    import typer._click.formatting as formatting
    import typer.rich_utils as rich_utils

    rich_utils._ = tr  # type: ignore[assignment]
    for constant, message in _TYPER_CONSTANTS.items():
        if hasattr(rich_utils, constant):
            setattr(rich_utils, constant, tr(message))

    if _ORIGINAL_RICH_TEXT is None:
        _ORIGINAL_RICH_TEXT = rich_utils._make_rich_text
    original_text = _ORIGINAL_RICH_TEXT

    def rich_text(*, text: str, style: str = "", markup_mode: Any) -> Any:
        text = tr(text) if text in CATALOGUE else pick_half(text, lang)
        return original_text(text=text, style=style, markup_mode=markup_mode)

    rich_utils._make_rich_text = rich_text

    if _ORIGINAL_FORMAT_ERROR is None:
        _ORIGINAL_FORMAT_ERROR = rich_utils.rich_format_error
    original_error = _ORIGINAL_FORMAT_ERROR

    def format_error(self: Any) -> None:
        message = translate_message(self.format_message(), lang)
        self.format_message = lambda: message  # this instance only
        original_error(self)

    rich_utils.rich_format_error = format_error

    if _ORIGINAL_WRITE_USAGE is None:
        _ORIGINAL_WRITE_USAGE = formatting.HelpFormatter.write_usage
    original_usage = _ORIGINAL_WRITE_USAGE

    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        original_usage(self, prog, args, prefix if prefix is not None else tr("Usage:") + " ")

    formatting.HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]
    _install_tables(lang.lower())
