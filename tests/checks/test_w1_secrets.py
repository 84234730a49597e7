"""W1 No secrets in diff: gitleaks' rules over added lines only, values redacted."""

from __future__ import annotations

from checks import w1_secrets as w1
from checks.cache import MemoryCache
from checks.context import Verdict
from checks.secrets_rules import default_rules, entropy, load, redact
from tests.checks.gitaudit import audit, result
from tests.checks.memsource import Files, make_ctx
from tests.fixtures.gitrepo import GitRepo

GITHUB_TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
AWS_KEY = "AKIA" + "Z7MPLQ4RT2X6WYVN"
OPENAI_KEY = "sk-proj-" + "Ab3De5Fg7Hj9Kl1Mn3Pq5Rs7Tu9Vw1Xy3Z5aB7cD9eF1gH3"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA7bq98YiK1yZ4VW2Nf0pJhT3bLk8QxZc6vRm2Ds9Gh4Jk5Lp7Wq\n"
    "Xc3Vb8Nm1Qa2Ws3Ed4Rf5Tg6Yh7Uj8Ik9Ol0Pz1Xs2Dc3Fv4Gb5Hn6Jm7Kl8Qw9Er0T\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def run(head: Files, base: Files | None = None) -> Verdict:
    return w1.run(make_ctx(head, base))


def test_a_clean_change_passes() -> None:
    verdict = run({"app.py": "x = 1\nname = 'task-runner'\n"})
    assert verdict.outcome == "pass"
    assert verdict.detail == "No secrets in 2 added line(s) of 1 file(s)."


def test_a_github_token_is_found_at_its_line() -> None:
    verdict = run({"app/settings.py": f"DEBUG = True\nTOKEN = '{GITHUB_TOKEN}'\n"})
    assert verdict.outcome == "warn"
    assert [(f.path, f.start_line, f.level) for f in verdict.findings] == [("app/settings.py", 2, "failure")]
    expected = "[github-pat] app/settings.py:2 looks like a secret: 'ghp_…' (40 chars)"
    assert verdict.findings[0].message == expected


def test_the_secret_value_never_appears_in_a_message_or_the_detail() -> None:
    verdict = run({"a.py": f"k = '{GITHUB_TOKEN}'\naws = '{AWS_KEY}'\nkey = '{OPENAI_KEY}'\n"})
    text = verdict.detail + " ".join(f.message for f in verdict.findings)
    assert len(verdict.findings) == 3
    for secret in (GITHUB_TOKEN, AWS_KEY, OPENAI_KEY):
        assert secret not in text
        assert secret[4:12] not in text


def test_redaction_shows_four_characters_and_the_length() -> None:
    assert redact("abcdefghij") == "'abcd…' (10 chars)"


def test_aws_openai_private_key_and_url_credentials_are_found() -> None:
    source = (
        f"AWS = '{AWS_KEY}'\nOPENAI = '{OPENAI_KEY}'\n{PRIVATE_KEY}"
        "DB = 'postgres://admin:Zq8vLm2pXr7tNw4k@db.internal/app'\n"
    )
    rules = sorted(f.message.split("]")[0][1:] for f in run({"cfg.py": source}).findings)
    assert rules == ["aws-access-token", "database-url-password", "openai-project-key", "private-key"]


def test_sk_inside_task_does_not_match() -> None:
    source = "name = 'task-" + "Ab3De5Fg7Hj9Kl1Mn3Pq5Rs7Tu9Vw1Xy3Z5aB7cD9'\n"
    assert run({"jobs.py": source}).findings == []


def test_a_git_commit_hash_is_not_a_token() -> None:
    source = "commit 3f786850e387550fdab836ed7e6dc881de23001b\nsha = 'e0d123e5f316bef78bfdf5a008837577'\n"
    assert run({"notes.txt": source}).findings == []


def test_a_secret_only_in_a_removed_line_is_not_found() -> None:
    base = {"a.py": f"x = 1\nTOKEN = '{GITHUB_TOKEN}'\n"}
    head = {"a.py": "x = 1\nTOKEN = os.environ['TOKEN']\n"}
    verdict = run(head, base)
    assert verdict.outcome == "pass"


def test_a_secret_in_an_unchanged_context_line_is_not_found() -> None:
    base = {"a.py": f"TOKEN = '{GITHUB_TOKEN}'\n"}
    head = {"a.py": f"TOKEN = '{GITHUB_TOKEN}'\ny = 2\n"}
    assert run(head, base).findings == []


