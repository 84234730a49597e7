"""Python import extraction, exact and blind to comments and strings.

A file is judged by the running Python's grammar through its symbol table
(the parser and the scope analysis, written in C: no syntax tree objects
and no bytecode, about half the cost of `ast.parse`), then its import
statements are read lexically (`checks.import_statements`): imports at any
depth, including the ones the compiler drops (`if 0:`), and never prose in a
docstring. The syntax tree is the fallback where the symbol table refuses a
file that still parses (`nonlocal x` at module level): such a file is no
syntax error for A9, and its imports come from the tree. `import_contexts`
reads, from the syntax tree, what A9 needs only for the imports it
questions: whether an import is optional (`if TYPE_CHECKING:`, a `try` that
catches `ImportError`), the lines of its statement, and a
`# forgeguard: allow-import` comment.
Results are cached per blob id; many files are parsed in a process pool.
"""

from __future__ import annotations

import ast
import bisect
import functools
import hashlib
import re
import symtable
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from checks import cache as analysis_cache
from checks import pool
from checks.context import AnalysisCache, decode
from checks.import_statements import import_statements, top_level_lines
from checks.source import Snapshot

CACHE_KIND = "py-imports/4"
T = TypeVar("T")
POOL_THRESHOLD = 200
"""Below this many files to parse, a process pool costs more than it saves."""

ALLOW_IMPORT = re.compile(r"#.*\bforgeguard:\s*allow-import\b")
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
_MARKERS = (b"TYPE_CHECKING", b"ImportError", b"ModuleNotFoundError", b"allow-import")
"""Words that a file holding an optional or allowed import has (`in` is faster than a regex)."""


class PyImport(NamedTuple):
    """One imported module: `import a.b` gives module "a.b"; `from .x import y` level 1.

    A named tuple: a large audit makes one for each of tens of thousands of imports."""

    module: str
    line: int
    level: int = 0
    names: tuple[str, ...] = ()
    """The names of a `from … import` (empty for a plain `import`)."""

    @property
    def relative(self) -> bool:
        return self.level > 0

    def candidates(self) -> list[str]:
        """Dotted names this statement may bring in: the module and, for `from`, module.name."""
        out = [self.module] if self.module else []
        for name in self.names:
            if name != "*":
                out.append(f"{self.module}.{name}" if self.module else name)
        return out


@dataclass(frozen=True)
class PyImports:
    """The imports of one file, or the line of its syntax error."""

    imports: tuple[PyImport, ...] = ()
    syntax_error_line: int | None = None
    markers: bool = False
    """The file mentions TYPE_CHECKING, ImportError, ModuleNotFoundError or allow-import: some
    import may be optional or allowed, which only its syntax tree tells (`import_contexts`)."""

    def to_data(self) -> list[object]:
        return [
            self.syntax_error_line,
            [[i.module, i.line, i.level, list(i.names)] for i in self.imports],
            self.markers,
        ]

    @staticmethod
    def from_parsed(data: Sequence[Any]) -> PyImports:
        """Rebuild from `_parsed`'s answer, unchecked: it is of that shape by making (a pool worker
        sends it); `from_data` checks what comes from elsewhere."""
        err, items, markers = data
        return PyImports(tuple(PyImport(m, n, lv, tuple(ns)) for m, n, lv, ns in items), err, markers)

    @staticmethod
    def from_data(data: object) -> PyImports | None:
        """Rebuild from `to_data`; None when the data is not of that shape (a bad cache entry)."""
        # exact type tests (`type(x) is`): this runs once per file of an audit
        if type(data) is not list or len(data) != 3:
            return None
        err, items, markers = data
        if not (err is None or type(err) is int) or type(items) is not list or type(markers) is not bool:
            return None
        imports: list[PyImport] = []
        for item in items:
            if type(item) is not list or len(item) != 4:
                return None
            module, line, level, names = item
            if type(module) is not str or type(line) is not int or type(level) is not int:
                return None
            if type(names) is not list or any(type(n) is not str for n in names):
                return None
            imports.append(PyImport(module, line, level, tuple(names)))
        return PyImports(tuple(imports), err, markers)


