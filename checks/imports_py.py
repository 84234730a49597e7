"""Python import extraction, exact and blind to comments and strings.

A file is compiled to bytecode (no Python AST objects are built, which is
about a quarter faster than `ast.parse` and still rejects every syntax
error) and its `IMPORT_NAME` instructions are read from every nested code
object, so imports at any depth are found and prose in docstrings is not.
Results are cached per blob id; many files are parsed in a process pool.
"""

from __future__ import annotations

import dis
import types
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from checks import cache as analysis_cache
from checks import pool
from checks.context import AnalysisCache, decode
from checks.source import Snapshot

CACHE_KIND = "py-imports/1"
POOL_THRESHOLD = 200
"""Below this many files to parse, a process pool costs more than it saves."""

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]
_LOAD_CONST = dis.opmap["LOAD_CONST"]
_LOAD_SMALL_INT = dis.opmap.get("LOAD_SMALL_INT", -1)
_EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
_IMPORT_NAME_BYTE = bytes([_IMPORT_NAME])


@dataclass(frozen=True)
class PyImport:
    """One imported module: `import a.b` gives module "a.b"; `from .x import y` level 1."""

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

    def to_data(self) -> list[object]:
        return [
            self.syntax_error_line,
            [[i.module, i.line, i.level, list(i.names)] for i in self.imports],
        ]

    @staticmethod
    def from_data(data: object) -> PyImports | None:
        """Rebuild from `to_data`; None when the data is not of that shape (a bad cache entry)."""
        if not isinstance(data, list) or len(data) != 2:
            return None
        err, items = data
        if not (err is None or isinstance(err, int)) or not isinstance(items, list):
            return None
        imports: list[PyImport] = []
        for item in items:
            if not (isinstance(item, list) and len(item) == 4):
                return None
            module, line, level, names = item
            if not (
                isinstance(module, str)
                and isinstance(line, int)
                and isinstance(level, int)
                and isinstance(names, list)
                and all(isinstance(n, str) for n in names)
            ):
                return None
            imports.append(PyImport(module, line, level, tuple(names)))
        return PyImports(tuple(imports), err)


def _instr(raw: bytes, pos: int) -> tuple[int, int, int]:
    """(opcode, full argument, start offset) of the instruction whose opcode byte is at `pos`."""
    arg = raw[pos + 1]
    shift = 8
    start = pos
    while start >= 2 and raw[start - 2] == _EXTENDED_ARG:
        arg |= raw[start - 1] << shift
        shift += 8
        start -= 2
    return raw[pos], arg, start


def _const(code: types.CodeType, raw: bytes, pos: int) -> tuple[object, int]:
    """The constant loaded by the instruction at `pos` (None if it is not a constant load)."""
    if pos < 0:
        return None, 0
    op, arg, start = _instr(raw, pos)
    if op == _LOAD_CONST:
        return code.co_consts[arg], start
    if op == _LOAD_SMALL_INT:
        return arg, start
    return None, start


def _line_at(code: types.CodeType, offset: int) -> int:
    for start, end, line in code.co_lines():
        if start <= offset < end and line is not None:
            return line
    return code.co_firstlineno


def _scan(code: types.CodeType, out: list[PyImport]) -> None:
    # Instructions are 2-byte units, so an opcode sits at an even offset; the
    # two constant loads just before IMPORT_NAME are its level and fromlist.
    raw = code.co_code
    pos = raw.find(_IMPORT_NAME_BYTE)
    while pos != -1:
        if pos % 2 == 0:
            _, arg, start = _instr(raw, pos)
            fromlist, fstart = _const(code, raw, start - 2)
            level, _ = _const(code, raw, fstart - 2)
            names = tuple(n for n in fromlist if isinstance(n, str)) if isinstance(fromlist, tuple) else ()
            out.append(
                PyImport(
                    code.co_names[arg],
                    _line_at(code, pos),
                    level if isinstance(level, int) else 0,
                    names,
                )
            )
        pos = raw.find(_IMPORT_NAME_BYTE, pos + 1)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _scan(const, out)


def parse_imports(data: bytes) -> PyImports:
    """The imports of one Python file's bytes (BOM and any encoding cookie honoured)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                code = compile(data, "<audited>", "exec", dont_inherit=True)
            except SyntaxError:
                # undecodable bytes are replaced, never fatal: retry on the text as the spec reads it
                code = compile(decode(data), "<audited>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return PyImports((), exc.lineno or 1)
    except (ValueError, RecursionError, MemoryError, OverflowError):
        # null bytes, absurd nesting: the file cannot be compiled, so it counts as a syntax error
        return PyImports((), 1)
    found: list[PyImport] = []
    _scan(code, found)
    found.sort(key=lambda i: i.line)
    return PyImports(tuple(found))


def needs_parse(data: bytes) -> bool:
    """A file without the word `import` has no imports to find (nor to vouch for)."""
    return b"import" in data


def _parse_batch(batch: Sequence[bytes]) -> list[list[object]]:
    return [parse_imports(b).to_data() for b in batch]


def parse_many(blobs: Mapping[str, bytes], *, workers: int | None = None) -> dict[str, PyImports]:
    """Parse several files (keyed by any id); on all cores when there are many."""
    keys = [k for k, b in blobs.items() if needs_parse(b)]
    out = {k: PyImports() for k in blobs}
    parallel = len(keys) >= POOL_THRESHOLD and (workers is None or workers > 1)
    parts = (workers or pool.cpu_count()) * 8 if parallel else 1
    batches = pool.split(keys, [len(blobs[k]) for k in keys], parts)
    results = pool.map_batches(_parse_batch, [[blobs[k] for k in b] for b in batches], parallel=parallel)
    for batch, datas in zip(batches, results, strict=True):
        for k, d in zip(batch, datas, strict=True):
            out[k] = PyImports.from_data(d) or PyImports()
    return out


def uncached(snapshot: Snapshot, paths: Iterable[str], cache: AnalysisCache | None) -> list[str]:
    """The paths whose imports are not in the cache yet (the files a check still has to read)."""
    return analysis_cache.uncached(snapshot, paths, cache, lambda _path: CACHE_KIND, PyImports.from_data)


def imports_for(
    snapshot: Snapshot, paths: Iterable[str], cache: AnalysisCache | None = None
) -> dict[str, PyImports]:
    """The imports of each path at `snapshot` (absent files give no imports)."""
    result: dict[str, PyImports] = {}
    todo: dict[str, bytes] = {}
    blob_of: dict[str, str | None] = {}
    for path in paths:
        blob = snapshot.blob_id(path)
        blob_of[path] = blob
        if cache is not None and blob is not None:
            cached = PyImports.from_data(cache.get(CACHE_KIND, blob))
            if cached is not None:
                result[path] = cached
                continue
        data = snapshot.read(path)
        if data is None:
            result[path] = PyImports()
            continue
        todo[path] = data
    parsed = parse_many(todo)
    for path, imports in parsed.items():
        result[path] = imports
        blob = blob_of.get(path)
        if cache is not None and blob is not None:
            cache.put(CACHE_KIND, blob, imports.to_data())
    return result
