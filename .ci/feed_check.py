"""Check the running server's RSS and Atom feeds with an independent parser
(feedparser): both parse cleanly (bozo == 0) as the format they claim, hold
entries with a title, link, author and content, attribute the demo CGTN
cross-post to CGTN with a link to the original, and revalidate with ETag
and Last-Modified (304).

Usage: feed_check.py BASE_URL   (a server seeded with `broadsheet seed --demo`)
"""
import sys

import feedparser


def check(url: str, version: str) -> list:
    problems = []
    d = feedparser.parse(url)
    say = lambda msg: problems.append(f"{url}: {msg}")  # noqa: E731
    if d.bozo:
        say(f"not well-formed (bozo): {d.get('bozo_exception')!r}")
    if d.get("status") != 200:
        say(f"status {d.get('status')}")
    if d.version != version:
        say(f"parsed as {d.version!r}, expected {version!r}")
    if not d.feed.get("title"):
        say("the feed has no title")
    if not d.entries:
        say("no entries")
    for e in d.entries:
        name = e.get("title") or e.get("id") or "?"
        for field in ("title", "link", "id", "published", "summary"):
            if not e.get(field):
                say(f"entry {name!r} has no {field}")
        if not e.get("author"):
            say(f"entry {name!r} has no author")
        if not (e.get("content") and e.content[0].get("value")):
            say(f"entry {name!r} has no content")
    cross_posts = [
        e for e in d.entries
        if any(l.get("rel") == "via" and l.get("href", "").startswith("https://news.cgtn.com/")
               for l in e.get("links", []))
    ]
    if not cross_posts:
        say("no entry links its original on news.cgtn.com with rel=via")
    for e in cross_posts:
        html = e.content[0].value
        if "Originally published by" not in html or "CGTN" not in html:
            say(f"entry {e.title!r} does not say it was originally published by CGTN")
        if e.link.startswith("https://news.cgtn.com/"):
            say(f"entry {e.title!r} links the original instead of this site")
        if version == "rss20" and e.get("source", {}).get("title") != "CGTN":
            say(f"entry {e.title!r} has no <source> naming CGTN: {e.get('source')!r}")
    if d.get("etag"):
        again = feedparser.parse(url, etag=d.etag)
        if again.get("status") != 304:
            say(f"If-None-Match {d.etag} answered {again.get('status')}, not 304")
    else:
        say("no ETag")
    if d.get("modified"):
        again = feedparser.parse(url, modified=d.modified)
        if again.get("status") != 304:
            say(f"If-Modified-Since {d.modified} answered {again.get('status')}, not 304")
    else:
        say("no Last-Modified")
    if not problems:
        print(f"ok {url}: {d.version}, {len(d.entries)} entries, {len(cross_posts)} attributed cross-post(s)")
    return problems


def main() -> int:
    base = sys.argv[1].rstrip("/")
    problems = check(f"{base}/feeds/rss.xml", "rss20") + check(f"{base}/feeds/atom.xml", "atom10")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
