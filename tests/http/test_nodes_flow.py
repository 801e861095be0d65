"""Branching nodes through lighttpd: loop, parallel, multi-conditions (and
the condition node's branch), checked in the recorded jobs.  The expected
statuses and results are what NocoBase 2.2.15 records for the same
workflows."""

import time
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


class Loop(NodesCase):
    def test_array_from_context(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.items}}'}},
            calc('c', 'L', '{{$scopes.@L@.item}} * 10 + {{$scopes.@L@.index}}', bi=0),
            calc('s', 'c', 'concat(string({{$scopes.@L@.sequence}}), "/", '
                 'string({{$scopes.@L@.length}}))'),
            calc('after', 'L', '{{$jobsMapByNodeKey.@L@.done}}'),
        ])
        r, ex = wf.run({'title': 'x', 'items': [1, 2, 3]})
        self.ok(r)
        self.assertEqual(ex.status, 1)
        self.assertEqual(ex.job('L')['result'], {'looped': 3, 'done': 3})
        self.assertEqual(ex.job('L')['status'], 1)
        self.assertEqual([j['result'] for j in ex.jobs_of('c')], [10, 21, 32])
        self.assertEqual([j['result'] for j in ex.jobs_of('s')], ['1/3', '2/3', '3/3'])
        self.assertEqual(ex.job('after')['result'], 3)
        # the body's first job hangs off the loop's job
        self.assertEqual(ex.jobs_of('c')[0]['upstreamId'], ex.job('L')['id'])

    def test_targets(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 'abc'}},
            calc('c', 'L', '{{$scopes.@L@.item}}-{{$scopes.@L@.length}}-'
                 '{{$scopes.@L@.sequence}}', bi=0, engine='string'),
            {'id': 'M', 'type': 'loop', 'up': 'L', 'config': {'target': 2.7}},
            calc('d', 'M', '{{$scopes.@M@.item}}-{{$scopes.@M@.length}}', bi=0,
                 engine='string'),
            {'id': 'N', 'type': 'loop', 'up': 'M', 'config': {'target': '{{$context.data.n}}'}},
            calc('e', 'N', 'x', bi=0, engine='string'),
            {'id': 'O', 'type': 'loop', 'up': 'N', 'config': {'target': 3}},
        ])
        r, ex = wf.run({'title': 'x', 'n': None})
        self.ok(r)
        self.assertEqual(ex.trace(), [
            ('L', 1, {'looped': 1, 'done': 1}),
            ('c', 1, 'abc-1-1'),
            ('M', 1, {'looped': 2, 'done': 2}),
            ('d', 1, '0-2'),
            ('d', 1, '1-2'),
            ('N', 1, {'looped': 0, 'done': 0}),   # null target: no item
            ('O', 1, {'looped': 0, 'done': 0}),   # no branch
        ])

    def test_negative_target(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.n}}'}},
            calc('c', 'L', '1', bi=0),
        ])
        r, ex = wf.run({'title': 'x', 'n': -1})
        reason = self.failed(r)
        self.assertIn('Loop target in number type must be greater than 0', reason)
        self.assertEqual(ex.status, -2)
        self.assertEqual(ex.trace(), [
            ('L', -2, {'message': 'Loop target in number type must be greater than 0'})])

    def test_null_items_are_skipped_by_item(self):
        # NocoBase's scope drops null elements before indexing; the length
        # still counts them.
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.items}}'}},
            calc('c', 'L', 'i={{$scopes.@L@.item}} n={{$scopes.@L@.length}}', bi=0,
                 engine='string'),
        ])
        r, ex = wf.run({'title': 'x', 'items': [1, None, 3]})
        self.ok(r)
        self.assertEqual([j['result'] for j in ex.jobs_of('c')],
                         ['i=1 n=3', 'i=3 n=3', 'i= n=3'])

    def exit_mode(self, exit):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 4, 'exit': exit}},
            reject_unless('c', 'L', '{{$scopes.@L@.index}} != 1', bi=0),
            calc('o', 'L', '{{$jobsMapByNodeKey.@L@.looped}}'),
        ])
        return wf.run()

    def test_exit_return(self):
        r, ex = self.exit_mode(0)
        self.failed(r)
        self.assertEqual(ex.status, -1)
        self.assertEqual(ex.trace(), [
            ('L', -1, {'looped': 2, 'done': 1}), ('c', 1, True), ('c', -1, False)])

    def test_exit_break(self):
        r, ex = self.exit_mode(1)
        self.ok(r)
        self.assertEqual(ex.status, 1)
        self.assertEqual(ex.trace(), [
            ('L', 1, {'looped': 2, 'done': 1, 'broken': True}),
            ('c', 1, True), ('c', -1, False), ('o', 1, 2)])

    def test_exit_continue(self):
        r, ex = self.exit_mode(2)
        self.ok(r)
        self.assertEqual(ex.trace(), [
            ('L', 1, {'looped': 4, 'done': 4}),
            ('c', 1, True), ('c', -1, False), ('c', 1, True), ('c', 1, True),
            ('o', 1, 4)])

    def cond_loop(self, items, checkpoint, cof, cond=None):
        cond = cond or {'calculation': {'group': {'type': 'and', 'calculations': [
            {'calculator': 'gt', 'operands': ['{{$scopes.@L@.item}}', 3]}]}}}
        cond = dict(cond, checkpoint=checkpoint, continueOnFalse=cof)
        wf = self.build([
            {'id': 'L', 'type': 'loop',
             'config': {'target': '{{$context.data.items}}', 'condition': cond}},
            calc('c', 'L', '{{$scopes.@L@.item}}', bi=0),
        ])
        r, ex = wf.run({'title': 'x', 'items': items})
        self.ok(r)
        return ex.job('L')['result'], [j['result'] for j in ex.jobs_of('c')]

    def test_condition_before_each(self):
        self.assertEqual(self.cond_loop([5, 1, 7, 2, 9], 0, False),
                         ({'looped': 1, 'done': 1, 'broken': True}, [5]))
        self.assertEqual(self.cond_loop([5, 1, 7, 2, 9], 0, True),
                         ({'looped': 5, 'done': 3}, [5, 7, 9]))
        self.assertEqual(self.cond_loop([1, 5, 2], 0, False),
                         ({'looped': 1, 'done': 0, 'broken': True}, []))
        self.assertEqual(self.cond_loop([1, 5, 2], 0, True),
                         ({'looped': 3, 'done': 1}, [5]))

    def test_condition_from_second(self):
        self.assertEqual(self.cond_loop([1, 5, 2], 1, False),
                         ({'looped': 2, 'done': 2, 'broken': True}, [1, 5]))
        self.assertEqual(self.cond_loop([1, 5, 2], 1, True),
                         ({'looped': 3, 'done': 2}, [1, 5]))

    def test_condition_engine(self):
        cond = {'engine': 'math.js', 'expression': '{{$scopes.@L@.item}} > 1'}
        self.assertEqual(self.cond_loop([1, 5, 2], 0, True, cond),
                         ({'looped': 3, 'done': 2}, [5, 2]))

    def test_condition_error(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 2, 'condition': {
                'checkpoint': 1, 'calculation': {'calculator': 'nope', 'operands': [1, 2]}}}},
            calc('c', 'L', '1', bi=0),
        ])
        r, ex = wf.run()
        reason = self.failed(r)
        self.assertIn('no calculator function registered for "nope"', reason)
        self.assertEqual(ex.status, -2)
        # NocoBase adds a second job for the loop (the first stays PENDING);
        # here the loop's one job records the error.
        self.assertEqual(ex.trace(), [
            ('L', -2, {'message': 'no calculator function registered for "nope"'}),
            ('c', 1, 1)])

    def test_nested(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.rows}}'}},
            {'id': 'M', 'type': 'loop', 'up': 'L', 'bi': 0,
             'config': {'target': '{{$scopes.@L@.item.xs}}'}},
            calc('c', 'M', '{{$scopes.@L@.index}}/{{$scopes.@M@.index}}={{$scopes.@M@.item}} '
                 'L={{$jobsMapByNodeKey.@L@.looped}} M={{$jobsMapByNodeKey.@M@.looped}}',
                 bi=0, engine='string'),
            calc('after', 'M', 'after {{$jobsMapByNodeKey.@M@.looped}} {{$scopes.@M@.index}}|',
                 engine='string'),
            calc('end', 'L', 'end {{$scopes.@L@.index}}|{{$jobsMapByNodeKey.@L@.done}}',
                 engine='string'),
        ])
        r, ex = wf.run({'title': 'x', 'rows': [{'xs': [1, 2]}, {'xs': [3]}]})
        self.ok(r)
        self.assertEqual(ex.trace(), [
            ('L', 1, {'looped': 2, 'done': 2}),
            ('M', 1, {'looped': 2, 'done': 2}),
            ('c', 1, '0/0=1 L=0 M=0'),
            ('c', 1, '0/1=2 L=0 M=1'),
            ('after', 1, 'after 2 |'),
            ('M', 1, {'looped': 1, 'done': 1}),
            ('c', 1, '1/0=3 L=1 M=0'),
            ('after', 1, 'after 1 |'),
            ('end', 1, 'end |2'),
        ])

    def test_end_inside(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 3}},
            calc('c', 'L', '1', bi=0),
            {'id': 'E', 'type': 'end', 'up': 'c', 'config': {'endStatus': 1}},
            calc('after', 'L', '2'),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.status, 1)
        self.assertEqual(ex.trace(), [
            ('L', 0, {'looped': 0, 'done': 0}), ('c', 1, 1), ('E', 1, None)])

    def test_end_failure_inside_nested(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 3}},
            {'id': 'M', 'type': 'loop', 'up': 'L', 'bi': 0, 'config': {'target': 3}},
            {'id': 'E', 'type': 'end', 'up': 'M', 'bi': 0, 'config': {'endStatus': -1}},
        ])
        r, ex = wf.run()
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['code'], 'WORKFLOW_INTERCEPTED')
        self.assertEqual(ex.status, -1)
        self.assertEqual([(n, s) for n, s, _ in ex.trace()], [('L', 0), ('M', 0), ('E', -1)])

    def test_object_and_string_targets(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.o}}'}},
            calc('c', 'L', '{{$scopes.@L@.item.k}}|{{$scopes.@L@.length}}', bi=0,
                 engine='string'),
            {'id': 'M', 'type': 'loop', 'up': 'L', 'config': {'target': '5'}},
            calc('d', 'M', '{{$scopes.@M@.item}}', bi=0, engine='string'),
        ])
        r, ex = wf.run({'title': 'x', 'o': {'k': 1}})
        self.ok(r)
        self.assertEqual(ex.trace(), [
            ('L', 1, {'looped': 1, 'done': 1}), ('c', 1, '1|1'),
            ('M', 1, {'looped': 1, 'done': 1}), ('d', 1, '5')])

    def test_exit_as_string_breaks(self):
        # NocoBase compares exit with the number 2; "2" is just truthy.
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 3, 'exit': '2'}},
            reject_unless('c', 'L', '{{$scopes.@L@.index}} != 0', bi=0),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('L', 1, {'looped': 1, 'done': 0, 'broken': True}),
                                      ('c', -1, False)])

    def test_in_an_asynchronous_workflow(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.items}}'}},
            calc('c', 'L', '{{$scopes.@L@.item}} * 2', bi=0),
        ], sync=False)
        r = wf.trigger({'title': 'x', 'items': [1, 2]})
        self.ok(r)
        ex = wf.last_execution(wait=True)
        self.assertEqual(ex.status, 1)
        self.assertEqual([j['result'] for j in ex.jobs_of('c')], [2, 4])

    def test_target_read_again_each_iteration(self):
        # A body that lengthens the target lengthens the loop.
        wf = self.build([
            {'id': 'V', 'type': 'variable', 'config': {'value': [1, 2]}},
            {'id': 'L', 'type': 'loop', 'up': 'V', 'config': {'target': '{{$jobsMapByNodeKey.@V@}}'}},
            {'id': 'W', 'type': 'variable', 'up': 'L', 'bi': 0,
             'config': {'target': '@V@', 'value': [1, 2, 3, 4, 5]}},
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.job('L')['result'], {'looped': 5, 'done': 5})
        self.assertEqual(len(ex.jobs_of('W')), 5)


class MultiConditions(NodesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wfs = {}
        for cnm in (False, True):
            cls.wfs[cnm] = build(cls.server, cls.token, [
                {'id': 'M', 'type': 'multi-conditions', 'config': {
                    'continueOnNoMatch': cnm, 'conditions': [
                        {'uid': 'a', 'title': 'is1', 'engine': 'basic', 'calculation': {
                            'group': {'type': 'and', 'calculations': [
                                {'calculator': 'equal',
                                 'operands': ['{{$context.data.v}}', 1]}]}}},
                        {'uid': 'b', 'title': 'is2', 'engine': 'math.js',
                         'expression': '{{$context.data.v}} == 2'}]}},
                calc('b1', 'M', '11', bi=1),
                calc('b0', 'M', '{{$jobsMapByNodeKey.@M@}}', bi=0),
                calc('after', 'M', '99'),
            ], title='mc %s' % cnm)

    def test_first_match_runs_its_branch(self):
        for cnm in (False, True):
            r, ex = self.wfs[cnm].run({'title': 'x', 'v': 1})
            self.ok(r)
            self.assertEqual(ex.trace(), [('M', 1, True), ('b1', 1, 11), ('after', 1, 99)])
            self.assertEqual(ex.job('M')['meta'], {'conditions': [True]})

    def test_match_without_branch_goes_on(self):
        r, ex = self.wfs[False].run({'title': 'x', 'v': 2})
        self.ok(r)
        self.assertEqual(ex.trace(), [('M', 1, True), ('after', 1, 99)])
        self.assertEqual(ex.job('M')['meta'], {'conditions': [False, True]})

    def test_no_match_default_branch(self):
        r, ex = self.wfs[False].run({'title': 'x', 'v': 3})
        self.assertIn('no condition matched', self.failed(r))
        self.assertEqual(ex.status, -1)
        self.assertEqual(ex.trace(), [('M', -1, False), ('b0', 1, False)])
        self.assertEqual(ex.job('M')['meta'], {'conditions': [False, False]})
        r, ex = self.wfs[True].run({'title': 'x', 'v': 3})
        self.ok(r)
        self.assertEqual(ex.trace(), [('M', 1, False), ('b0', 1, False), ('after', 1, 99)])

    def test_failing_branch_stops_the_flow_not_the_job(self):
        wf = self.build([
            {'id': 'M', 'type': 'multi-conditions',
             'config': {'conditions': [{'engine': 'math.js', 'expression': '1 == 1'}]}},
            reject_unless('b1', 'M', '1 > 2', bi=1),
            calc('after', 'M', '99'),
        ])
        r, ex = wf.run()
        reason = self.failed(r)
        self.assertIn('"b1"', reason)
        self.assertEqual(ex.status, -1)
        self.assertEqual(ex.trace(), [('M', 1, True), ('b1', -1, False)])

    def test_errors_and_non_boolean_results(self):
        wf = self.build([
            {'id': 'M', 'type': 'multi-conditions', 'config': {'conditions': [
                {'engine': 'math.js', 'expression': '1'},
                {'calculation': {'calculator': 'nope', 'operands': [1, 1]}},
                {'engine': 'math.js', 'expression': '1 == 1'}]}},
            calc('after', 'M', '99'),
        ])
        r, ex = wf.run()
        self.assertIn('no calculator function registered for "nope"', self.failed(r))
        self.assertEqual(ex.status, -2)
        msg = 'no calculator function registered for "nope"'
        self.assertEqual(ex.trace(), [('M', -2, msg)])
        self.assertEqual(ex.job('M')['meta'], {'conditions': [1, msg]})
        # a string result is an error too
        wf = self.build([
            {'id': 'M', 'type': 'multi-conditions', 'config': {'conditions': [
                {'engine': 'math.js', 'expression': "concat('a','b')"}]}},
        ])
        r, ex = wf.run()
        self.failed(r)
        self.assertEqual(ex.trace(), [('M', -2, 'ab')])

    def test_empty_condition_is_true(self):
        wf = self.build([
            {'id': 'M', 'type': 'multi-conditions', 'config': {'conditions': [
                {'engine': 'math.js', 'expression': '1 > 2'}, {}]}},
            calc('b2', 'M', '2', bi=2),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('M', 1, True), ('b2', 1, 2)])
        self.assertEqual(ex.job('M')['meta'], {'conditions': [False, True]})

    def test_no_conditions(self):
        wf = self.build([{'id': 'M', 'type': 'multi-conditions', 'config': {}},
                         calc('after', 'M', '99')])
        r, ex = wf.run()
        self.failed(r)
        self.assertEqual(ex.trace(), [('M', -1, None)])
        self.assertEqual(ex.job('M')['meta'], {'conditions': []})


class Parallel(NodesCase):
    def mode(self, mode):
        wf = self.build([
            {'id': 'P', 'type': 'parallel', 'config': {'mode': mode}},
            reject_unless('b0', 'P', '1 > 2', bi=0),
            calc('b1', 'P', '11', bi=1),
            calc('b2', 'P', '22', bi=2),
            calc('after', 'P', '{{$jobsMapByNodeKey.@P@}}'),
        ])
        return wf.run()

    def test_all(self):
        r, ex = self.mode('all')
        self.failed(r)
        self.assertEqual(ex.status, -1)
        self.assertEqual(ex.trace(), [('P', -1, [-1, None, None]), ('b0', -1, False)])

    def test_any(self):
        r, ex = self.mode('any')
        self.ok(r)
        self.assertEqual(ex.trace(), [('P', 1, [-1, 1, None]), ('b0', -1, False),
                                      ('b1', 1, 11), ('after', 1, [-1, 1, None])])

    def test_race(self):
        r, ex = self.mode('race')
        self.failed(r)
        self.assertEqual(ex.trace(), [('P', -1, [-1, None, None]), ('b0', -1, False)])

    def test_all_settled(self):
        r, ex = self.mode('allSettled')
        self.ok(r)
        self.assertEqual(ex.trace(), [('P', 1, [-1, 1, 1]), ('b0', -1, False),
                                      ('b1', 1, 11), ('b2', 1, 22), ('after', 1, [-1, 1, 1])])

    def test_default_all_resolves(self):
        wf = self.build([
            {'id': 'P', 'type': 'parallel', 'config': {}},
            calc('b0', 'P', '1', bi=0),
            calc('b1', 'P', '2', bi=1),
            calc('after', 'P', '3'),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('P', 1, [1, 1]), ('b0', 1, 1), ('b1', 1, 2),
                                      ('after', 1, 3)])

    def test_any_all_failed(self):
        wf = self.build([
            {'id': 'P', 'type': 'parallel', 'config': {'mode': 'any'}},
            reject_unless('b0', 'P', '1 > 2', bi=0),
            calc('b1', 'P', '1 +', bi=1),
        ])
        r, ex = wf.run()
        self.failed(r)
        self.assertEqual(ex.status, -1)
        self.assertEqual([(n, s) for n, s, _ in ex.trace()], [('P', -1), ('b0', -1), ('b1', -2)])

    def test_race_and_any_stop_when_decided(self):
        wf = self.build([
            {'id': 'P', 'type': 'parallel', 'config': {'mode': 'race'}},
            calc('b0', 'P', '1', bi=0),
            calc('b1', 'P', '2', bi=1),
            {'id': 'Q', 'type': 'parallel', 'up': 'P', 'config': {'mode': 'any'}},
            calc('q0', 'Q', '1', bi=0),
            calc('q1', 'Q', '2', bi=1),
            calc('after', 'Q', '3'),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('P', 1, [1, None]), ('b0', 1, 1), ('Q', 1, [1, None]),
                                      ('q0', 1, 1), ('after', 1, 3)])

    def test_end_inside(self):
        wf = self.build([
            {'id': 'P', 'type': 'parallel', 'config': {'mode': 'all'}},
            {'id': 'b0', 'type': 'end', 'up': 'P', 'bi': 0, 'config': {'endStatus': 1}},
            calc('b1', 'P', '11', bi=1),
            calc('after', 'P', '99'),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.status, 1)
        self.assertEqual(ex.trace(), [('P', 0, [None, None]), ('b0', 1, None)])

    def test_without_branches_hangs(self):
        wf = self.build([{'id': 'P', 'type': 'parallel', 'config': {}},
                         calc('after', 'P', '99')])
        r, ex = wf.run()
        self.assertEqual(r.status, 500, r.text)
        self.assertEqual(r.errors[0]['code'], 'WORKFLOW_HANGS')
        self.assertEqual(ex.status, 0)

    def test_inside_a_loop_with_a_loop_inside(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 2}},
            {'id': 'P', 'type': 'parallel', 'up': 'L', 'bi': 0, 'config': {'mode': 'allSettled'}},
            calc('b0', 'P', '{{$scopes.@L@.index}}', bi=0),
            {'id': 'b1', 'type': 'loop', 'up': 'P', 'bi': 1, 'config': {'target': 2}},
            calc('b1c', 'b1', '{{$scopes.@L@.index}}{{$scopes.@b1@.index}}', bi=0,
                 engine='string'),
        ])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [
            ('L', 1, {'looped': 2, 'done': 2}),
            ('P', 1, [1, 1]), ('b0', 1, 0), ('b1', 1, {'looped': 2, 'done': 2}),
            ('b1c', 1, '00'), ('b1c', 1, '01'),
            ('P', 1, [1, 1]), ('b0', 1, 1), ('b1', 1, {'looped': 2, 'done': 2}),
            ('b1c', 1, '10'), ('b1c', 1, '11'),
        ])


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


