"""JavaScript/TypeScript import extraction and comment spans, from tree-sitter syntax trees.

Imports: `import … from 'x'`, `import 'x'`, `export … from 'x'`,
`require('x')`, `import('x')` and TypeScript's `import x = require('x')`.
Only string-literal specifiers count; comments and other strings never do.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import tree_sitter as ts
import tree_sitter_javascript as tsjs
import tree_sitter_typescript as tsts

from checks import cache as analysis_cache
from checks.context import AnalysisCache
from checks.source import Snapshot

CACHE_KIND = "js-imports/1"

JS_EXTENSIONS = (".js", ".jsx", ".mjs", ".cjs")
TS_EXTENSIONS = (".ts", ".mts", ".cts")
TSX_EXTENSIONS = (".tsx",)
EXTENSIONS = JS_EXTENSIONS + TS_EXTENSIONS + TSX_EXTENSIONS

_QUERY = """
(import_statement source: (string) @src)
(export_statement source: (string) @src)
(call_expression function: (identifier) @fn arguments: (arguments . (string) @src))
(call_expression function: (import) arguments: (arguments . (string) @src))
(comment) @comment
"""
_TS_QUERY = _QUERY + "(import_require_clause source: (string) @src)\n"
_REQUIRE_PATTERN = 2
_COMMENT_PATTERN = 4


@dataclass(frozen=True)
class JsImport:
    """One module specifier and the line it is on."""

    specifier: str
    line: int


@dataclass(frozen=True)
class JsAnalysis:
    """What one file imports and where its comments are (byte offsets)."""

    imports: tuple[JsImport, ...] = ()
    comments: tuple[tuple[int, int], ...] = ()

    def to_data(self) -> list[object]:
        return [[[i.specifier, i.line] for i in self.imports], [list(c) for c in self.comments]]

    @staticmethod
    def from_data(data: object) -> JsAnalysis | None:
        if not (isinstance(data, list) and len(data) == 2):
            return None
        imps, comments = data
        if not (isinstance(imps, list) and isinstance(comments, list)):
            return None
        imports: list[JsImport] = []
        spans: list[tuple[int, int]] = []
        for item in imps:
            if not (isinstance(item, list) and len(item) == 2):
                return None
            spec, line = item
            if not (isinstance(spec, str) and isinstance(line, int)):
                return None
            imports.append(JsImport(spec, line))
        for span in comments:
            if not (isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span)):
                return None
            spans.append((span[0], span[1]))
        return JsAnalysis(tuple(imports), tuple(spans))


def is_js(path: str) -> bool:
    return path.endswith(EXTENSIONS)


@functools.cache
def _language(kind: str) -> tuple[ts.Parser, ts.Query]:
    if kind == "ts":
        lang = ts.Language(tsts.language_typescript())
    elif kind == "tsx":
        lang = ts.Language(tsts.language_tsx())
    else:
        lang = ts.Language(tsjs.language())
    return ts.Parser(lang), ts.Query(lang, _QUERY if kind == "js" else _TS_QUERY)


def _kind(path: str) -> str:
    if path.endswith(TSX_EXTENSIONS):
        return "tsx"
    if path.endswith(TS_EXTENSIONS):
        return "ts"
    return "js"


def _string_value(node: ts.Node) -> str | None:
    text = (node.text or b"").decode("utf-8", "replace")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return None


def analyse(data: bytes, path: str) -> JsAnalysis:
    """Imports and comment spans of one JS/TS file (a file with syntax errors still yields what parses)."""
    parser, query = _language(_kind(path))
    tree = parser.parse(data)
    imports: list[JsImport] = []
    comments: list[tuple[int, int]] = []
    for pattern, captures in ts.QueryCursor(query).matches(tree.root_node):
        if pattern == _COMMENT_PATTERN:
            comments.extend((n.start_byte, n.end_byte) for n in captures.get("comment", []))
            continue
        if pattern == _REQUIRE_PATTERN and [n.text for n in captures.get("fn", [])] != [b"require"]:
            continue
        for node in captures.get("src", []):
            value = _string_value(node)
            if value:
                imports.append(JsImport(value, node.start_point[0] + 1))
    imports.sort(key=lambda i: i.line)
    comments.sort()
    return JsAnalysis(tuple(imports), tuple(comments))


def analyses_for(
    snapshot: Snapshot, paths: Iterable[str], cache: AnalysisCache | None = None
) -> dict[str, JsAnalysis]:
    """The analysis of each path at `snapshot`, read from the cache when it is there."""
    out: dict[str, JsAnalysis] = {}
    for path in paths:
        blob = snapshot.blob_id(path)
        kind = f"{CACHE_KIND}:{_kind(path)}"
        if cache is not None and blob is not None:
            cached = JsAnalysis.from_data(cache.get(kind, blob))
            if cached is not None:
                out[path] = cached
                continue
        data = snapshot.read(path)
        if data is None:
            out[path] = JsAnalysis()
            continue
        result = analyse(data, path)
        out[path] = result
        if cache is not None and blob is not None:
            cache.put(kind, blob, result.to_data())
    return out


def uncached(snapshot: Snapshot, paths: Iterable[str], cache: AnalysisCache | None) -> list[str]:
    """The paths whose analysis is not in the cache yet (the files a check still has to read)."""
    return analysis_cache.uncached(
        snapshot, paths, cache, lambda path: f"{CACHE_KIND}:{_kind(path)}", JsAnalysis.from_data
    )


def package_name(specifier: str) -> str | None:
    """The npm package a bare specifier names (`@scope/name` or the first segment); None if not bare."""
    if not specifier or specifier.startswith((".", "/", "#", "node:")) or ":" in specifier:
        return None
    parts = specifier.split("/")
    if specifier.startswith("@"):
        return "/".join(parts[:2]) if len(parts) >= 2 and parts[1] else None
    return parts[0]
