"""The documentation site's code runs: every code block of every page listed in mkdocs.yml
is executed (python blocks of a page in one namespace, in order, as a reader would type
them; bash blocks in a shell, each line exiting as it claims; toml blocks parsed as policies;
a block marked as a pytest file run under pytester). Text blocks (diagrams) are the only
ones not run. The README's own commands, shown on the first page, are what CI runs."""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from pathlib import Path

import numpy  # noqa: F401 - loaded before pytester snapshots sys.modules
import pytest
import scipy.stats  # noqa: F401
from helpers import run_shell, skip_without_what_it_names

import initcheck.verification.pipeline  # noqa: F401

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"
BLOCK = re.compile(r"(?:<!-- (?P<mark>[^>]*) -->\s*)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)


def pages() -> list[str]:
    nav = (DOCS.parent / "mkdocs.yml").read_text() if (DOCS.parent / "mkdocs.yml").exists() else ""
    listed = re.findall(r":\s*(\S+\.md)\s*$", nav, re.M)
    return listed or sorted(p.name for p in DOCS.glob("*.md"))


def blocks(page: str) -> list[tuple[str, str, str]]:
    return [
        (m["mark"] or "", m["lang"], m["code"]) for m in BLOCK.finditer((DOCS / page).read_text())
    ]


def test_every_page_is_listed_and_every_block_has_a_language():
    assert set(pages()) == {p.name for p in DOCS.glob("*.md")}, "a page missing from mkdocs.yml nav"
    for page in pages():
        for _, lang, _ in blocks(page):
            assert lang in {"python", "bash", "toml", "text"}, (page, lang or "no language")


@pytest.mark.parametrize("page", pages())
def test_page_code_runs(page, tmp_path, pytester, monkeypatch):
    found = blocks(page)
    namespace: dict[str, object] = {}
    monkeypatch.chdir(tmp_path)
    for k, (mark, lang, code) in enumerate(found):
        where = f"{page} block {k + 1}"
        if mark.startswith("run by CI"):  # the README's commands: CI runs exactly these
            first = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
            assert first and code.split()[:6] == first.group(1).split()[:6], where
        elif mark.startswith("pytest"):
            path = pytester.makepyfile(test_doc_example=code)
            passed = int(re.search(r"passed=(\d+)", mark).group(1))
            pytester.runpytest(str(path)).assert_outcomes(passed=passed)
        elif lang == "python":
            skip_without_what_it_names(code)  # the page's later blocks need it too
            exec(compile(code, where, "exec"), namespace)
        elif lang == "bash":
            for line in (ln.split("  #")[0].strip() for ln in code.strip().splitlines()):
                skip_without_what_it_names(line)
                r = run_shell(line, tmp_path)
                assert r.returncode == 0, (where, line, r.stdout[-1500:], r.stderr[-1500:])
        elif lang == "toml":  # a policy is loaded as one; any other TOML must parse
            from initcheck.models.policy import load
            path = tmp_path / "policy.toml"
            path.write_text(code)
            if "rule" in tomllib.loads(code):
                assert load(path).rules, where
