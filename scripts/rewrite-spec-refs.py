#!/usr/bin/env python3
"""One-off maintenance: rewrites citations of the external product spec ("runtime.md §5.3") into links to this
repository's own reference pages ("docs/runtime-guide.md#status-detection"), using scripts/spec-reference-map.txt.
Run from the repository root: python3 scripts/rewrite-spec-refs.py [--check]. --check lists what is left."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "scripts" / "spec-reference-map.txt"
SKIP = {"scripts/spec-reference-map.txt", "scripts/rewrite-spec-refs.py", "docs/methods.md"}


def load() -> list[tuple[str, str]]:
    pairs = []
    for line in MAP.read_text(encoding="utf-8").splitlines():
        if "=>" not in line or line.lstrip().startswith("#"):
            continue
        left, right = (s.strip() for s in line.split("=>", 1))
        if left == "methods.md":  # bare: ambiguous with the skills' references/methods.md
            continue
        pairs.append((left, right))
    pairs.sort(key=lambda p: -len(p[0]))
    return pairs


def files() -> list[Path]:
    out = []
    for top in ("Sources", "Tests", "docs", "Benchmarks", "scripts"):
        for p in (ROOT / top).rglob("*"):
            if p.is_file() and p.suffix in (".swift", ".py", ".md", ".sh", ".txt") and "Fixtures" not in p.parts:
                out.append(p)
    out.append(ROOT / "README.md")
    return [p for p in out if str(p.relative_to(ROOT)) not in SKIP]


def main() -> None:
    pairs = load()
    # A section citation ends where no further section digit or letter follows ("§5.1" is not "§5.1a" nor
    # "§5.12", but may end a sentence: "§7.").
    rx = [(re.compile(r"(?<![\w/.#-])" + re.escape(left) + r"(?![0-9A-Za-z]|\.[0-9])" if "§" in left or " " in left
                      else r"(?<![\w/.#-])" + re.escape(left) + r"(?![\w])"), right) for left, right in pairs]
    # What a range or list leaves behind when only its first section had a line of its own: "…#anchor-§4".
    tail = re.compile(r"(docs/[\w.-]+\.md(?:#[\w-]+)?)(?:\s*[-–,]\s*§[0-9][0-9.]*[a-z]?)+")
    check = "--check" in sys.argv
    left_over = re.compile(r"(?<![\w/.#-])(runtime|protocol|data-model|install|design)\.md\b(?!#)")
    total = 0
    for p in files():
        text = p.read_text(encoding="utf-8")
        new = text
        for r, right in rx:
            new = r.sub(right, new)
        new = tail.sub(r"\1", new)
        if check:
            for m in left_over.finditer(new):
                line = new.count("\n", 0, m.start()) + 1
                print(f"{p.relative_to(ROOT)}:{line}: {new.splitlines()[line - 1].strip()[:120]}")
        elif new != text:
            p.write_text(new, encoding="utf-8")
            total += 1
    if not check:
        print(f"rewrote citations in {total} files")


if __name__ == "__main__":
    main()
