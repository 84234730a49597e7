"""W1 against gitleaks' rules and detect-secrets on corpora of real configuration files.

Run: .venv/bin/python bench/w1_recall.py [--pool]

Two corpora, each reported in its own table:

- in-sample: bench/w1_corpus/ without held_out/ (real files from public projects,
  each folder with its licence; SOURCES.md says where each came from). ForgeGuard's
  configuration rules were adjusted after a first pass over it.
- held-out: bench/w1_corpus/held_out/, collected and labelled after the rules were
  settled and never used to change them: ForgeGuard's out-of-sample figure.

Each corpus's labels.json lists, per file, the lines that hold a real credential
value (labelled by hand: a value someone could log in or call an API with, fake or
not; placeholders, references to environment variables and empty values are not;
held_out/labels.json's "how" spells out its rules). Three scanners read every line
of every file:

- ForgeGuard W1: the vendored gitleaks rules plus ForgeGuard's additions
  (`checks.secrets_rules.default_rules`), with W1's skips;
- gitleaks: the vendored gitleaks v8.30.1 rule file alone, evaluated by the same
  engine (the engine that matches gitleaks finding for finding; gitleaks' binary
  is not installable here);
- detect-secrets (`detect-secrets scan --all-files`, its default plugins and filters).

A finding counts per (file, line). `--pool` prints every line any scanner
flags, with its label, to review the labels.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources

from checks.secrets_rules import RuleSet, default_rules, load

ROOT = pathlib.Path(__file__).resolve().parent / "w1_corpus"
HELD_OUT = "held_out"
SKIP = {"labels.json", "SOURCES.md", "LICENSE", "LICENSE.txt", "LICENSE.rst", "LICENSE.md"}

Hits = set[tuple[str, int]]


@dataclass(frozen=True)
class Corpus:
    name: str
    root: pathlib.Path
    exclude: str | None
    """A top-level folder of `root` that belongs to another corpus."""

    def files(self) -> list[pathlib.Path]:
        return sorted(
            p
            for p in self.root.rglob("*")
            if p.is_file() and p.name not in SKIP and not self._excluded(p.relative_to(self.root))
        )

    def _excluded(self, rel: pathlib.PurePath) -> bool:
        return self.exclude is not None and rel.parts[0] == self.exclude

    def truth(self) -> Hits:
        labels = json.loads((self.root / "labels.json").read_text(encoding="utf-8"))
        return {(path, line) for path, lines in labels["secrets"].items() for line in lines}


IN_SAMPLE = Corpus("in-sample (bench/w1_corpus/, rules tuned on it)", ROOT, exclude=HELD_OUT)
OUT_OF_SAMPLE = Corpus(
    "held-out (bench/w1_corpus/held_out/, not used to tune)", ROOT / HELD_OUT, exclude=None
)


def scan_with(rules: RuleSet, corpus: Corpus, files: list[pathlib.Path]) -> Hits:
    hits: Hits = set()
    for path in files:
        rel = path.relative_to(corpus.root).as_posix()
        if rules.path_allowed(rel):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        hits |= {(rel, m.line + 1) for m in rules.scan(rel, text)}
    return hits


def gitleaks_rules() -> RuleSet:
    return load([(resources.files("checks") / "data" / "gitleaks.toml").read_text(encoding="utf-8")])


def detect_secrets(corpus: Corpus) -> Hits:
    exe = pathlib.Path(sys.executable).with_name("detect-secrets")
    exclude = ["--exclude-files", f"^{corpus.exclude}/"] if corpus.exclude else []
    out = subprocess.run(
        [str(exe), "scan", "--all-files", *exclude, "."],
        cwd=corpus.root,
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(out.stdout)["results"]
    return {
        (name, item["line_number"])
        for name, items in results.items()
        if pathlib.PurePosixPath(name).name not in SKIP
        for item in items
    }


def score(name: str, hits: Hits, truth: Hits) -> str:
    tp = len(hits & truth)
    precision = tp / len(hits) if hits else 1.0
    recall = tp / len(truth) if truth else 1.0
    return (
        f"{name:<16} findings {len(hits):>3}  true {tp:>3}  false {len(hits) - tp:>3}  "
        f"missed {len(truth) - tp:>3}  precision {precision:.2f}  recall {recall:.2f}"
    )


def report(corpus: Corpus, pool: bool) -> None:
    files = corpus.files()
    truth = corpus.truth()
    ours = scan_with(default_rules(), corpus, files)
    gitleaks = scan_with(gitleaks_rules(), corpus, files)
    ds = detect_secrets(corpus)
    print(
        f"{corpus.name}: {len(files)} files, "
        f"{sum(len(p.read_bytes().splitlines()) for p in files)} lines, {len(truth)} labelled secret lines"
    )
    if pool:
        for rel, line in sorted(ours | gitleaks | ds | truth):
            text = (corpus.root / rel).read_text(encoding="utf-8", errors="replace").splitlines()[line - 1]
            who = "".join(
                flag for flag, hits in (("F", ours), ("G", gitleaks), ("D", ds)) if (rel, line) in hits
            )
            mark = "SECRET" if (rel, line) in truth else "      "
            print(f"{mark} {who:<3} {rel}:{line}: {text.strip()[:110]}")
    print(score("ForgeGuard W1", ours, truth))
    print(score("gitleaks rules", gitleaks, truth))
    print(score("detect-secrets", ds, truth))


def main() -> None:
    pool = "--pool" in sys.argv
    report(IN_SAMPLE, pool)
    print()
    report(OUT_OF_SAMPLE, pool)


if __name__ == "__main__":
    main()
