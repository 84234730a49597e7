"""W1 past gitleaks: secrets in committed configuration files, placeholders left alone,
gitleaks 8.23.1's generic-secret semantics, documentation URLs, vendored files."""

from __future__ import annotations

import pytest

from checks import w1_secrets as w1
from checks.config import AuditConfig
from checks.context import Verdict
from checks.secrets_rules import default_rules
from tests.checks.memsource import Files, make_ctx

# Values built at run time so that this file holds no literal that looks like a secret.
PASSWORD = "Zq8vLm2p" + "Xr7tNw4k"


def run(head: Files, config: AuditConfig | None = None) -> Verdict:
    return w1.run(make_ctx(head, config=config))


def found(path: str, text: str) -> list[tuple[str, int]]:
    return [(m.rule, m.line) for m in default_rules().scan(path, text)]


@pytest.mark.parametrize(
    ("path", "text", "rule"),
    [
        (".env", f"DB_PASSWORD={PASSWORD}\n", "config-env-secret"),
        ("deploy/.bashrc", f"export GITHUB_TOKEN={PASSWORD}\n", "config-env-secret"),
        (".npmrc", f"//registry.npmjs.org/:_authToken={PASSWORD}\n", "config-ini-secret"),
        (".pypirc", f"[pypi]\nusername = me\npassword = {PASSWORD}\n", "config-ini-secret"),
        ("conf/app.ini", f"[db]\npassword = {PASSWORD}\n", "config-ini-secret"),
        (".netrc", f"machine example.org login me password {PASSWORD}\n", "config-netrc-password"),
        (".git-credentials", f"https://me:{PASSWORD}@github.com\n", "config-git-credentials"),
        ("config/app.yml", f"database:\n  password: {PASSWORD}\n", "config-yaml-secret"),
        ("docker-compose.yml", f"environment:\n  - DB_PASSWORD={PASSWORD}\n", "config-yaml-secret"),
        ("settings.json", f'{{"apiKey": "{PASSWORD}"}}\n', "config-json-secret"),
        ("Web.config", f"<password>{PASSWORD}</password>\n", "config-xml-secret"),
        ("wp-config.php", f"define('DB_PASSWORD', '{PASSWORD}');\n", "config-php-secret"),
        ("notes.md", f"postgres://app:{PASSWORD}@db.internal:5432/app\n", "database-url-password"),
        ("id.ppk", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "putty-private-key"),
        ("db/password.txt", f"{PASSWORD}\n", "config-password-file"),
        ("mysite/settings.py", f"SECRET_KEY = 'django-insecure-{PASSWORD}!(@'\n", "python-settings-secret"),
        ("app.py", f'app.config["API_TOKEN"] = "{PASSWORD}"\n', "python-settings-secret"),
        ("config.py", f'    GITHUB_TOKEN: str = "{PASSWORD}"\n', "python-settings-secret"),
    ],
)
def test_secrets_in_configuration_files_are_found(path: str, text: str, rule: str) -> None:
    assert rule in [r for r, _ in found(path, text)]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (".env", "DB_PASSWORD=changeme\nAPI_TOKEN=${API_TOKEN}\nSECRET_KEY=\nAUTH=<token>\nPASS=xxx\n"),
        (".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
        (
            "config/app.yml",
            "password: ${{ secrets.DB_PASSWORD }}\ntoken: <token>\napi_key: your-api-key-here\n",
        ),
        ("settings.json", '{"password": "", "token": "xxx"}\n'),
        ("fixtures/users.json", '{"password": "pbkdf2_sha256$10000$LUyh$f6Zbpnx1L5dPze8m0="}\n'),
        ("app.properties", "spring.datasource.password=${DB_PASSWORD}\n"),
        (".github/workflows/ci.yml", "permissions:\n  id-token: write\n"),
        ("notes.md", "postgres://user:password@localhost/app\n"),
        ("docs/api.py", '"""Connect with https://user:password@example.com/path."""\n'),
        ("docs/api.rst", "https://jo%40email.com:a%20secret@www.example.com:1234/path\n"),
        (
            "oauth/constants.py",
            'ACCESS_TOKEN = "access_token"\nCLIENT_SECRET = "client_secret"\nTOKEN_URL = "https://example.org/t"\n',
        ),
        (
            "settings.py",
            'SECRET_KEY = os.environ["SECRET_KEY"]\nPASSWORD = "changeme"\nAPI_KEY = "<api-key>"\n',
        ),
        ("settings.py", 'AUTH_USER_MODEL = "accounts.User"\nPASSWORD_RESET_TIMEOUT = 3600\n'),
    ],
)
def test_placeholders_are_not_secrets(path: str, text: str) -> None:
    assert found(path, text) == []


def test_a_key_that_only_names_a_secret_s_location_is_not_one() -> None:
    assert (
        found(".env", "AWS_ACCESS_KEY_ID_FILE=/run/secrets/id\nTOKEN_URL=https://auth.example.org/token\n")
        == []
    )


def test_digit_free_generic_secrets_are_reported_as_gitleaks_8_23_1_does() -> None:
    digit_free = "aB+cD/eFgHiJkLmNoPqRs="
    assert found("app.py", f"api_key = '{digit_free}'\n") == [("generic-api-key", 0)]


def test_vendored_files_are_not_scanned_unless_configured() -> None:
    head = {"third_party/lib/.env": f"DB_PASSWORD={PASSWORD}\n"}
    verdict = run(head)
    assert (verdict.outcome, verdict.findings) == ("pass", [])
    assert "1 vendored" in verdict.detail
    assert run(head, AuditConfig(audit_vendored=True)).outcome == "warn"
