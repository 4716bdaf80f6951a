"""Listing pages to RSS + Atom: the Python peer of `dateline build` in benches/e2e.rs --peers.

    python pipeline.py JOBS.json OUT_DIR [--concurrency 8] [--timezone Asia/Taipei]

JOBS.json is a list of {"id", "url", "item", "title", "link", "date"}: CSS selectors, `link` as
"selector@attr" (the attribute of the first match inside the item). Each page is fetched with
aiohttp (at most --concurrency requests in flight), parsed with selectolax (lexbor), its items'
dates read as "%Y/%m/%d %H:%M" in the given zone, and written as OUT_DIR/{id}.xml (RSS 2.0) and
OUT_DIR/{id}.atom (Atom 1.0) with feedgen. Exits 1 if any feed failed, after doing the others.
"""

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import aiohttp
from feedgen.feed import FeedGenerator
from selectolax.lexbor import LexborHTMLParser

DATE_FORMAT = "%Y/%m/%d %H:%M"


def split_attr(selector):
    """"a.title@href" -> ("a.title", "href"); "a.title" -> ("a.title", None)."""
    css, _, attr = selector.partition("@")
    return css, attr or None


def extract(html, job, zone):
    """The page's items as (title, link, published) in page order."""
    tree = LexborHTMLParser(html)
    link_css, link_attr = split_attr(job["link"])
    items = []
    for node in tree.css(job["item"]):
        title_node = node.css_first(job["title"])
        link_node = node.css_first(link_css)
        if title_node is None or link_node is None:
            continue
        title = " ".join(title_node.text().split())
        href = link_node.attributes.get(link_attr) if link_attr else link_node.text()
        if not title or not href:
            continue
        published = None
        date_node = node.css_first(job["date"])
        if date_node is not None:
            try:
                published = datetime.strptime(date_node.text().strip(), DATE_FORMAT)
                published = published.replace(tzinfo=zone)
            except ValueError:
                pass
        items.append((title, urljoin(job["url"], href), published))
    return items


def write_feeds(job, items, out_dir, fetched_at):
    fg = FeedGenerator()
    fg.id(job["url"])
    fg.title(job["id"])
    fg.link(href=job["url"], rel="alternate")
    fg.description(f"Headlines from {job['url']}")
    newest = max((p for _, _, p in items if p is not None), default=fetched_at)
    fg.updated(newest)
    for title, link, published in items:
        entry = fg.add_entry(order="append")
        entry.id(link)
        entry.title(title)
        entry.link(href=link)
        when = published or fetched_at
        entry.published(when)
        entry.updated(when)
    fg.rss_file(str(out_dir / f"{job['id']}.xml"))
    fg.atom_file(str(out_dir / f"{job['id']}.atom"))


async def run_job(session, limit, job, out_dir, zone):
    async with limit:
        async with session.get(job["url"]) as response:
            response.raise_for_status()
            body = await response.read()
            charset = (response.charset or "utf-8").lower()
    html = body if charset in ("utf-8", "utf8") else body.decode(charset, errors="replace")
    items = extract(html, job, zone)
    if not items:
        raise ValueError(f"no items matched {job['item']!r}")
    write_feeds(job, items, out_dir, datetime.now(zone))
    return len(items)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timezone", default="Asia/Taipei")
    args = parser.parse_args()

    jobs = json.loads(args.jobs.read_text(encoding="utf-8"))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo(args.timezone)
    limit = asyncio.Semaphore(args.concurrency)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(
            *(run_job(session, limit, job, args.out_dir, zone) for job in jobs),
            return_exceptions=True,
        )
    failed = 0
    for job, result in zip(jobs, results):
        if isinstance(result, BaseException):
            failed += 1
            print(f"error: feed {job['id']}: {result!r}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
