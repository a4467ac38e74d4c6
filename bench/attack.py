#!/usr/bin/env python3
"""Outside-attacker figures for the security section (issue 24).

Runs against a server already started as the README says (release build, on
loopback) and prints what an attacker gets: answer times, the server's memory
(from /proc/PID/status), password hashes run, sockets held, and every 5xx it
saw. Standard library only; sends traffic to the given loopback URL only.

    BROADSHEET_ADMIN_EMAIL=a@example.org BROADSHEET_ADMIN_PASSWORD=… \
      cargo run --release &
    python3 bench/attack.py --base http://127.0.0.1:8080 --pid $(pgrep -n broadsheet) \
      --email a@example.org --password …
"""

import argparse
import concurrent.futures as cf
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

FIVE_XX = []


def mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) // 1024
    return out


def call(base, method, path, body=None, token=None, ctype="application/json", timeout=60):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", ctype)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    elapsed = time.perf_counter() - t0
    if status >= 500 and status != 503:
        FIVE_XX.append((method, path, status))
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, elapsed


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def five_xx_from_metrics(base):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    n = 0
    for line in text.splitlines():
        if line.startswith("broadsheet_http_requests_total{") and 'status="5' in line:
            if 'status="503"' not in line:
                n += int(float(line.rsplit(" ", 1)[1]))
    return n


def fragment_bomb(levels):
    frags = []
    for i in range(levels):
        if i == levels - 1:
            frags.append(f"fragment F{i} on Query {{ __typename }}")
        else:
            frags.append(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}")
    return "query Bomb { ...F0 }\n" + "\n".join(frags)


def step_bomb(a):
    print("## GraphQL fragment bomb (anonymous POST /graphql)")
    for levels in (25, 40):
        before = mem(a.pid)
        status, body, t = call(a.base, "POST", "/graphql", {"query": fragment_bomb(levels)})
        after = mem(a.pid)
        code = None
        if body and body.get("errors"):
            code = body["errors"][0].get("extensions", {}).get("code")
        print(
            f"- {levels} levels: HTTP {status} {code} in {t * 1000:.1f} ms; "
            f"RSS {before['VmRSS']} -> {after['VmRSS']} MiB, peak {after['VmHWM']} MiB"
        )


def step_logins(a, n=200):
    print(f"## {n} concurrent wrong passwords for one account")
    hashes0 = metric(a.base, "broadsheet_password_hashes_total")
    statuses = {}
    lock = threading.Lock()

    def one(_):
        s, _, _ = call(
            a.base,
            "POST",
            "/api/v1/auth/login",
            {"email": a.email, "password": "wrong-password-guess"},
        )
        with lock:
            statuses[s] = statuses.get(s, 0) + 1

    before = mem(a.pid)
    with cf.ThreadPoolExecutor(n) as ex:
        list(ex.map(one, range(n)))
    after = mem(a.pid)
    hashes = metric(a.base, "broadsheet_password_hashes_total") - hashes0
    print(
        f"- answers {dict(sorted(statuses.items()))}; argon2 hashes run: {hashes:.0f}; "
        f"RSS {before['VmRSS']} -> {after['VmRSS']} MiB, peak {after['VmHWM']} MiB"
    )


def step_render(a, token):
    print("## A comment during a huge render")
    s, art, _ = call(
        a.base,
        "POST",
        "/api/v1/articles",
        {"title": "Comments open", "body": "Hello.", "status": "published"},
        token,
    )
    assert s in (200, 201), (s, art)
    path = f"/api/v1/articles/{art['id']}/comments"

    def comment(i):
        return call(
            a.base,
            "POST",
            path,
            {
                "author_name": "Reader",
                "author_email": f"reader{i}@example.org",
                "body": f"A thought, number {i}.",
            },
        )

    _, _, quiet = comment(0)
    hostile = {
        "nested quotes, 200 KB": ("> " * 100_000, "markdown"),
        "nested divs, 50,000": ("<div>" * 50_000 + "x" + "</div>" * 50_000, "html"),
        # Accepted: the largest ordinary body the limits allow, rendered in full.
        "500 KB of ordinary Markdown (accepted)": (
            ("A *line* with [a link](https://example.org/x) and `code`, > not a quote.\n\n" * 7000)[:500_000],
            "markdown",
        ),
        # 700 levels: 0.5 MB, under the 1 MiB request limit (2,000 levels
        # would be 4 MB, refused 413 before it is read).
        "nested lists, 700 levels": ("".join("  " * i + "- x\n" for i in range(700)), "markdown"),
    }
    for i, (name, (text, fmt)) in enumerate(hostile.items(), start=1):
        result = {}

        def big():
            result["big"] = call(
                a.base,
                "POST",
                "/api/v1/articles",
                {"title": f"Huge {i}", "body": text, "body_format": fmt},
                token,
            )

        th = threading.Thread(target=big)
        th.start()
        time.sleep(0.05)
        s, _, t = comment(i)
        th.join()
        bs, bb, bt = result["big"]
        code = (bb or {}).get("code")
        print(
            f"- {name}: the big write answered {bs} {code or ''} in {bt * 1000:.0f} ms; "
            f"a comment sent 50 ms in answered {s} in {t * 1000:.1f} ms "
            f"(alone: {quiet * 1000:.1f} ms)"
        )