def _judged(read: Callable[[bytes | str], T], data: bytes) -> T:
    """`read(data)` with warnings silenced; undecodable bytes are replaced, never fatal (read again
    on the text as the spec reads it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return read(data)
        except SyntaxError:
            return read(decode(data))


def _tree(source: bytes | str) -> ast.Module:
    tree = compile(source, "<audited>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    return tree


def _scopes(source: bytes | str) -> object:
    """The symbol table: the parser and the scope pass, without tree objects or bytecode."""
    # bytes are accepted at run time (typeshed says str): the BOM and an encoding cookie are honoured
    return symtable.symtable(source, "<audited>", "exec")  # type: ignore[arg-type]


def syntax_tree(data: bytes) -> ast.Module | SyntaxError:
    """The file's syntax tree, or the SyntaxError (null bytes and absurd nesting are one, at line 1)."""
    try:
        return _judged(_tree, data)
    except SyntaxError as exc:
        return exc
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return SyntaxError("cannot be parsed", ("<audited>", 1, 0, "", 1, 0))


def parse_imports(data: bytes) -> PyImports:
    """The imports of one Python file's bytes (BOM and any encoding cookie honoured)."""
    return PyImports.from_data(_parsed(data)) or PyImports()


def _parsed(data: bytes) -> list[Any]:
    """`parse_imports(data).to_data()`, without the objects in between (what a pool worker sends)."""
    markers = any(marker in data for marker in _MARKERS)
    try:
        _judged(_scopes, data)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        # a symbol-table error may still parse (`nonlocal x` at module level): the syntax tree decides
        return _from_tree(data, markers).to_data()
    return [None, [[s.module, s.line, s.level, list(s.names)] for s in import_statements(data)], markers]


