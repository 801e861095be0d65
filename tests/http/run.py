#!/usr/bin/env python3
"""Black-box test runner for flowcgi (called by `make test-http` / `make test-asan`).

    python3 tests/http/run.py --prog /abs/path/flowcgi.fcgi [--sanitized] [-k PATTERN]... [--keep]

Discovers tests/http/test_*.py (unittest modules), runs them against the
given program, prints one line per test and a final "N passed, N failed"
line, and exits non-zero when anything failed. The program path reaches the
tests as harness.PROG and $FLOWCGI_PROG.

--sanitized: after the run every server error log (lighttpd's errorlog and
breakagelog, Apache's error log, which hold the raw stderr of the FastCGI
processes) and every captured stderr of CGI and command runs is scanned for
"AddressSanitizer" / "LeakSanitizer" / "runtime error:"; any hit fails the
run. (Logs are scanned whenever a server stops, so this holds for servers the
tests stopped themselves.)
"""

import argparse
import os
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class LineResult(unittest.TestResult):
    """Prints one line per test as it finishes."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.passed = 0
        self.failed_ids = []
        self._t0 = {}

    def _line(self, word, test, extra=''):
        t0 = self._t0.pop(id(test), None)
        dt = ' (%.2fs)' % (time.monotonic() - t0) if t0 else ''
        self.stream.write('%-5s %s%s%s\n' % (word, _name(test), dt, extra))
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        import harness
        harness.CURRENT_TEST = _name(test)
        self._t0[id(test)] = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        import harness
        harness.scan_live_logs()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line('ok', test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed_ids.append(_name(test))
        self._line('FAIL', test)

    def addError(self, test, err):
        super().addError(test, err)
        self.failed_ids.append(_name(test))
        self._line('ERROR', test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line('skip', test, ': ' + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line('ok', test, ' (expected failure)')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed_ids.append(_name(test))
        self._line('FAIL', test, ' (unexpected success)')

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._line('FAIL', subtest)


def _name(test):
    tid = test.id() if hasattr(test, 'id') else str(test)
    return tid


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--prog', required=True, help='the program under test (absolute path)')
    ap.add_argument('--sanitized', action='store_true',
                    help='fail on sanitizer reports in server logs and stderr')
    ap.add_argument('-k', action='append', default=[], metavar='PATTERN',
                    help='only tests whose id contains PATTERN (shell wildcards allowed)')
    ap.add_argument('--keep', action='store_true', help='keep the temp sites for post-mortems')
    ap.add_argument('--list', action='store_true', help='list the tests and exit')
    ap.add_argument('--backend', choices=('sqlite', 'pg'),
                    default=os.environ.get('FLOWCGI_TEST_BACKEND', 'sqlite'),
                    help='the database of every site: a SQLite file, or a database '
                         'in a scratch PostgreSQL 15 cluster started for the run')
    args = ap.parse_args()

    prog = os.path.abspath(args.prog)
    if not os.access(prog, os.X_OK):
        print('run.py: %s is missing or not executable' % prog, file=sys.stderr)
        return 2
    os.environ['FLOWCGI_PROG'] = prog
    if args.sanitized:
        os.environ['FLOWCGI_SANITIZED'] = '1'
    if args.keep:
        os.environ['FLOWCGI_KEEP'] = '1'
    sys.path.insert(0, HERE)
    import harness
    harness.PROG = prog
    harness.SANITIZED = args.sanitized
    harness.KEEP = args.keep
    harness.PARTIAL = bool(args.k)
    harness.BACKEND = args.backend
    os.environ['FLOWCGI_TEST_BACKEND'] = args.backend

    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = [p if '*' in p else '*%s*' % p for p in args.k]
    suite = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    tests = list(_flatten(suite))
    if args.list:
        for t in tests:
            print(_name(t))
        return 0
    if not tests:
        print('run.py: no tests found%s' % (' matching ' + ', '.join(args.k) if args.k else ''))
        return 1

    print('== %d tests against %s%s on %s' % (len(tests), prog,
                                             ' (sanitized)' if args.sanitized else '',
                                             'PostgreSQL' if args.backend == 'pg' else 'SQLite'))
    t0 = time.monotonic()
    result = LineResult(sys.stdout)
    try:
        suite.run(result)
    except KeyboardInterrupt:
        print('\ninterrupted')
    finally:
        harness.cleanup_all()     # stops leftover servers, scanning their logs
        if args.backend == 'pg':
            import pgcluster
            pgcluster.stop()

    for kind, items in (('FAIL', result.failures), ('ERROR', result.errors)):
        for test, tb in items:
            print('\n' + '=' * 70)
            print('%s: %s' % (kind, _name(test)))
            print('-' * 70)
            print(tb.rstrip())
    failed = len(result.failed_ids)
    reports = list(harness.sanitizer_reports)
    if reports:
        print('\n' + '=' * 70)
        print('SANITIZER: %d report(s)' % len(reports))
        for where, test, excerpt in reports:
            print('-' * 70)
            print('in %s (found after %s)' % (where, test or 'setup'))
            print(excerpt)
    print('\n%d passed, %d failed%s%s in %.1fs' % (
        result.passed, failed,
        ', %d skipped' % len(result.skipped) if result.skipped else '',
        ', %d sanitizer report(s)' % len(reports) if reports else '',
        time.monotonic() - t0))
    return 1 if failed or reports else 0


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(2)
