"""Validate schema.graphql with an independent GraphQL implementation
(graphql-core) and round-trip it against the running server's introspection.

Usage: graphql_check.py SCHEMA_FILE GRAPHQL_URL
"""
import json
import sys
import urllib.request

from graphql import build_client_schema, build_schema, get_introspection_query, print_schema
from graphql.utilities import find_breaking_changes, find_dangerous_changes


def main() -> int:
    path, url = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        committed = build_schema(f.read())  # raises on any invalid SDL
    body = json.dumps({"query": get_introspection_query(descriptions=True)}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        result = json.load(resp)
    if result.get("errors"):
        print("introspection failed:", result["errors"])
        return 1
    served = build_client_schema(result["data"])
    # Built-in directives and scalars are spelled slightly differently by each
    # implementation (and print_schema leaves them out); compare our own types.
    builtin = ("@deprecated", "@specifiedBy", "@include", "@skip", "@oneOf", "Standard scalar")

    def ours(changes):
        return [c.description for c in changes if not any(b in c.description for b in builtin)]

    problems = [f"breaking: {d}" for d in ours(find_breaking_changes(committed, served))]
    problems += [f"breaking (reverse): {d}" for d in ours(find_breaking_changes(served, committed))]
    problems += [f"dangerous: {d}" for d in ours(find_dangerous_changes(committed, served))]
    if print_schema(committed) != print_schema(served):
        problems.append("the printed schemas differ")
    for p in problems:
        print(p)
    if problems:
        print("schema.graphql does not match the running server")
        return 1
    types = len(committed.type_map)
    print(f"schema.graphql is valid GraphQL and matches the server's introspection ({types} types)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