def test_allow_secret_trailing_comment_opts_a_line_out() -> None:
    source = f"TOKEN = '{GITHUB_TOKEN}'  # forgeguard: allow-secret\n"
    assert run({"a.py": source}).findings == []


def test_findings_in_test_files_are_notices_that_do_not_warn() -> None:
    head = {
        "tests/test_api.py": f"T = '{GITHUB_TOKEN}'\n",
        "src/app.test.ts": f"const t = '{GITHUB_TOKEN}';\n",
        "pkg/thing_test.py": f"T = '{GITHUB_TOKEN}'\n",
    }
    verdict = run(head)
    assert verdict.outcome == "pass"
    assert [f.level for f in verdict.findings] == ["notice", "notice", "notice"]
    assert "3 in test files, reported as notices" in verdict.detail


def test_lock_minified_and_binary_files_are_skipped() -> None:
    head: Files = {
        "package-lock.json": f'"t": "{GITHUB_TOKEN}"\n',
        "static/app.min.js": f"var t='{GITHUB_TOKEN}';\n",
        "img.bin": b"\0\0" + GITHUB_TOKEN.encode(),
    }
    verdict = run(head)
    assert verdict.findings == []
    assert "Skipped: 1 binary, 1 lock file, 1 minified." in verdict.detail


def test_a_file_over_one_megabyte_is_skipped() -> None:
    big = "x = 1\n" * 200_000 + f"T = '{GITHUB_TOKEN}'\n"
    verdict = run({"big.py": big})
    assert verdict.findings == []
    assert "1 over 1 MB" in verdict.detail


def test_a_pkcs12_file_is_flagged_by_its_path() -> None:
    verdict = run({"certs/server.p12": b"\x30\x82\0\0binary"})
    assert [f.message for f in verdict.findings] == [
        "[pkcs12-file] certs/server.p12: a file of a kind that holds private keys"
    ]


def test_undecodable_bytes_do_not_break_the_scan() -> None:
    verdict = run({"a.txt": b"\xff\xfe token = '" + GITHUB_TOKEN.encode() + b"'\n"})
    assert verdict.outcome == "warn"


def test_wants_reads_no_file() -> None:
    assert list(w1.wants(make_ctx({"a.py": "x"}))) == []


def test_wholly_added_files_are_cached_without_the_secret() -> None:
    cache = MemoryCache()
    head = {"a.py": f"T = '{GITHUB_TOKEN}'\n"}
    first = w1.run(make_ctx(head, cache=cache))
    assert GITHUB_TOKEN not in repr(cache._data)
    second = w1.run(make_ctx(head, cache=cache))
    assert [f.message for f in first.findings] == [f.message for f in second.findings]
    assert len(cache) == 1


# the rule engine


def test_the_keyword_gate_keeps_a_rule_off_text_without_its_keyword() -> None:
    rules = load(["[[rules]]\nid = \"r\"\nregex = '''[0-9a-f]{8}'''\nkeywords = [\"hexkey\"]\n"])
    assert rules.scan("a", "value deadbeef") == []
    assert [m.rule for m in rules.scan("a", "HEXKEY deadbeef")] == ["r"]


def test_rule_allowlists_and_stopwords_allow_a_match() -> None:
    text = "[[rules]]\nid = \"r\"\nregex = '''tok_([a-z0-9]{8})'''\nkeywords = [\"tok_\"]\n"
    text += '[[rules.allowlists]]\nstopwords = ["dummy"]\n'
    rules = load([text])
    assert rules.scan("a", "tok_dummy123") == []
    assert [m.secret for m in rules.scan("a", "tok_real1234")] == ["real1234"]


def test_entropy_threshold_drops_low_entropy_values() -> None:
    text = "[[rules]]\nid = \"r\"\nregex = '''k=([a-z0-9]{10})'''\nentropy = 3\nkeywords = [\"k=\"]\n"
    rules = load([text])
    assert entropy("aaaaaaaaaa") == 0.0
    assert rules.scan("a", "k=aaaaaaaaaa") == []
    assert len(rules.scan("a", "k=q8x2m4v7z1")) == 1


def test_a_rule_that_cannot_compile_is_reported_not_fatal() -> None:
    rules = load(["[[rules]]\nid = \"bad\"\nregex = '''(unclosed'''\n", "not = [toml"])
    assert rules.scan("a", "(unclosed") == []
    assert [p.split(":")[0] for p in rules.problems] == ["rule file does not parse", "rule bad"]


