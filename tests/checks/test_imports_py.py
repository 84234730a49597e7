"""Python import extraction: the syntax check, the imports, the syntax-tree fallbacks, the cache."""

from __future__ import annotations

from checks import pool
from checks.cache import MemoryCache
from checks.imports_py import (
    Contexts,
    PyImport,
    PyImports,
    contexts_many,
    import_contexts,
    imports_for,
    parse_imports,
    parse_many,
)
from tests.checks.memsource import MemSnapshot


def modules(source: str) -> list[tuple[str, int, int]]:
    return [(i.module, i.line, i.level) for i in parse_imports(source.encode()).imports]


def test_plain_and_from_imports_with_lines() -> None:
    assert modules("import os\nfrom a.b import c\n") == [("os", 1, 0), ("a.b", 2, 0)]


def test_import_a_comma_b_is_two_imports() -> None:
    assert modules("import a, b.c as d\n") == [("a", 1, 0), ("b.c", 1, 0)]


def test_relative_imports_keep_their_level() -> None:
    assert modules("from . import x\nfrom ..pkg import y\n") == [("", 1, 1), ("pkg", 2, 2)]


def test_imports_at_any_depth_are_found() -> None:
    source = "def f():\n    class K:\n        def g(self):\n            import deep\n"
    assert modules(source) == [("deep", 4, 0)]


def test_docstrings_comments_and_strings_are_not_imports() -> None:
    source = '"""\nfrom the start\nimport nothing\n"""\n# import x\ns = "import y"\n'
    assert modules(source) == []


def test_from_import_names_are_kept() -> None:
    imp = parse_imports(b"from app import audit, db\n").imports[0]
    assert imp.candidates() == ["app", "app.audit", "app.db"]


def test_a_syntax_error_gives_its_line() -> None:
    assert parse_imports(b"import os\n\nx = (\n").syntax_error_line is not None
    assert parse_imports(b"x = 1\ndef f(:\n").syntax_error_line == 2


def test_an_import_after_hundreds_of_statements_keeps_its_line() -> None:
    source = "".join(f"v{i} = {i}.5\n" for i in range(300)) + "import late\n"
    assert modules(source) == [("late", 301, 0)]


def test_a_bom_and_an_encoding_cookie_are_honoured() -> None:
    assert parse_imports(b"\xef\xbb\xbfimport os\n").imports[0].module == "os"
    assert parse_imports(b"# -*- coding: latin-1 -*-\nimport os  # \xe9\n").imports[0].module == "os"


def test_undecodable_bytes_are_replaced_not_a_syntax_error() -> None:
    assert parse_imports(b"import os\nx = '\xff'\n").imports[0].module == "os"


def test_to_data_round_trips_and_bad_data_is_refused() -> None:
    result = PyImports((PyImport("a", 1, 0, ("b",)),), None)
    assert PyImports.from_data(result.to_data()) == result
    assert PyImports.from_data([None, [["a", "x", 0, []]]]) is None
    assert PyImports.from_data("junk") is None


def test_the_pool_gives_the_same_results_as_one_process() -> None:
    blobs = {str(i): f"import m{i}\nfrom . import r{i}\n".encode() for i in range(250)}
    blobs["bad"] = b"def f(:\n"
    assert parse_many(blobs) == parse_many(blobs, workers=1)


def test_a_file_without_any_import_that_does_not_parse_is_a_syntax_error() -> None:
    assert parse_many({"a": b"x = 1\nx = (\n"})["a"].syntax_error_line is not None


def test_a_file_that_parses_but_does_not_compile_is_read_from_its_syntax_tree() -> None:
    assert parse_imports(b"return 1\nimport flask\n") == PyImports((PyImport("flask", 2),))


def test_a_file_the_symbol_table_refuses_but_that_parses_is_no_syntax_error() -> None:
    assert parse_imports(b"nonlocal x\nimport flask\n") == PyImports((PyImport("flask", 2),))


def test_imports_the_compiler_drops_are_still_imports() -> None:
    source = b"if 0:\n    import dropped\ndef f():\n    assert False\n    import after\n"
    assert [i.module for i in parse_imports(source).imports] == ["dropped", "after"]


