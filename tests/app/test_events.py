"""The delivery job's router: made of the feature routers that are there."""

from __future__ import annotations

import json
import logging
import pathlib

import pytest
from gidgethub.sansio import Event

from forgeguard_app.events import load_routers
from tests.app.conftest import CORPUS


def installation_created() -> Event:
    data = json.loads((CORPUS / "webhooks" / "installation" / "created.payload.json").read_bytes())
    return Event(data, event="installation", delivery_id="d1")


def test_a_feature_router_not_written_yet_is_left_out() -> None:
    router, missing = load_routers(("forgeguard_app.installations", "forgeguard_app.not_written_yet.router"))
    assert missing == ["forgeguard_app.not_written_yet.router"]
    assert len(router.fetch(installation_created())) == 1


def test_a_feature_router_that_fails_to_import_is_left_out_and_logged(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken_feature_router.py").write_text("from forgeguard_app import no_such_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.ERROR):
        router, missing = load_routers(("broken_feature_router", "forgeguard_app.installations"))
    assert missing == ["broken_feature_router"]
    assert "broken_feature_router cannot be imported" in caplog.text
    assert len(router.fetch(installation_created())) == 1