class StepLimit(NodesCase):
    extra_env = {'FLOWCGI_STEP_LIMIT': '50'}

    def assert_limited(self, r, ex, node):
        self.assertIn('FLOWCGI_STEP_LIMIT', self.failed(r))
        self.assertEqual(ex.status, -2)
        job = ex.jobs_of(node)[-1]
        self.assertEqual(job['status'], -2)
        self.assertIn('FLOWCGI_STEP_LIMIT', job['result']['message'])

    def test_loop_stopped(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 100}},
            calc('c', 'L', '{{$scopes.@L@.index}}', bi=0),
        ])
        r, ex = wf.run()
        self.assert_limited(r, ex, 'L')
        self.assertEqual(len(ex.jobs_of('c')), 49)   # the loop ran as node 1 of 50
        self.assertEqual(ex.job('L')['result']['looped'], 49)

    def test_within_the_limit(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 10}},
            calc('c', 'L', '1', bi=0),
        ])
        for _ in range(2):   # the count is per execution
            r, ex = wf.run()
            self.ok(r)

    def test_break_and_all_settled_do_not_swallow_it(self):
        inner = [{'id': 'M', 'type': 'loop', 'up': 'X', 'bi': 0, 'config': {'target': 100}},
                 calc('c', 'M', '1', bi=0)]
        for outer in ({'id': 'X', 'type': 'loop', 'config': {'target': 2, 'exit': 1}},
                      {'id': 'X', 'type': 'loop', 'config': {'target': 2, 'exit': 2}},
                      {'id': 'X', 'type': 'parallel', 'config': {'mode': 'allSettled'}},
                      {'id': 'X', 'type': 'parallel', 'config': {'mode': 'any'}}):
            wf = self.build([outer] + inner + [calc('after', 'X', '1')])
            r, ex = wf.run()
            self.assert_limited(r, ex, 'M')
            self.assertEqual(ex.job('X')['status'], -2, outer)
            self.assertEqual(ex.jobs_of('after'), [])


