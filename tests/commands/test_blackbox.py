"""The commands and the intake as a black box: signed comment deliveries in, GitHub and model traffic out."""

from __future__ import annotations

from forgeguard_app.intake.contracts import validate_contracts
from tests.commands.harness import Bench


async def test_a_whole_intake_ends_in_an_open_contracts_pull_request(bench: Bench) -> None:
    issue = bench.issue()
    await bench.whole_intake(issue)
    number = bench.contracts_pull()
    pull = bench.fake.issue(bench.repo, number)
    assert pull.title == "Forge contracts: Shelf"
    assert f"#{issue}" in pull.body and "closes" not in pull.body.lower()
    assert "forge:contracts" in pull.labels
    assert "forge:intake" in bench.fake.issue(bench.repo, issue).labels
    head = bench.repo.sha(f"forge/contracts-{issue}")
    files = {
        path: (bench.repo.read(head, path) or b"").decode()
        for path in bench.repo.git("ls-tree", "-r", "--name-only", head).splitlines()
        if path.startswith("Forge/") or path == "forge.json"
    }
    assert validate_contracts(files) == []
    assert f"#{number}" in bench.progress_comment(issue)
