"""W1 against gitleaks' rules and detect-secrets on a corpus of real configuration files.

Run: .venv/bin/python bench/w1_recall.py [--pool]

The corpus is bench/w1_corpus/ (real files from public projects, each folder
with its licence; SOURCES.md says where each came from). bench/w1_corpus/labels.json
lists, per file, the lines that hold a real credential value (labelled by hand:
a value someone could log in or call an API with, fake or not; placeholders,
references to environment variables and empty values are not). Three scanners
read every line of every file:

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
from importlib import resources

from checks.secrets_rules import RuleSet, default_rules, load

CORPUS = pathlib.Path(__file__).resolve().parent / "w1_corpus"
SKIP = {"labels.json", "SOURCES.md", "LICENSE", "LICENSE.txt", "LICENSE.rst", "LICENSE.md"}

Hits = set[tuple[str, int]]


def corpus_files() -> list[pathlib.Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in SKIP)


def scan_with(rules: RuleSet, files: list[pathlib.Path]) -> Hits:
    hits: Hits = set()
    for path in files:
        rel = path.relative_to(CORPUS).as_posix()
        if rules.path_allowed(rel):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        hits |= {(rel, m.line + 1) for m in rules.scan(rel, text)}
    return hits


def gitleaks_rules() -> RuleSet:
    return load([(resources.files("checks") / "data" / "gitleaks.toml").read_text(encoding="utf-8")])


def detect_secrets() -> Hits:
    exe = pathlib.Path(sys.executable).with_name("detect-secrets")
    out = subprocess.run(
        [str(exe), "scan", "--all-files", "."], cwd=CORPUS, capture_output=True, text=True, check=True
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


def main() -> None:
    files = corpus_files()
    labels = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    truth: Hits = {(path, line) for path, lines in labels["secrets"].items() for line in lines}
    ours = scan_with(default_rules(), files)
    gitleaks = scan_with(gitleaks_rules(), files)
    ds = detect_secrets()
    print(
        f"corpus: {len(files)} files, {sum(len(p.read_bytes().splitlines()) for p in files)} lines, "
        f"{len(truth)} labelled secret lines"
    )
    if "--pool" in sys.argv:
        for rel, line in sorted(ours | gitleaks | ds | truth):
            text = (CORPUS / rel).read_text(encoding="utf-8", errors="replace").splitlines()[line - 1]
            who = "".join(
                flag for flag, hits in (("F", ours), ("G", gitleaks), ("D", ds)) if (rel, line) in hits
            )
            mark = "SECRET" if (rel, line) in truth else "      "
            print(f"{mark} {who:<3} {rel}:{line}: {text.strip()[:110]}")
    print(score("ForgeGuard W1", ours, truth))
    print(score("gitleaks rules", gitleaks, truth))
    print(score("detect-secrets", ds, truth))


if __name__ == "__main__":
    main()