class LoopLimit(NodesCase):
    extra_env = {'FLOWCGI_LOOP_LIMIT': '5'}

    def test_limit(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.n}}'}},
            calc('c', 'L', '1', bi=0),
        ])
        r, ex = wf.run({'title': 'x', 'n': 5})
        self.ok(r)
        self.assertEqual(ex.job('L')['result'], {'looped': 5, 'done': 5})
        r, ex = wf.run({'title': 'x', 'n': 6})
        self.assertIn('FLOWCGI_LOOP_LIMIT', self.failed(r))
        self.assertEqual(ex.status, -2)
        job = ex.job('L')
        self.assertEqual(job['status'], -2)
        self.assertEqual({k: v for k, v in job['result'].items() if k != 'message'},
                         {'looped': 5, 'done': 5, 'exceeded': True})
        self.assertIn('FLOWCGI_LOOP_LIMIT', job['result']['message'])
        self.assertEqual(len(ex.jobs_of('c')), 5)

    def test_skipped_items_count(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': 100, 'condition': {
                'continueOnFalse': True, 'engine': 'math.js', 'expression': '1 > 2'}}},
            calc('c', 'L', '1', bi=0),
        ])
        r, ex = wf.run()
        self.assertIn('FLOWCGI_LOOP_LIMIT', self.failed(r))
        self.assertEqual(ex.job('L')['result']['looped'], 5)
        self.assertEqual(ex.job('L')['result']['done'], 0)


