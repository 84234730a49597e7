"""Dependency manifests parsed properly, names normalized."""

from __future__ import annotations

import pytest

from checks.manifests import (
    parse_package_json,
    parse_pyproject,
    parse_requirements,
    parse_setup_cfg,
    parse_tsconfig,
    poetry_python,
    read_forge_json,
    strip_jsonc,
)
from tests.checks.memsource import MemSnapshot


def reader(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda p: files[p].encode() if p in files else None


def test_requirements_names_versions_markers_and_extras() -> None:
    text = "Django>=4 ; python_version > '3'\nrequests[socks]==2.0\nZope.Interface\n"
    assert parse_requirements("r.txt", reader({"r.txt": text})).names == {
        "django",
        "requests",
        "zope-interface",
    }


def test_requirements_comments_and_options_declare_nothing() -> None:
    text = "# flask\nnumpy  # not pandas\n--index-url https://x\n-c constraints.txt\n"
    assert parse_requirements("r.txt", reader({"r.txt": text})).names == {"numpy"}


def test_requirements_includes_are_followed_relative_to_the_file_once() -> None:
    files = {"req/a.txt": "-r b.txt\nflask\n", "req/b.txt": "--requirement=a.txt\nclick\n"}
    assert parse_requirements("req/a.txt", reader(files)).names == {"flask", "click"}


def test_requirements_urls_and_editables_use_the_egg_name() -> None:
    text = "git+https://github.com/x/y.git#egg=Thing_One\n-e git+https://x/z.git#egg=other\nname @ https://x/n.whl\n"
    assert parse_requirements("r.txt", reader({"r.txt": text})).names == {"thing-one", "other", "name"}


def test_requirements_line_continuations_join() -> None:
    assert parse_requirements("r.txt", reader({"r.txt": "flask \\\n  >=2\n"})).names == {"flask"}


def test_pyproject_that_does_not_parse_reports_it() -> None:
    assert parse_pyproject("pyproject.toml", b"[project").error is not None


def test_pyproject_poetry_skips_python_and_reads_groups() -> None:
    text = b'[tool.poetry]\nname = "P"\n[tool.poetry.dependencies]\npython = "^3"\nA_B = "1"\n'
    text += b'[tool.poetry.dev-dependencies]\nc = "1"\n[tool.poetry.group.x.dependencies]\nd = "1"\n'
    manifest = parse_pyproject("pyproject.toml", text)
    assert (manifest.names, manifest.test_names, manifest.own_name) == ({"a-b", "d"}, {"c"}, "p")


def test_setup_cfg_extras_are_declared_a_dev_extra_for_tests_only() -> None:
    text = b"[options]\ninstall_requires = a\n[options.extras_require]\ndev =\n    b>=1\nyaml = c\n"
    manifest = parse_setup_cfg("setup.cfg", text)
    assert (manifest.names, manifest.test_names) == ({"a", "c"}, {"b"})


def test_package_json_reads_the_four_tables() -> None:
    text = b'{"dependencies": {"a": "1"}, "devDependencies": {"b": "1"}, "peerDependencies": {"@s/c": "1"},'
    text += b' "optionalDependencies": {"d": "1"}, "scripts": {"e": "x"}}'
    assert parse_package_json("package.json", text).names == {"a", "b", "@s/c", "d"}


def test_package_json_that_is_not_an_object_reports_it() -> None:
    assert parse_package_json("package.json", b"[1]").error == "package.json is not a JSON object"


def test_jsonc_comments_and_trailing_commas_are_removed_but_strings_kept() -> None:
    assert strip_jsonc('{"a": "//x", /* c */ "b": [1,],} // end') == '{"a": "//x",  "b": [1]} '


def test_tsconfig_aliases_and_base_url() -> None:
    text = b'{"compilerOptions": {"baseUrl": "./src", "paths": {"@/*": ["*"], "cfg": ["config.ts"]}}}'
    aliases = parse_tsconfig("web/tsconfig.json", text)
    assert (aliases.is_alias("@/x"), aliases.is_alias("cfg"), aliases.is_alias("cfgx")) == (True, True, False)
    assert aliases.base_url == "web/src"


def test_forge_json_dependency_file_and_router_dirs() -> None:
    snap = MemSnapshot(
        {"forge.json": '{"backend": {"dependency_file": "./b/req.txt", "router_dirs": ["x/"]}}'}
    )
    config = read_forge_json(snap)
    assert (config.dependency_file, config.router_dirs) == ("b/req.txt", ("x",))


def test_forge_json_that_does_not_parse_is_reported_not_raised() -> None:
    assert read_forge_json(MemSnapshot({"forge.json": "{"})).error is not None


def test_pyproject_build_requirements_and_uv_pdm_dev_dependencies_declare() -> None:
    text = b'[build-system]\nrequires = ["setuptools>=68", "wheel"]\n'
    text += b'[tool.uv]\ndev-dependencies = ["pytest"]\n[tool.pdm.dev-dependencies]\nlint = ["ruff"]\n'
    manifest = parse_pyproject("pyproject.toml", text)
    assert (manifest.build_names, manifest.test_names) == ({"setuptools", "wheel"}, {"pytest", "ruff"})


def test_poetry_s_python_constraint_is_the_project_s_requires_python() -> None:
    text = '[tool.poetry]\nname = "app"\n[tool.poetry.dependencies]\npython = "^3.12"\nrequests = "^2"\n'
    assert parse_pyproject("pyproject.toml", text.encode()).requires_python == ">=3.12,<4"


def test_pep_621_requires_python_wins_over_poetry_s() -> None:
    text = (
        '[project]\nname = "app"\nrequires-python = ">=3.10"\n[tool.poetry.dependencies]\npython = "^3.12"\n'
    )
    assert parse_pyproject("pyproject.toml", text.encode()).requires_python == ">=3.10"


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("^3.12", ">=3.12,<4"),
        ("~3.12", ">=3.12,<3.13"),
        ("~3", ">=3.0,<4"),
        (">=3.9 <4", ">=3.9,<4"),
        (">=3.9,<4.0", ">=3.9,<4.0"),
        ("3.11", "==3.11.*"),
        ("~=3.10", "~=3.10"),
        ("*", None),
        ("^3.8 || ^3.10", None),
    ],
)
def test_poetry_python_constraints_read_as_pep_440(constraint: str, specifier: str | None) -> None:
    assert poetry_python(constraint) == specifier