def _from_tree(data: bytes, markers: bool) -> PyImports:
    tree = syntax_tree(data)
    if isinstance(tree, SyntaxError):
        return PyImports((), tree.lineno or 1, markers)
    found: list[PyImport] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(PyImport(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            found.append(PyImport(node.module or "", node.lineno, node.level, names))
    found.sort(key=lambda i: i.line)
    return PyImports(tuple(found), None, markers)


@dataclass(frozen=True)
class ImportContext:
    """Where one import statement sits: its lines, why it is optional (if it is), an allow comment."""

    first_line: int
    last_line: int
    optional: str | None = None
    """"TYPE_CHECKING" or "ImportError" when the import may be absent at run time."""
    allowed: bool = False


def import_contexts(data: bytes, lines: Collection[int] = ()) -> dict[int, ImportContext]:
    """The context of each import statement, by every line it spans (empty when the file does not
    parse). Given `lines` (the first lines of some import statements), the result is only sure to
    hold those, and only the top-level statements that hold them are parsed: the tree of a large
    file costs more than all the rest of its audit, and a test file's questioned imports sit in a
    few of its functions."""
    if lines:
        found = _fragment_contexts(data, lines)
        if found is not None:
            return found
    tree = syntax_tree(data)
    if isinstance(tree, SyntaxError):
        return {}
    return _contexts_of(tree, decode(data).splitlines(), 0)


def _contexts_of(tree: ast.Module, rows: Sequence[str], offset: int) -> dict[int, ImportContext]:
    """The contexts of the tree's imports; the tree was parsed from `rows[offset:]`."""
    out: dict[int, ImportContext] = {}
    for node, optional in _imports_with_reason(tree.body, None):
        first, last = node.lineno + offset, (node.end_lineno or node.lineno) + offset
        allowed = any(ALLOW_IMPORT.search(row) for row in rows[first - 1 : last])
        context = ImportContext(first, last, optional, allowed)
        for line in range(first, last + 1):
            out.setdefault(line, context)
    return out


def _fragment_contexts(data: bytes, lines: Collection[int]) -> dict[int, ImportContext] | None:
    """The contexts of the import statements starting at `lines`, from the syntax trees of the
    top-level statements around them; None when that cannot be trusted (a fragment does not parse,
    or has no import statement where the lexer saw one): the whole file's tree decides then.

    Each fragment runs from a line where a top-level statement starts to the next one, so it is
    whole top-level statements and its tree is that part of the file's tree. A line that only
    looks like a statement start (inside brackets, after a backslash) cuts a statement apart:
    the fragment then has an unmatched bracket, an unexpected indent or an unfinished statement,
    or does not hold the import, and is not used."""
    try:
        text = data.decode("utf-8")  # a fragment has no encoding cookie to honour
    except UnicodeDecodeError:
        return None
    rows = text.removeprefix("\ufeff").split("\n")  # as the lexer counts lines
    starts = top_level_lines(data)
    out: dict[int, ImportContext] = {}
    for line in sorted(lines):
        if line in out:
            continue
        at = bisect.bisect_right(starts, line) - 1
        if at < 0:
            return None
        first = starts[at]
        end = starts[at + 1] if at + 1 < len(starts) else len(rows) + 1
        tree = syntax_tree("\n".join(rows[first - 1 : end - 1]).encode())
        if isinstance(tree, SyntaxError):
            return None
        out.update(_contexts_of(tree, rows, first - 1))
        if line not in out or out[line].first_line != line:
            return None
    return out


CONTEXT_CACHE_KIND = "py-import-context/1"
CONTEXT_POOL_THRESHOLD = 24
"""Below this many files whose syntax trees A9 needs, a process pool costs more than it saves."""

Wanted = Mapping[str, Collection[int]]
"""Paths → the first lines of the import statements whose contexts are asked for (empty: all)."""


def _contexts_batch(batch: Sequence[tuple[bytes, Collection[int]]]) -> list[list[list[object]]]:
    return [_contexts_to_data(import_contexts(data, lines)) for data, lines in batch]


def _contexts_to_data(contexts: dict[int, ImportContext]) -> list[list[object]]:
    unique = {id(c): c for c in contexts.values()}.values()
    return [[c.first_line, c.last_line, c.optional, c.allowed] for c in unique]


def _context_key(blob: str, lines: Collection[int]) -> str:
    """The cache key of the contexts of some lines of a blob (an answer for some lines may hold
    only those)."""
    if not lines:
        return blob
    digest = hashlib.blake2b(",".join(map(str, sorted(lines))).encode(), digest_size=12).hexdigest()
    return f"{blob}:{digest}"


def contexts_many(
    snapshot: Snapshot,
    wanted: Wanted,
    cache: AnalysisCache | None = None,
    workers: pool.Workers | None = None,
) -> dict[str, dict[int, ImportContext]]:
    """`import_contexts` of several files, on all cores when there are many (here, while the
    audit's pool is busy with work started earlier)."""
    out: dict[str, dict[int, ImportContext]] = {}
    todo: dict[str, bytes] = {}
    keys: dict[str, str | None] = {}
    for path, lines in wanted.items():
        blob = snapshot.blob_id(path)
        key = keys[path] = None if blob is None else _context_key(blob, lines)
        if cache is not None and key is not None:
            hit = _contexts_from_data(cache.get(CONTEXT_CACHE_KIND, key))
            if hit is not None:
                out[path] = hit
                continue
        data = snapshot.read(path)
        if data is None:
            out[path] = {}
        else:
            todo[path] = data
    paths = list(todo)
    parallel = len(paths) >= CONTEXT_POOL_THRESHOLD and not (workers is not None and workers.busy())
    batches = pool.split(paths, [len(todo[p]) for p in paths], pool.cpu_count() * 4 if parallel else 1)
    sources = [[(todo[p], wanted[p]) for p in b] for b in batches]
    results = pool.map_batches(_contexts_batch, sources, parallel=parallel, workers=workers)
    for batch, per_file in zip(batches, results, strict=True):
        for path, found in zip(batch, per_file, strict=True):
            out[path] = _contexts_from_data(found) or {}
            key = keys[path]
            if cache is not None and key is not None:
                cache.put(CONTEXT_CACHE_KIND, key, found)
    return out


class Contexts:
    """`import_contexts` of files named one at a time (`add`), collected with `result()`.

    While the audit's pool is running, each file's contexts are started on it at once, ahead of
    the parsing still waiting, so they are ready when the last batch is; otherwise they are built
    together by `contexts_many` when the result is asked for.
    """

    def __init__(self, snapshot: Snapshot, cache: AnalysisCache | None, workers: pool.Workers | None) -> None:
        self._snapshot = snapshot
        self._cache = cache
        self._workers = workers
        self._started: dict[str, tuple[str | None, pool.Pending[list[list[list[object]]]]]] = {}
        self._later: dict[str, Collection[int]] = {}

    def add(self, path: str, lines: Collection[int] = ()) -> None:
        """Ask for the contexts of the import statements starting at `lines` (empty: all) of `path`."""
        blob = self._snapshot.blob_id(path)
        key = None if blob is None else _context_key(blob, lines)
        cached = (
            key is not None
            and self._cache is not None
            and _contexts_from_data(self._cache.get(CONTEXT_CACHE_KIND, key)) is not None
        )
        workers = self._workers if self._workers is not None and self._workers.running() else None
        data = None if cached or workers is None else self._snapshot.read(path)
        if workers is None or data is None:
            self._later[path] = lines  # read back from the cache, or built with the rest
            return
        self._started[path] = (key, workers.submit(_contexts_batch, [[(data, lines)]], first=True))

    def result(self) -> dict[str, dict[int, ImportContext]]:
        out = contexts_many(self._snapshot, self._later, self._cache, self._workers)
        for path, (key, pending) in self._started.items():
            found = pending.results()[0][0]
            out[path] = _contexts_from_data(found) or {}
            if self._cache is not None and key is not None:
                self._cache.put(CONTEXT_CACHE_KIND, key, found)
        return out


def _contexts_from_data(data: object) -> dict[int, ImportContext] | None:
    if not isinstance(data, list):
        return None
    out: dict[int, ImportContext] = {}
    for item in data:
        if not (isinstance(item, list) and len(item) == 4):
            return None
        first, last, optional, allowed = item
        if not (
            isinstance(first, int)
            and isinstance(last, int)
            and (optional is None or isinstance(optional, str))
            and isinstance(allowed, bool)
        ):
            return None
        context = ImportContext(first, last, optional, allowed)
        for line in range(first, last + 1):
            out.setdefault(line, context)
    return out


def _imports_with_reason(
    body: Iterable[ast.AST], optional: str | None
) -> Iterable[tuple[ast.Import | ast.ImportFrom, str | None]]:
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, optional
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports_with_reason(node.body, optional or "TYPE_CHECKING")
            yield from _imports_with_reason(node.orelse, optional)
            continue
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.UnaryOp)
            and _is_type_checking(node.test.operand)
        ):
            yield from _imports_with_reason(node.body, optional)
            yield from _imports_with_reason(node.orelse, optional or "TYPE_CHECKING")
            continue
        if isinstance(node, (ast.Try, ast.TryStar)) and any(_catches_import_error(h) for h in node.handlers):
            inner = optional or "ImportError"
            yield from _imports_with_reason(node.body, inner)
            for handler in node.handlers:
                yield from _imports_with_reason(handler.body, inner)
            yield from _imports_with_reason(node.orelse, inner)
            yield from _imports_with_reason(node.finalbody, optional)
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                yield from _imports_with_reason(block, optional)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for kind in kinds:
        name = kind.id if isinstance(kind, ast.Name) else kind.attr if isinstance(kind, ast.Attribute) else ""
        if name in _IMPORT_ERRORS:
            return True
    return False