def test_type_checking_imports_are_optional_in_any_spelling() -> None:
    source = (
        b"import typing as t\nif t.TYPE_CHECKING:\n    import a\nif typing.TYPE_CHECKING:\n    import b\n"
    )
    source += b"if TYPE_CHECKING:\n    import c\nelse:\n    import d\n"
    contexts = import_contexts(source)
    assert [contexts[n].optional for n in (3, 5, 7, 9)] == ["TYPE_CHECKING"] * 3 + [None]


def test_imports_in_a_try_catching_import_error_are_optional_in_body_handlers_and_else() -> None:
    source = (
        b"try:\n    import a\nexcept (ValueError, ModuleNotFoundError):\n    import b\nelse:\n    import c\n"
    )
    source += b"try:\n    import d\nexcept ValueError:\n    pass\n"
    contexts = import_contexts(source)
    assert [contexts[n].optional for n in (2, 4, 6, 8)] == ["ImportError"] * 3 + [None]


def test_an_allow_import_comment_on_any_line_of_the_statement_is_seen() -> None:
    source = b"from x import (\n    a,  # forgeguard: allow-import\n)\nimport y\n"
    contexts = import_contexts(source)
    assert (contexts[1].allowed, contexts[1].last_line, contexts[4].allowed) == (True, 3, False)


SPREAD = (
    "import os\n\n"
    "def one():\n    try:\n        import yaml\n    except ImportError:\n        yaml = None\n\n"
    "@decorated\ndef two():\n    return 2\n\n"
    "class Three:\n    def m(self):\n        if TYPE_CHECKING:\n            import attr\n"
    "        from x import (\n            a,  # forgeguard: allow-import\n        )\n"
)


def test_contexts_asked_for_some_lines_equal_the_whole_files() -> None:
    whole = import_contexts(SPREAD.encode())
    some = import_contexts(SPREAD.encode(), [5, 16, 17])
    assert [some[n] for n in (5, 16, 17, 18, 19)] == [whole[n] for n in (5, 16, 17, 18, 19)]
    assert (some[5].optional, some[16].optional, some[17].allowed, some[17].last_line) == (
        "ImportError",
        "TYPE_CHECKING",
        True,
        19,
    )


def test_contexts_asked_for_some_lines_leave_the_other_statements_unparsed() -> None:
    assert set(import_contexts(SPREAD.encode(), [5])) == {5}


def test_a_line_inside_brackets_that_looks_like_a_statement_start_is_not_trusted() -> None:
    source = b"def f():\n    x = [\n1]\n    try:\n        import a\n    except ImportError:\n        pass\n"
    assert import_contexts(source, [5])[5].optional == "ImportError"


def test_contexts_of_some_lines_of_a_file_in_another_encoding_come_from_the_whole_file() -> None:
    source = "# -*- coding: latin-1 -*-\nx = 'é'\ntry:\n    import a\nexcept ImportError:\n    pass\n"
    assert import_contexts(source.encode("latin-1"), [4])[4].optional == "ImportError"


def test_imports_for_reads_a_blob_once_then_uses_the_cache() -> None:
    cache = MemoryCache()
    snap = MemSnapshot({"a.py": "import os\n"})
    first = imports_for(snap, ["a.py"], cache)
    again = MemSnapshot({"a.py": "import os\n"})
    assert imports_for(again, ["a.py"], cache) == first
    assert again.reads == []


def test_a_corrupt_cache_entry_is_recomputed() -> None:
    cache = MemoryCache()
    snap = MemSnapshot({"a.py": "import os\n"})
    blob = snap.blob_id("a.py")
    assert blob is not None
    cache.put("py-imports/1", blob, "garbage")
    assert imports_for(snap, ["a.py"], cache)["a.py"].imports[0].module == "os"


OPTIONAL = (
    "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n"
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import attr\n"
)


def test_contexts_started_on_a_running_pool_equal_the_ones_built_here() -> None:
    snapshot = MemSnapshot({f"m{i}.py": OPTIONAL + f"x = {i}\n" for i in range(4)})
    paths = sorted(snapshot.paths())
    workers = pool.Workers()
    try:
        workers.submit(len, [[1], [2]]).results()  # the pool is running
        on_pool = Contexts(snapshot, MemoryCache(), workers)
        for path in paths:
            on_pool.add(path)
        found = on_pool.result()
        assert found == contexts_many(snapshot, dict.fromkeys(paths, ()))
        assert {c.optional for c in found["m0.py"].values()} == {"ImportError", "TYPE_CHECKING", None}
    finally:
        workers.close()
