"""JS/TS import extraction with tree-sitter."""

from __future__ import annotations

from checks.imports_js import JsAnalysis, analyse, package_name


def specifiers(source: str, path: str = "a.js") -> list[tuple[str, int]]:
    return [(i.specifier, i.line) for i in analyse(source.encode(), path).imports]


def test_every_import_form_is_found() -> None:
    source = (
        "import a from 'one';\nimport 'two';\nexport { b } from \"three\";\n"
        "const c = require('four');\nconst d = await import('five');\n"
    )
    assert specifiers(source) == [("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5)]


def test_comments_and_plain_strings_are_not_imports() -> None:
    source = "// import a from 'x'\n/* require('y') */\nconst s = \"import z from 'z'\";\nfoo('w');\n"
    assert specifiers(source) == []


def test_typescript_and_tsx_parse_with_their_grammars() -> None:
    assert specifiers("import x = require('a');\nlet n: number = 1;\n", "a.ts") == [("a", 1)]
    assert specifiers("import R from 'react';\nconst e = <div>{1 as number}</div>;\n", "a.tsx") == [
        ("react", 1)
    ]


def test_comment_spans_are_byte_offsets() -> None:
    data = b"x; // c\n"
    assert analyse(data, "a.js").comments == ((3, 7),)


def test_broken_syntax_still_yields_what_parses() -> None:
    assert specifiers("import a from 'ok';\nconst = ;;; (\n") == [("ok", 1)]


def test_package_names() -> None:
    assert package_name("@scope/name/deep") == "@scope/name"
    assert package_name("lodash/fp") == "lodash"
    assert [package_name(s) for s in ("./x", "../x", "/abs", "node:fs", "#internal", "https://x")] == [
        None
    ] * 6


def test_to_data_round_trips() -> None:
    result = analyse(b"import a from 'a'; // c\n", "a.js")
    assert JsAnalysis.from_data(result.to_data()) == result
    assert JsAnalysis.from_data([[["a", "1"]], []]) is None