def _parse_batch(batch: Sequence[bytes]) -> list[list[Any]]:
    return [_parsed(b) for b in batch]


def _parse_batches(keys: list[str], sizes: list[int], workers: int | None) -> tuple[list[list[str]], bool]:
    """The keys dealt into batches of similar size, and whether a pool is worth it."""
    cores = workers or pool.cpu_count()
    parallel = len(keys) >= POOL_THRESHOLD and cores > 1
    return (pool.split_shrinking(keys, sizes, cores) if parallel else pool.split(keys, sizes, 1)), parallel


def parse_many(blobs: Mapping[str, bytes], *, workers: int | None = None) -> dict[str, PyImports]:
    """Parse several files (keyed by any id); on all cores when there are many."""
    out = {k: PyImports() for k in blobs}
    keys = list(blobs)
    batches, parallel = _parse_batches(keys, [len(blobs[k]) for k in keys], workers)
    results = pool.map_batches(_parse_batch, [[blobs[k] for k in b] for b in batches], parallel=parallel)
    for batch, datas in zip(batches, results, strict=True):
        for k, d in zip(batch, datas, strict=True):
            out[k] = PyImports.from_data(d) or PyImports()
    return out


def uncached(snapshot: Snapshot, paths: Iterable[str], cache: AnalysisCache | None) -> list[str]:
    """The paths whose imports are not in the cache yet (the files a check still has to read)."""
    return analysis_cache.uncached(snapshot, paths, cache, lambda _path: CACHE_KIND, PyImports.from_data)


