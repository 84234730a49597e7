"""gitleaks-format secret rules, evaluated in-process.

The rule set is gitleaks' own `config/gitleaks.toml` (vendored in
`checks/data/`, MIT, see `gitleaks-LICENSE`) plus ForgeGuard's few additions
in `forgeguard_secrets.toml`. A rule applies to a fragment of text when one of
its keywords occurs in it (one RE2 set over the lower-cased text: the gate is
part of a rule's meaning, e.g. it keeps git hashes from matching token rules),
then its regex matches (RE2; Python `re` for what RE2 cannot compile; a rule
neither can compile is reported, never fatal), its secret group is taken,
its entropy threshold met, and neither its allowlists nor the global one
allow the result. Since gitleaks 8.23.1 a generic secret without a digit is no
longer dropped (the generic rule's allowlists do that work), and neither is
it here. Secrets never leave this module except inside a `Match`, and
`redact` is how they are shown.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

import re2

RULE_FILES = ("gitleaks.toml", "forgeguard_secrets.toml")
GATE_MEMORY = 64 << 20
"""RE2's memory budget for the keyword set (a few hundred literals need far less)."""


class _Pattern(Protocol):
    def finditer(self, text: bytes) -> Any: ...

    def search(self, text: bytes) -> Any: ...


def _compile(pattern: str) -> _Pattern:
    """RE2 first (gitleaks' regexes are Go RE2 syntax); Python `re` when RE2 refuses."""
    try:
        return re2.compile(pattern.encode("utf-8"))  # type: ignore[no-any-return]
    except Exception:
        return re.compile(pattern.replace(r"\z", r"\Z").encode("utf-8"))


def _compile_path(pattern: str) -> _Pattern:
    """Path patterns run once per file on a short string, where Python `re` costs less per call."""
    try:
        return re.compile(pattern.encode("utf-8"))
    except re.error:
        return _compile(pattern)


@dataclass
class Allowlist:
    """One allowlist: a finding is allowed when any (condition OR) or all (AND) of its parts match."""

    paths: list[_Pattern] = field(default_factory=list)
    regexes: list[_Pattern] = field(default_factory=list)
    stopwords: list[str] = field(default_factory=list)
    regex_target: str = "secret"
    condition_and: bool = False

    def allows(self, path: str, secret: bytes, match: bytes, line: bytes) -> bool:
        checks: list[bool] = []
        if self.paths:
            p = path.encode("utf-8")
            checks.append(any(rx.search(p) for rx in self.paths))
        if self.regexes:
            target = {"match": match, "line": line}.get(self.regex_target, secret)
            checks.append(any(rx.search(target) for rx in self.regexes))
        if self.stopwords:
            lowered = secret.decode("utf-8", "replace").lower()
            checks.append(any(w in lowered for w in self.stopwords))
        if not checks:
            return False
        return all(checks) if self.condition_and else any(checks)


@dataclass
class Rule:
    id: str
    description: str
    source: str | None
    """The regex as written; compiled on first use (most rules never pass their keyword gate)."""
    path: _Pattern | None
    entropy: float
    secret_group: int
    keywords: tuple[str, ...]
    allowlists: list[Allowlist]
    broken: str | None = None
    _compiled: _Pattern | None = None

    def regex(self) -> _Pattern | None:
        """The compiled regex; None when there is none or it cannot compile (then `broken` says why)."""
        if self._compiled is None and self.source is not None and self.broken is None:
            try:
                self._compiled = _compile(self.source)
            except Exception as exc:
                self.broken = f"rule {self.id}: {' '.join(str(exc).split())}"
        return self._compiled


@dataclass(frozen=True)
class Match:
    """One secret found: which rule, where (0-based line of the fragment), and the value."""

    rule: str
    line: int
    secret: str


