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


def check_json_feed(path, expected):
    """JSON Feed 1.1 by its spec (feedparser 6.0, the current release, reads no JSON Feed)."""
    problems = []
    try:
        feed = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        return [f"{path}: not JSON: {e}"]
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"{path}: version {feed.get('version')!r}")
    for key in ("title", "home_page_url", "feed_url"):
        if not isinstance(feed.get(key), str) or not feed[key]:
            problems.append(f"{path}: missing {key}")
    items = feed.get("items")
    if not isinstance(items, list) or not items:
        return problems + [f"{path}: no items"]
    for item in items:
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{path}: item without id: {item}")
        if not (item.get("content_text") or item.get("content_html")):
            problems.append(f"{path}: item {item.get('id')} has neither content_text nor content_html")
        published = item.get("date_published")
        if published is not None:
            parsed = datetime.fromisoformat(published)
            if parsed.utcoffset() is None:
                problems.append(f"{path}: {published!r} has no offset")
    by_link = {i.get("url"): i for i in items}
    for want in expected.get("items", []):
        got = by_link.get(want["link"])
        if got is None:
            problems.append(f"{path}: missing {want['link']}")
            continue
        if got.get("title") != want["title"]:
            problems.append(f"{path}: {want['link']}: title {got.get('title')!r} != {want['title']!r}")
        if instant(got.get("date_published")) != instant(want.get("date")):
            problems.append(f"{path}: {want['link']}: date {got.get('date_published')!r} != {want.get('date')!r}")
        for category in want.get("categories", []):
            if category not in got.get("tags", []):
                problems.append(f"{path}: {want['link']}: tag {category!r} missing")
        if "author" in want and [a.get("name") for a in got.get("authors", [])][:1] != [want["author"]]:
            problems.append(f"{path}: {want['link']}: authors {got.get('authors')!r}")
        if "summary" in want and got.get("summary") != want["summary"]:
            problems.append(f"{path}: {want['link']}: summary {got.get('summary')!r}")
    return problems


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
        # Enrichment, as readers see it: categories as tags, the author, the summary.
        terms = [t.get("term") for t in got.get("tags", [])]
        for category in want.get("categories", []):
            if category not in terms:
                problems.append(f"{path}: {want['link']}: category {category!r} not in {terms}")
        if "author" in want and got.get("author") != want["author"]:
            problems.append(f"{path}: {want['link']}: author {got.get('author')!r} != {want['author']!r}")
        if "summary" in want and got.get("summary") != want["summary"]:
            problems.append(f"{path}: {want['link']}: summary {got.get('summary')!r} != {want['summary']!r}")
    return problems


def main(root):
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".xml", ".atom", ".json") and p.name != "expected.json")
    if not files:
        print(f"no feeds under {root}: did the end-to-end tests run?", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        expected_path = path.parent / "expected.json"
        expected = json.loads(expected_path.read_text()) if expected_path.exists() else {}
        problems = check_json_feed(path, expected) if path.suffix == ".json" else check_file(path, expected)
        if problems:
            failed += 1
            for p in problems:
                print(p, file=sys.stderr)
        else:
            passed += 1
    print(f"feeds read back: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/e2e-feeds"))