Parsed = Callable[[], list[tuple[str, list[Any]]]]
"""Waits for some files' parse results: (path, `PyImports.to_data()`) of each."""


class PendingImports:
    """Imports being read (on the audit's pool when there is one); `result()` collects them once."""

    def __init__(
        self,
        known: dict[str, PyImports],
        parts: list[Parsed],
        blob_of: dict[str, str | None],
        cache: AnalysisCache | None,
    ) -> None:
        self._known = known
        self._parts = parts
        self._blob_of = blob_of
        self._cache = cache
        self.unread = [path for path in blob_of if path not in known]
        """The paths whose imports were not cached when reading started."""

    def completed(self) -> Iterator[tuple[str, PyImports]]:
        """Each file's imports: the known ones first, then each batch's as soon as it is parsed."""
        yield from list(self._known.items())
        while self._parts:
            fresh: list[tuple[str, PyImports]] = []
            for path, data in self._parts[0]():
                imports = PyImports.from_parsed(data)
                fresh.append((path, imports))
                blob = self._blob_of.get(path)
                if self._cache is not None and blob is not None:
                    self._cache.put(CACHE_KIND, blob, data)  # `_parsed` answers in `to_data`'s form
            self._known.update(fresh)
            del self._parts[0]
            yield from fresh

    def result(self) -> dict[str, PyImports]:
        """Every file's imports (waiting for the batches still being parsed)."""
        for _ in self.completed():
            pass
        return self._known


def start_imports(
    snapshot: Snapshot,
    paths: Iterable[str],
    cache: AnalysisCache | None = None,
    workers: pool.Workers | None = None,
) -> PendingImports:
    """Start reading the imports of each path at `snapshot`: cached ones are known at once, the
    rest are parsed on `workers` (the audit's pool) when given and there are many. There, the
    files are read a batch at a time, each parsed while the next ones are read; otherwise
    they are read when the result is asked for (after the engine's prefetch, in one batch)."""
    known: dict[str, PyImports] = {}
    blob_of: dict[str, str | None] = {}
    todo: list[str] = []
    for path in paths:
        blob = snapshot.blob_id(path)
        blob_of[path] = blob
        if cache is not None and blob is not None:
            cached = PyImports.from_data(cache.get(CACHE_KIND, blob))
            if cached is not None:
                known[path] = cached
                continue
        todo.append(path)
    batches, parallel = _parse_batches(todo, [snapshot.size(p) or 0 for p in todo], None)
    if not parallel or workers is None:

        def later() -> list[tuple[str, list[Any]]]:
            names, datas = _read(snapshot, batches, known)
            return _pairs(names, pool.map_batches(_parse_batch, datas, parallel=parallel))

        return PendingImports(known, [later], blob_of, cache)
    parts: list[Parsed] = []
    for batch in batches:
        snapshot.prefetch(batch)
        names, datas = _read(snapshot, [batch], known)
        pending = workers.submit(_parse_batch, datas)
        parts.append(functools.partial(_collected, names, pending))
    return PendingImports(known, parts, blob_of, cache)


def _read(
    snapshot: Snapshot, batches: list[list[str]], known: dict[str, PyImports]
) -> tuple[list[list[str]], list[list[bytes]]]:
    """The batches' paths and bytes; a file that cannot be read is known to import nothing."""
    names: list[list[str]] = []
    datas: list[list[bytes]] = []
    for batch in batches:
        read = [(p, snapshot.read(p)) for p in batch]
        known.update((p, PyImports()) for p, data in read if data is None)
        found = [(p, data) for p, data in read if data is not None]
        if found:
            names.append([p for p, _ in found])
            datas.append([data for _, data in found])
    return names, datas


def _collected(names: list[list[str]], pending: pool.Pending[list[list[Any]]]) -> list[tuple[str, list[Any]]]:
    return _pairs(names, pending.results())


def _pairs(names: list[list[str]], results: list[list[list[Any]]]) -> list[tuple[str, list[Any]]]:
    return [
        (path, data)
        for batch, found in zip(names, results, strict=True)
        for path, data in zip(batch, found, strict=True)
    ]


def imports_for(
    snapshot: Snapshot, paths: Iterable[str], cache: AnalysisCache | None = None
) -> dict[str, PyImports]:
    """The imports of each path at `snapshot` (absent files give no imports)."""
    return start_imports(snapshot, paths, cache).result()