@dataclass
class RuleSet:
    rules: list[Rule]
    global_allowlists: list[Allowlist]
    problems: list[str]
    """Rules that could not be loaded, one line each."""
    digest: str
    _gate: Any = None
    _keywords: list[list[int]] = field(default_factory=list)
    _always: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One RE2 set of every keyword answers, in one pass over the text, which keywords occur
        # anywhere in it (overlapping ones included, as Aho-Corasick would), ten times faster than
        # walking an automaton's hits in Python.
        by_keyword: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            if rule.source is None:
                continue
            if not rule.keywords:
                self._always.append(i)
            for kw in rule.keywords:
                by_keyword.setdefault(kw, []).append(i)
        if not by_keyword:
            return
        options = re2.Options()
        options.max_mem = GATE_MEMORY
        gate = re2.Set.SearchSet(options)
        for kw in by_keyword:
            gate.Add(re.escape(kw))
            self._keywords.append(by_keyword[kw])
        gate.Compile()
        self._gate = gate

    def path_allowed(self, path: str) -> bool:
        """True when the global allowlist excludes this path from scanning altogether."""
        p = path.encode("utf-8")
        return any(
            not a.condition_and and any(rx.search(p) for rx in a.paths) for a in self.global_allowlists
        )

    def path_rules(self, path: str) -> list[str]:
        """Rules that flag a file by its path alone (e.g. a PKCS#12 key file)."""
        p = path.encode("utf-8")
        return [r.id for r in self.rules if r.source is None and r.path is not None and r.path.search(p)]

    def candidates(self, lowered: str) -> list[Rule]:
        """The rules whose keywords occur in the (lower-cased) text."""
        hit: set[int] = set(self._always)
        if self._gate is not None:
            for index in self._gate.Match(lowered.encode("utf-8", "replace")) or ():
                hit.update(self._keywords[index])
        # specific rules first, so a value both match is reported under its specific name
        return sorted((self.rules[i] for i in hit), key=lambda r: (r.id.startswith("generic"), r.id))

    def scan(self, path: str, text: str) -> list[Match]:
        """Secrets in one fragment of text (a file's added lines joined with newlines)."""
        data = text.encode("utf-8", "replace")
        pbytes = path.encode("utf-8")
        found: list[Match] = []
        seen: set[tuple[int, str]] = set()
        for rule in self.candidates(text.lower()):
            if rule.path is not None and not rule.path.search(pbytes):
                continue
            regex = rule.regex()
            if regex is None:
                if rule.broken and rule.broken not in self.problems:
                    self.problems.append(rule.broken)
                continue
            for m in regex.finditer(data):
                secret, offset = _secret(m, rule.secret_group)
                if not secret:
                    continue
                line_no = data.count(b"\n", 0, offset)
                line_start = data.rfind(b"\n", 0, offset) + 1
                line_end = data.find(b"\n", offset)
                line = data[line_start : len(data) if line_end == -1 else line_end]
                if not self._keep(rule, path, secret, m.group(0), line):
                    continue
                value = secret.decode("utf-8", "replace")
                if (line_no, value) in seen:
                    continue
                seen.add((line_no, value))
                found.append(Match(rule.id, line_no, value))
        found.sort(key=lambda f: (f.line, f.rule))
        return found

    def _keep(self, rule: Rule, path: str, secret: bytes, match: bytes, line: bytes) -> bool:
        if rule.entropy:
            value = secret.decode("utf-8", "replace")
            if entropy(value) <= rule.entropy:
                return False
        for allow in [*rule.allowlists, *self.global_allowlists]:
            if allow.allows(path, secret, match, line):
                return False
        return True


def _secret(m: Any, group: int) -> tuple[bytes, int]:
    """The secret of a match: its secretGroup, else its first non-empty group, else the whole match."""
    groups = m.groups()
    if group and group <= len(groups) and m.group(group) is not None:
        # an empty value (`PASSWORD=`) is no secret: the rule's group took part and matched nothing
        return m.group(group), m.start(group)
    for i, g in enumerate(groups, start=1):
        if g:
            return g, m.start(i)
    return m.group(0), m.start(0)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def redact(secret: str) -> str:
    """How a secret may be shown: its first 4 characters and its length."""
    return f"'{secret[:4]}…' ({len(secret)} chars)"


def _allowlist(doc: dict[str, Any]) -> Allowlist:
    return Allowlist(
        paths=[_compile_path(p) for p in doc.get("paths", []) if isinstance(p, str)],
        regexes=[_compile(p) for p in doc.get("regexes", []) if isinstance(p, str)],
        stopwords=[w.lower() for w in doc.get("stopwords", []) if isinstance(w, str)],
        regex_target=str(doc.get("regexTarget") or "secret"),
        condition_and=str(doc.get("condition", "OR")).upper() == "AND",
    )


def _load_rule(doc: dict[str, Any]) -> Rule:
    regex = doc.get("regex")
    path = doc.get("path")
    return Rule(
        id=str(doc["id"]),
        description=str(doc.get("description", "")),
        source=regex if isinstance(regex, str) else None,
        path=_compile_path(path) if isinstance(path, str) else None,
        entropy=float(doc.get("entropy", 0.0)),
        secret_group=int(doc.get("secretGroup", 0)),
        keywords=tuple(k.lower() for k in doc.get("keywords", []) if isinstance(k, str)),
        allowlists=[_allowlist(a) for a in doc.get("allowlists", []) if isinstance(a, dict)],
    )


def load(texts: Sequence[str]) -> RuleSet:
    """A rule set from gitleaks-format TOML documents; bad rules are reported in `problems`."""
    rules: list[Rule] = []
    allowlists: list[Allowlist] = []
    problems: list[str] = []
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"rule file does not parse: {exc}")
            continue
        for key in ("allowlist", "allowlists"):
            value = doc.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and not item.get("targetRules"):
                    try:
                        allowlists.append(_allowlist(item))
                    except Exception as exc:
                        problems.append(f"global allowlist: {exc}")
        for item in doc.get("rules", []):
            if not isinstance(item, dict):
                continue
            try:
                rules.append(_load_rule(item))
            except Exception as exc:
                problems.append(f"rule {item.get('id', '?')}: {' '.join(str(exc).split())}")
    return RuleSet(rules, allowlists, problems, digest.hexdigest()[:16])


@functools.cache
def default_rules() -> RuleSet:
    """The vendored gitleaks rules plus ForgeGuard's additions (loaded once per process)."""
    data = resources.files("checks") / "data"
    return load([(data / name).read_text(encoding="utf-8") for name in RULE_FILES])