def test_every_vendored_rule_compiles() -> None:
    rules = default_rules().rules
    assert len(rules) > 200
    assert [r.id for r in rules if r.source is not None and r.regex() is None] == []


def test_a_large_change_is_scanned_on_all_cores_with_the_same_findings() -> None:
    filler = "value = compute(1, 2)  # ordinary code line\n" * 3000
    head = {f"pkg/m{i}.py": filler for i in range(40)}
    head["pkg/m7.py"] = filler + f"TOKEN = '{GITHUB_TOKEN}'\n"
    assert sum(len(c) for c in head.values()) > w1.PARALLEL_BYTES
    verdict = run(head)
    assert [(f.path, f.start_line) for f in verdict.findings] == [("pkg/m7.py", 3001)]


# on a real git repository, through the engine


def test_git_a_secret_only_in_a_removed_line_is_not_found(git_repo: GitRepo) -> None:
    base = git_repo.commit({"app.py": f"x = 1\nTOKEN = '{GITHUB_TOKEN}'\n"})
    head = git_repo.commit({"app.py": "x = 1\nTOKEN = os.environ['TOKEN']\n"})
    assert result(audit(git_repo, base, head), "W1").outcome == "pass"


def test_git_an_added_secret_warns_at_its_line(git_repo: GitRepo) -> None:
    base = git_repo.commit({"app.py": "x = 1\n"})
    head = git_repo.commit({"app.py": f"x = 1\ny = 2\nTOKEN = '{GITHUB_TOKEN}'\n"})
    found = result(audit(git_repo, base, head), "W1")
    assert (found.outcome, [f.start_line for f in found.findings]) == ("warn", [3])


def test_a_50_megabyte_added_file_is_skipped() -> None:
    verdict = run({"dump.sql": f"-- {GITHUB_TOKEN}\n" + "INSERT INTO t VALUES (1);\n" * (2 * 1024 * 1024)})
    assert (verdict.outcome, verdict.findings) == ("pass", [])
    assert "1 over 1 MB" in verdict.detail


RULE = "[[rules]]\nid = \"r\"\nregex = '''tok_([a-z0-9]{8})'''\nkeywords = [\"tok_\"]\n"


def test_global_allowlist_paths_exclude_a_file_from_scanning() -> None:
    rules = load([RULE + "[allowlist]\npaths = ['''(^|/)fixtures/''']\n"])
    assert rules.path_allowed("a/fixtures/x.txt")
    assert rules.scan("a/fixtures/x.txt", "tok_real1234") == []
    assert len(rules.scan("a/src/x.txt", "tok_real1234")) == 1


def test_an_allowlist_regex_can_target_the_whole_line() -> None:
    text = RULE + "[[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['''^#\\s*example''']\n"
    rules = load([text])
    assert rules.scan("a", "# example tok_real1234") == []
    assert len(rules.scan("a", "key = tok_real1234")) == 1


def test_an_allowlist_with_condition_and_needs_every_part() -> None:
    text = RULE + "[[rules.allowlists]]\ncondition = \"AND\"\npaths = ['''docs/''']\nstopwords = [\"real\"]\n"
    rules = load([text])
    assert rules.scan("docs/a.md", "tok_real1234") == []
    assert len(rules.scan("src/a.py", "tok_real1234")) == 1
    assert len(rules.scan("docs/a.md", "tok_fake1234")) == 1


def _rule(rule_id: str, regex: str, *keywords: str) -> str:
    listed = ", ".join(f'"{k}"' for k in keywords)
    return f"[[rules]]\nid = \"{rule_id}\"\nregex = '''{regex}'''\nkeywords = [{listed}]\n"


def test_keywords_that_overlap_in_the_text_each_open_their_rule() -> None:
    rules = load(
        [_rule("outer", "sk_live_[0-9a-z]{8}", "sk_live") + _rule("inner", "live_[0-9a-z]{8}", "live_")]
    )
    assert {m.rule for m in rules.scan("a.txt", "k = sk_live_abcd1234\n")} == {"outer", "inner"}


def test_a_keyword_with_regex_characters_is_a_literal() -> None:
    rules = load([_rule("q", "q~[0-9]{4}", "q~", "a.b")])
    assert [m.rule for m in rules.scan("a.txt", "x = q~1234\n")] == ["q"]
    assert rules.candidates("axb q") == []
