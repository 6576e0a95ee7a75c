"""The repository explains itself: no reference points outside it, every cited section of
docs/Semantics.md exists, and every path that README's layout names exists."""

import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def tracked_files():
    out = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [REPO / f for f in out.stdout.splitlines() if (REPO / f).is_file()]


def texts():
    for path in tracked_files():
        if path.suffix in {".npy", ".png"}:
            continue
        try:
            yield path, path.read_text()
        except UnicodeDecodeError:
            continue


def test_no_reference_points_outside_the_repository():
    # Spelled in pieces so that this file does not match itself.
    shared, design = "shared", "DESIGN"
    outside = re.compile(rf"\.\./{shared}|{shared}/{design}|{design}\.md|{design} section|{design} [0-9]")
    offenders = [f"{p.relative_to(REPO)}:{n}" for p, text in texts()
                 for n, line in enumerate(text.splitlines(), 1)
                 if outside.search(line)]
    assert offenders == []


def semantics_sections():
    text = (REPO / "docs/Semantics.md").read_text()
    return {int(m) for m in re.findall(r"^## ([0-9]+)\. ", text, flags=re.M)}


def test_every_cited_semantics_section_exists():
    sections = semantics_sections()
    assert sections == set(range(1, max(sections) + 1))
    cited = re.compile(r"Semantics\.md\)? ?§([0-9]+)(?: to §([0-9]+))?")
    missing = []
    for path, text in texts():
        for m in cited.finditer(text):
            for s in filter(None, m.groups()):
                if int(s) not in sections:
                    missing.append(f"{path.relative_to(REPO)}: §{s}")
    assert missing == []


def test_readme_layout_names_paths_that_exist():
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    missing = []
    for line in block.splitlines():
        if line[:1].isspace():
            continue  # a continuation of the description column
        for token in re.split(r"\s{2,}", line, maxsplit=1)[0].split():
            if token.endswith("/") and not (REPO / token).is_dir():
                missing.append(token)
    assert missing == []
