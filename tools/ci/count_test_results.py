"""Counts test cases of one `bazel test` run: prints "PASSED FAILED" for the CI summary line.

Reads Bazel's per-target summary lines (--test_summary=short) from the log given as argv[1], then each
reported target's JUnit XML under the testlogs folder (argv[2]) for its case counts. A target that failed
without XML (build failure, crash, timeout) counts as one failed case, so nothing disappears from the total.
"""

import os
import re
import sys
import xml.etree.ElementTree as ElementTree

_SUMMARY = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|FAILED TO BUILD|INCOMPLETE)\b")


def _cases_from_xml(path):
    """(passed, failed) test cases in one JUnit XML file."""
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    passed = failed = 0
    for suite in suites:
        for case in suite.iter("testcase"):
            if case.get("status") == "notrun" or case.find("skipped") is not None:
                continue
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            else:
                passed += 1
    return passed, failed


def main():
    log_path, testlogs = sys.argv[1], sys.argv[2]
    passed = failed = 0
    with open(log_path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = _SUMMARY.match(line.strip())
            if not match:
                continue
            target, status = match.groups()
            package, _, name = target[2:].partition(":")
            xml_path = os.path.join(testlogs, package, name, "test.xml")
            counted = (0, 0)
            if os.path.exists(xml_path):
                try:
                    counted = _cases_from_xml(xml_path)
                except ElementTree.ParseError:
                    counted = (0, 0)
            if status in ("PASSED", "FLAKY"):
                passed += max(counted[0], 1) if counted[1] == 0 else counted[0]
                failed += counted[1]
            else:
                passed += counted[0]
                failed += max(counted[1], 1)
    print(passed, failed)


if __name__ == "__main__":
    main()
