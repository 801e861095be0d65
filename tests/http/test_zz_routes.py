"""Every route of the route table is exercised by this suite.

Runs last (unittest takes modules in name order): each site's request log
names the route every request took, the harness gathers them when a site
closes, and this compares them with `flowcgi.fcgi routes`.
"""

import unittest

import harness
from harness import Site


def table_routes(site):
    r = site.cli('routes', db=False)
    assert r.returncode == 0, r.stderr
    rows = [line.split('\t') for line in r.stdout.splitlines()]
    assert all(len(row) == 6 for row in rows), r.stdout
    return ['%s:%s' % (row[0], row[1]) for row in rows]


class RouteCoverage(unittest.TestCase):
    def test_routes_command(self):
        with Site(init=False) as site:
            names = table_routes(site)
        self.assertIn('<collection>:trigger', names)
        self.assertIn('auth:signIn', names)
        self.assertEqual(len(names), len(set(names)), 'a route is listed twice')

    def test_every_route_exercised(self):
        if harness.PARTIAL:
            self.skipTest('only part of the suite ran')
        with Site(init=False) as site:
            names = table_routes(site)
        self.maxDiff = None
        missing = [n for n in names if n not in harness.routes_seen]
        self.assertEqual(missing, [], 'routes no test reached')
        unknown = sorted(harness.routes_seen - set(names))
        self.assertEqual(unknown, [], 'request log names routes the table lacks')


if __name__ == '__main__':
    unittest.main()
