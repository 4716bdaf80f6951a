#!/usr/bin/env python3
"""Read every feed the end-to-end tests wrote (target/e2e-feeds) with feedparser, as many feed
readers do, and check it against what dateline meant to publish (expected.json beside it).

Each feed must parse with bozo == 0; every expected item must be there with its title, its link
and its date (compared as instants)."""

import calendar
import json
import sys
from datetime import datetime
from pathlib import Path

import feedparser


def instant(text):
    return datetime.fromisoformat(text).timestamp() if text else None


def check_file(path, expected):
    problems = []
    parsed = feedparser.parse(path.read_bytes())
    if parsed.bozo:
        return [f"{path}: bozo: {parsed.bozo_exception!r}"]
    if not parsed.entries:
        return [f"{path}: no entries"]
    by_link = {e.get("link"): e for e in parsed.entries}
    for want in expected.get("items", []):
        got = by_link.get(want["link"])
        if got is None:
            problems.append(f"{path}: missing {want['link']}")
            continue
        if got.get("title") != want["title"]:
            problems.append(f"{path}: {want['link']}: title {got.get('title')!r} != {want['title']!r}")
        stamp = got.get("published_parsed")
        got_instant = calendar.timegm(stamp) if stamp else None
        if got_instant != instant(want.get("date")):
            problems.append(f"{path}: {want['link']}: date {got.get('published')!r} != {want.get('date')!r}")
    return problems


def main(root):
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".xml", ".atom"))
    if not files:
        print(f"no feeds under {root}: did the end-to-end tests run?", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        expected_path = path.parent / "expected.json"
        expected = json.loads(expected_path.read_text()) if expected_path.exists() else {}
        problems = check_file(path, expected)
        if problems:
            failed += 1
            for p in problems:
                print(p, file=sys.stderr)
        else:
            passed += 1
    print(f"feedparser: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/e2e-feeds"))
