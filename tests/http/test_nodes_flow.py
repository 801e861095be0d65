"""Branching nodes through lighttpd: loop, parallel, multi-conditions (and
the condition node's branch), checked in the recorded jobs.  The expected
statuses and results are what NocoBase 2.2.15 records for the same
workflows."""

import unittest

from harness import Site, start_lighttpd, sign_in, expect
from wfspec import build


def calc(id, up, expr, bi=None, engine='math.js'):
    n = {'id': id, 'type': 'calculation', 'up': up,
         'config': {'engine': engine, 'expression': expr}}
    if bi is not None:
        n['bi'] = bi
    return n


def reject_unless(id, up, expr, bi=None):
    """A condition node that fails (FAILED) when expr is false."""
    n = {'id': id, 'type': 'condition', 'up': up,
         'config': {'rejectOnFalse': True, 'engine': 'math.js', 'expression': expr}}
    if bi is not None:
        n['bi'] = bi
    return n


def samples(server, token):
    expect(server.request('POST', 'collections:create', token=token, json={
        'name': 'samples', 'fields': [{'name': 'title', 'type': 'string'},
                                      {'name': 'indicator', 'type': 'integer'}]}),
        'collections:create')


class NodesCase(unittest.TestCase):
    extra_env = None

    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, extra_env=cls.extra_env)
        cls.token = sign_in(cls.server)
        samples(cls.server, cls.token)

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def build(self, nodes, **kw):
        return build(self.server, self.token, nodes, title=self.id(), **kw)

    def ok(self, r):
        self.assertEqual(r.status, 200, r.text)

    def failed(self, r):
        self.assertEqual(r.status, 500, r.text)
        self.assertEqual(r.errors[0]['message'],
                         'Workflow on your action failed, please contact the administrator')
        self.assertEqual(r.errors[0]['code'], 'WORKFLOW_FAILED')
        return r.errors[0]['reason']


class Condition(NodesCase):
    def test_failing_branch_keeps_condition_resolved(self):
        # NocoBase saves the condition's job before its branch runs.
        wf = self.build([
            {'id': 'C', 'type': 'condition',
             'config': {'rejectOnFalse': False, 'engine': 'math.js', 'expression': '1 == 1'}},
            reject_unless('b1', 'C', '{{$jobsMapByNodeKey.@C@}} == false', bi=1),
            calc('after', 'C', '99'),
        ])
        r, ex = wf.run()
        self.failed(r)
        self.assertEqual(ex.status, -1)
        self.assertEqual(ex.trace(), [('C', 1, True), ('b1', -1, False)])

    def test_branch_sees_condition_result(self):
        wf = self.build([
            {'id': 'C', 'type': 'condition',
             'config': {'rejectOnFalse': False, 'engine': 'math.js', 'expression': '1 == 1'}},
            calc('b1', 'C', '{{$jobsMapByNodeKey.@C@}}', bi=1),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('C', 1, True), ('b1', 1, True)])


if __name__ == '__main__':
    unittest.main()
