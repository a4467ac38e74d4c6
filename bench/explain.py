#!/usr/bin/env python3
"""Print SQLite's query plan for every distinct SELECT a Broadsheet server
logged at trace level (BROADSHEET_LOG_LEVEL=broadsheet::sql=trace).

    explain.py DB_FILE SERVER_LOG > plans.md
"""
import re
import sqlite3
import sys

db, log = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
seen = []
ansi = re.compile(r"\x1b\[[0-9;]*m")
for line in open(log, encoding="utf-8", errors="replace"):
    line = ansi.sub("", line)
    if "broadsheet::sql" not in line or " sql=" not in line:
        continue
    sql = line.split(" sql=", 1)[1].strip()
    if not sql.upper().startswith("SELECT") or sql in seen:
        continue
    seen.append(sql)

scans = 0
for sql in seen:
    params = (None,) * sql.count("?")
    try:
        plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    except sqlite3.Error as e:
        print(f"- `{sql[:120]}…`: could not explain ({e})")
        continue
    steps = [row[3] for row in plan]
    full = [s for s in steps if s.startswith("SCAN") and "USING" not in s and "CONSTANT" not in s]
    scans += bool(full)
    short = sql if len(sql) <= 220 else sql[:220] + "…"
    print(f"- `{short}`")
    for s in steps:
        print(f"  - {s}")
print()
print(f"{len(seen)} distinct SELECTs; {scans} with a full table scan step.")