class TimeLimit(NodesCase):
    extra_env = {'FLOWCGI_SYNC_TIMEOUT_MS': '150', 'FLOWCGI_LOOP_LIMIT': '100000000',
                 'FLOWCGI_STEP_LIMIT': '100000000'}

    def run_limited(self, nodes):
        wf = self.build(nodes)
        t0 = time.monotonic()
        r, ex = wf.run()
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn('FLOWCGI_SYNC_TIMEOUT_MS', self.failed(r))
        self.assertEqual(ex.status, -2)
        job = ex.job('L')
        self.assertEqual(job['status'], -2)
        self.assertIn('FLOWCGI_SYNC_TIMEOUT_MS', job['result']['message'])
        return ex

    def test_loop_without_node_runs(self):
        # Every item skipped by the condition: no node runs, the loop itself
        # watches the clock.
        ex = self.run_limited([
            {'id': 'L', 'type': 'loop', 'config': {'target': 100000000, 'condition': {
                'continueOnFalse': True, 'engine': 'math.js', 'expression': '1 > 2'}}},
            calc('c', 'L', '1', bi=0),
        ])
        self.assertEqual(ex.jobs_of('c'), [])

    def test_loop_with_a_tiny_body(self):
        ex = self.run_limited([
            {'id': 'L', 'type': 'loop', 'config': {'target': 100000000}},
            calc('c', 'L', '1', bi=0),
        ])
        self.assertGreater(len(ex.jobs_of('c')), 0)