SSRF_HOSTS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0.0.0.0", "0",
    "localhost", "foo.localhost", "10.0.0.1", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "192.0.0.1", "192.0.2.1", "198.18.0.1",
    "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255", "[::1]", "[::]", "[::127.0.0.1]", "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]", "[::ffff:0:127.0.0.1]", "[64:ff9b::7f00:1]", "[64:ff9b:1::a00:1]",
    "[2002:7f00:1::]", "[2002:a00:1::]", "[2001::53aa:64c:0:0]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    "[fec0::1]", "[fc00::1]", "[fd12:3456::1]", "[fe80::1]", "[ff02::1]", "[2001:db8::1]",
    "[100::1]", "[2001:10::1]", "[2001:20::1]", "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]",
    "[0:0:0:0:0:ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[3fff::1]",
]


def step_ssrf(a, token):
    print("## SSRF: webhook URLs that reach no public address")
    refused, created = 0, []
    for host in SSRF_HOSTS:
        for port in ("", ":8080"):
            url = f"http://{host}{port}/hook"
            s, body, _ = call(
                a.base, "POST", "/api/v1/webhooks",
                {"url": url, "events": ["article.published"]}, token,
            )
            if s in (200, 201):
                created.append(url)
                call(a.base, "DELETE", f"/api/v1/webhooks/{body['id']}", token=token)
            else:
                refused += 1
    total = len(SSRF_HOSTS) * 2
    print(f"- {total} URLs ({len(SSRF_HOSTS)} host forms, with and without a port): "
          f"{refused} refused, {len(created)} created {created[:5]}")


def step_idle(a, n=500):
    print(f"## {n} idle sockets")
    host, port = urllib.parse.urlsplit(a.base).hostname, urllib.parse.urlsplit(a.base).port
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port))
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()

    def open_count():
        held = 0
        for s in socks:
            try:
                data = s.recv(1)
                if data:
                    held += 1
            except BlockingIOError:
                held += 1
            except OSError:
                pass
        return held

    _, _, health = call(a.base, "GET", "/healthz")
    marks = []
    for wait in (1, 9, 11, 15):
        time.sleep(max(0, wait - (time.monotonic() - t0)))
        marks.append(f"{open_count()} held at {wait} s")
    for s in socks:
        s.close()
    print(f"- {', '.join(marks)}; /healthz meanwhile answered in {health * 1000:.1f} ms")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="http://127.0.0.1:8080")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--steps", default="bomb,render,ssrf,idle,logins")
    a = p.parse_args()
    host = urllib.parse.urlsplit(a.base).hostname
    assert host in ("127.0.0.1", "localhost", "::1"), "loopback only"
    s, body, _ = call(a.base, "POST", "/api/v1/auth/login",
                      {"email": a.email, "password": a.password})
    assert s == 200, (s, body)
    token = body["access_token"]
    print(f"server pid {a.pid}, memory at start {mem(a.pid)} MiB\n")
    steps = a.steps.split(",")
    if "bomb" in steps:
        step_bomb(a)
    if "render" in steps:
        step_render(a, token)
    if "ssrf" in steps:
        step_ssrf(a, token)
    if "idle" in steps:
        step_idle(a)
    if "logins" in steps:  # last: it locks the admin out for a while
        step_logins(a)
    print(f"\n## 5xx answers (503 overload excluded): seen by this script {len(FIVE_XX)} "
          f"{FIVE_XX[:5]}; counted by the server {five_xx_from_metrics(a.base)}")


if __name__ == "__main__":
    main()
