#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn kunit.py's --json report into "PASS|FAIL|SKIP kunit/suite.case" lines."""
import json
import sys


def walk(node, path):
    for case in node.get("test_cases", []):
        word = {"PASS": "PASS", "SKIP": "SKIP"}.get(case.get("status"), "FAIL")
        print(f"{word} kunit/{'.'.join(path + [case.get('name', '?')])}")
    for sub in node.get("sub_groups", []):
        walk(sub, path + [sub.get("name", "?")])


with open(sys.argv[1], encoding="utf-8") as f:
    walk(json.load(f), [])