class Validation(NodesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wf = build(cls.server, cls.token, [], enable=False)

    def reject(self, type, config, message):
        r = self.server.request('POST', 'workflows/%s/nodes:create' % self.wf.id,
                                token=self.token, json={'type': type, 'config': config})
        self.assertEqual(r.status, 400, (type, config, r.text))
        self.assertEqual(r.errors[0]['message'], message, (type, config))

    def accept(self, type, config):
        r = self.server.request('POST', 'workflows/%s/nodes:create' % self.wf.id,
                                token=self.token, json={'type': type, 'config': config})
        self.assertEqual(r.status, 200, (type, config, r.text))

    def test_parallel(self):
        for mode in ('foo', 1, '', None):
            self.reject('parallel', {'mode': mode},
                        '"mode" must be one of [all, any, race, allSettled]')
        for mode in ('all', 'any', 'race', 'allSettled'):
            self.accept('parallel', {'mode': mode})

    def test_loop(self):
        self.reject('loop', {'exit': 5}, '"exit" must be one of [0, 1, 2]')
        self.reject('loop', {'exit': None}, '"exit" must be one of [0, 1, 2]')
        self.reject('loop', {'exit': True}, '"exit" must be one of [0, 1, 2]')
        self.reject('loop', {'target': True}, '"target" must be one of [number, array, string]')
        self.reject('loop', {'target': {'a': 1}},
                    '"target" must be one of [number, array, string]')
        self.reject('loop', {'target': ''}, '"target" is not allowed to be empty')
        self.reject('loop', {'target': 1e20}, '"target" must be a safe number')
        self.reject('loop', {'condition': True}, '"condition" must be one of [object, false]')
        self.reject('loop', {'condition': {'checkpoint': 2}},
                    '"condition" does not match any of the allowed types')
        self.reject('loop', {'condition': {'continueOnFalse': 'x'}},
                    '"condition" does not match any of the allowed types')
        self.reject('loop', {'condition': {'calculation': 5}},
                    '"condition" does not match any of the allowed types')
        self.reject('loop', {'condition': None},
                    '"condition" does not match any of the allowed types')
        for ok in ({'exit': '1'}, {'exit': 2}, {'condition': False}, {'condition': 'false'},
                   {'condition': {'checkpoint': '1', 'continueOnFalse': 'true',
                                  'calculation': {}}},
                   {'condition': {'engine': 'math.js', 'expression': '1'}},
                   {'target': '{{$context.data.items}}'}, {'target': [1, 2]},
                   {'target': 5}):
            self.accept('loop', ok)

    def test_multi_conditions(self):
        self.reject('multi-conditions', {'conditions': 'x'}, '"conditions" must be an array')
        self.reject('multi-conditions', {'conditions': [{'engine': 5}]},
                    '"conditions[0].engine" must be a string')
        self.reject('multi-conditions', {'conditions': [5]},
                    '"conditions[0]" must be of type object')
        self.reject('multi-conditions', {'conditions': [{'uid': ''}]},
                    '"conditions[0].uid" is not allowed to be empty')
        self.reject('multi-conditions', {'continueOnNoMatch': 'yes'},
                    '"continueOnNoMatch" must be a boolean')
        self.accept('multi-conditions', {'continueOnNoMatch': 'TRUE', 'conditions': [
            {'uid': 'a', 'engine': 'basic', 'calculation': None}]})


if __name__ == '__main__':
    unittest.main()
