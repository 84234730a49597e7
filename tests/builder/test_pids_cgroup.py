"""Where a pids cgroup can be made: this process's cgroup in the v1 pids hierarchy, or in v2 when
its subtree has the pids controller; nowhere that cannot be written."""

from __future__ import annotations

import pathlib

import pytest

from forgeguard_app.builder import pids_cgroup
from forgeguard_app.builder.pids_cgroup import PidsCgroup


def test_the_v1_pids_hierarchy_gives_this_processs_folder_in_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(pids_cgroup, "CGROUP_ROOT", tmp_path)
    lines = ["9:name=systemd:/", "8:pids:/worker.slice", "4:memory:/x", "0::/"]
    assert pids_cgroup._candidates(lines) == [tmp_path / "pids" / "worker.slice"]


def test_a_v2_cgroup_is_a_candidate_only_when_its_subtree_has_pids(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(pids_cgroup, "CGROUP_ROOT", tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cgroup.subtree_control").write_text("cpu memory\n")
    assert pids_cgroup._candidates(["0::/a"]) == []
    (tmp_path / "a" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    assert pids_cgroup._candidates(["0::/a"]) == [tmp_path / "a"]


def test_no_cgroup_is_made_where_its_folder_cannot_be_made(tmp_path: pathlib.Path) -> None:
    assert PidsCgroup.make(64, tmp_path / "missing" / "base") is None
