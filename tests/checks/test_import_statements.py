"""The lexical reader: every import statement, nothing in comments or strings; top-level lines."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

from checks.import_statements import Statement, import_statements, top_level_lines


def read(source: str) -> list[tuple[str, int, int, tuple[str, ...]]]:
    return [(s.module, s.line, s.level, s.names) for s in import_statements(source.encode())]


def test_a_plain_import_gives_each_module_with_its_line() -> None:
    assert read("x = 1\nimport a.b as c, d\n") == [("a.b", 2, 0, ()), ("d", 2, 0, ())]


def test_a_from_import_keeps_module_level_and_names() -> None:
    assert read("from ..pkg.sub import x as y, z\n") == [("pkg.sub", 1, 2, ("x", "z"))]


def test_dots_may_be_spaced_or_touch_the_keywords() -> None:
    assert read("from .import a\nfrom . . b import c\n") == [("", 1, 1, ("a",)), ("b", 2, 2, ("c",))]


def test_a_parenthesised_name_list_may_span_lines_and_hold_comments() -> None:
    source = "from m import (\n    a,  # see f(x), g\n    b as c,\n)\nimport after\n"
    assert read(source) == [("m", 1, 0, ("a", "b")), ("after", 5, 0, ())]


def test_backslash_continuations_are_part_of_the_statement() -> None:
    assert read("from a \\\n    import b\nimport c, \\\n    d\n") == [
        ("a", 1, 0, ("b",)),
        ("c", 3, 0, ()),
        ("d", 3, 0, ()),
    ]


def test_a_star_import_names_star() -> None:
    assert read("from m import *\n") == [("m", 1, 0, ("*",))]


def test_imports_after_a_colon_or_semicolon_are_found() -> None:
    assert read("if x: import a; import b\n") == [("a", 1, 0, ()), ("b", 1, 0, ())]


def test_yield_from_and_raise_from_are_not_imports() -> None:
    assert read("def g():\n    yield from h()\n    raise E from None\n") == []


def test_words_that_contain_the_keywords_are_not_imports() -> None:
    assert read("important = from_ = imports = 1\nx.importer(fromage)\n") == []


def test_the_last_import_of_a_file_is_found_with_what_follows_it() -> None:
    source = "import a\nfrom b import (\n    c,\n    d,\n)\nx = 1\n"
    assert read(source) == [("a", 1, 0, ()), ("b", 2, 0, ("c", "d"))]


def test_a_last_import_keyword_at_the_very_end_of_the_file_is_read() -> None:
    assert read("x = 1\nimport") == []  # not a statement; the file would not parse
    assert read("x = 1\nimport os") == [("os", 2, 0, ())]


def test_a_file_whose_last_import_is_a_longer_word_still_gives_its_imports() -> None:
    assert read("import os\nimportant = 1\n") == [("os", 1, 0, ())]


def test_a_file_without_the_word_import_imports_nothing() -> None:
    assert read("from_ = 'from'\nx = 1\n") == []


def test_strings_of_every_kind_hide_what_looks_like_an_import() -> None:
    source = (
        "'''\nimport a\n'''\n"
        '"""\nfrom b import c\n"""\n'
        "s = 'import d' + \"from e import f\"\n"
        "t = r'\\' import g' + b'\\\\' + f\"{x!r} import h\"\n"
        "u = 'a \\\nimport i'\n"
        "import real\n"
    )
    assert read(source) == [("real", 11, 0, ())]


def test_quotes_inside_other_strings_and_comments_do_not_open_strings() -> None:
    source = "a = \"'''\"  # don't\nimport real\nb = '\"\"\"'\n"
    assert read(source) == [("real", 2, 0, ())]


def test_a_statement_is_read_once_even_where_the_compiler_copies_it() -> None:
    source = "try:\n    pass\nfinally:\n    import once\n"
    assert read(source) == [("once", 4, 0, ())]


def test_a_leading_byte_order_mark_does_not_hide_the_first_import() -> None:
    assert import_statements(b"\xef\xbb\xbfimport os\n") == [Statement("os", 1, 0, ())]


def test_line_numbers_count_crlf_line_ends() -> None:
    assert read("x = 1\r\n\r\nimport a\r\n") == [("a", 3, 0, ())]


def _from_syntax_tree(data: bytes) -> list[tuple[str, int, int, tuple[str, ...]]]:
    found: list[tuple[str, int, int, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(data)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, 0, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            found.append((node.module or "", node.lineno, node.level, names))
    return sorted(found)


def test_the_standard_library_and_this_repository_read_as_their_syntax_trees_say() -> None:
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")) + sorted(
        Path(__file__).resolve().parents[2].glob("[cf]*/**/*.py")
    )
    assert len(files) > 200
    for path in files:
        data = path.read_bytes()
        statements = sorted((s.module, s.line, s.level, s.names) for s in import_statements(data))
        assert statements == _from_syntax_tree(data), path


def test_top_level_lines_are_the_lines_starting_a_statement_at_column_0() -> None:
    source = b'"""Doc."""\nimport os\n\n\n@decorator\ndef f():\n    return 1\nclass K:\n    pass\n'
    assert top_level_lines(source) == [1, 2, 5, 6, 8]


def test_top_level_lines_skip_clauses_comments_and_closing_brackets() -> None:
    source = b"try:\n    pass\nexcept ImportError:\n    pass\n# note\nx = [\n    1,\n]\n"
    source += b"if a:\n    pass\nelse:\n    pass\n"
    assert top_level_lines(source) == [1, 6, 9]


def test_top_level_lines_never_start_inside_a_string_spanning_lines() -> None:
    source = b'x = """\nimport fake\n"""\ny = 2\n'
    assert top_level_lines(source) == [1, 4]


def test_top_level_lines_never_start_after_a_backslash() -> None:
    source = b"assert x == \\\n'text'\ny = 1\n"
    assert top_level_lines(source) == [1, 3]
