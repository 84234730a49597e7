"""Text from repositories, comments and the model renders inert; the CSP allows no inline script."""

from __future__ import annotations

from checks.model import Finding
from forgeguard_app.db import Database
from forgeguard_app.web.builds import InterjectionView, ToolCallView
from forgeguard_app.web.templating import inert
from tests.fixtures.github import FakeGitHub
from tests.web.builds import T0, Builds, build_view
from tests.web.conftest import Site, add_audit, running_site

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
MARKDOWN = "[click](javascript:alert(3)) **bold** ![i](https://evil.example/p.png)"
RTL = "invoice\u202efdp.exe"


def assert_inert(page: str) -> None:
    assert "<script>alert" not in page
    assert "<img src=x" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert "\u202e" not in page
    assert "invoice[U+202E]fdp.exe" in page


async def test_findings_and_details_with_html_markdown_and_rtl_overrides_render_inert(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    findings = {"A1": [Finding(f"{IMG}.py", f"{SCRIPT} {MARKDOWN} {RTL}", start_line=1)]}
    audit_id = await add_audit(
        site.db, "octo-org", "visible", findings=findings, details={"A1": f"{SCRIPT} {RTL}"}
    )
    browser = await site.sign_in("mona")
    page = await browser.text(f"/audits/{audit_id}")
    assert_inert(page)
    assert "[click](javascript:alert(3)) **bold**" in page


async def test_tool_results_and_interjections_render_inert(fake_github: FakeGitHub, db: Database) -> None:
    repo = fake_github.add_repo("octo-org", "visible")
    fake_github.users.add_person("mona", repo)
    view = build_view(
        5,
        tool_log=[ToolCallView(T0, 1, "run_command", f"{SCRIPT} {IMG} {RTL}", True, 3)],
        interjections=[InterjectionView(T0, "mona", f"{MARKDOWN} {SCRIPT} {RTL}")],
        plan=[IMG],
    )
    async with running_site(fake_github, db, builds=Builds(view)) as site:
        browser = await site.sign_in("mona")
        page = await browser.text("/builds/5")
    assert_inert(page)


async def test_every_page_carries_a_content_security_policy_without_inline_script(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    for path in ("/", "/repos/octo-org/visible", "/audits/1", "/signin/callback"):
        answer = await browser.get(path)
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/", "/repos/octo-org/visible"):
        assert "<script>" not in await browser.text(path)


async def test_no_token_or_secret_reaches_a_page(site: Site) -> None:
    repo = site.github.add_repo("octo-org", "visible")
    site.github.users.add_person("mona", repo)
    browser = await site.sign_in("mona")
    token = next(iter(site.github.users.tokens))
    pages = [await browser.text(path) for path in ("/", "/repos/octo-org/visible")]
    for page in pages:
        assert token not in page
        assert site.github.users.client_secret not in page
        assert site.github.webhook_secret not in page


def test_direction_controls_are_shown_not_obeyed_and_other_text_is_left_alone() -> None:
    assert inert("a\u202eb\u2066c\u200fd") == "a[U+202E]b[U+2066]c[U+200F]d"
    assert inert("naïve 日本語 🙂") == "naïve 日本語 🙂"
    assert inert(5) == 5
