"""The basic node types (reference §6-§7, contract §5): calculation,
condition, query, create, update, destroy, end, output, variable and
response-message, each with its configurations, bad configurations refused
at nodes:create, and the variables and template typing they see.

Each case is a global (type 0) synchronous workflow run through
workflows:trigger with the case's data as the body; the results are read
from the recorded jobs.  Expected values were checked against NocoBase
2.2.15 where NocoBase and the contract agree."""

import json
import unittest

from harness import Site, start_lighttpd, sign_in, diagnose
from flows import Api, calc, end, message

FAILED = 'Workflow on your action failed, please contact the administrator'


def cond(title, calculation=None, reject=False, **config):
    config = dict(config, rejectOnFalse=reject)
    if calculation is not None:
        config['calculation'] = calculation
    return {'type': 'condition', 'title': title, 'config': config}


def rule(calculator, *operands):
    return {'calculator': calculator, 'operands': list(operands)}


def group(kind, *items):
    return {'group': {'type': kind, 'calculations': list(items)}}


def query(title, coll, multiple=False, fail=False, **params):
    return {'type': 'query', 'title': title, 'config': {
        'collection': coll, 'multiple': multiple, 'failOnEmpty': fail, 'params': params}}


class Run:
    """One execution: the response, the execution, results by node title."""

    def __init__(self, r, ex, titles):
        self.r, self.ex = r, ex
        self.jobs = [(titles.get(j['nodeId']), j['status'], j['result']) for j in ex['jobs']]
        self.results = {t: res for t, _, res in self.jobs}
        self.statuses = {t: st for t, st, _ in self.jobs}
        self.ran = [t for t, _, _ in self.jobs]


class Nodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=2)
        cls.api = api = Api(cls.server, sign_in(cls.server))
        api.collection('categories', [{'name': 'title', 'type': 'string'}])
        api.collection('items', [
            {'name': 'title', 'type': 'string'}, {'name': 'n', 'type': 'integer'},
            {'name': 'category', 'type': 'belongsTo', 'target': 'categories',
             'foreignKey': 'categoryId'}])
        api.create('categories', {'title': 'Cat 1'})
        for i, t in enumerate(('apple', 'banana', 'cherry'), 1):
            api.create('items', {'title': t, 'n': i * 10, 'categoryId': 1})

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def build(self, specs, title='nodes'):
        """A disabled global workflow with a chain of specs.  '@t@' in a
        spec is replaced by the key of the node titled t; a spec's
        'branches' ({index: [specs]}) are made under it."""
        wf = self.api.workflow(title, {'type': 0}, enabled=False)
        keys, titles = {}, {}

        def make(spec, up=None, branch=None):
            spec = dict(spec)
            branches = spec.pop('branches', {})
            text = json.dumps(spec)
            for t, k in keys.items():
                text = text.replace('@%s@' % t, k)
            spec = json.loads(text)
            if up is not None:
                spec['upstreamId'] = up
            if branch is not None:
                spec['branchIndex'] = branch
            r = self.api.post('workflows/%d/nodes:create' % wf['id'], spec)
            self.assertEqual(r.status, 200, (spec, r.text))
            keys[spec['title']] = r.data['key']
            titles[r.data['id']] = spec['title']
            for index, chain in branches.items():
                prev = None
                for i, sub in enumerate(chain):
                    n = make(sub, up=r.data['id'] if i == 0 else prev,
                             branch=index if i == 0 else None)
                    prev = n['id']
            return r.data
        prev = None
        for spec in specs:
            prev = make(spec, up=prev)['id']
        return wf, titles

    def run_nodes(self, specs, data=None, status=200):
        wf, titles = self.build(specs)
        self.api.enable(wf)
        r = self.api.trigger('workflows:trigger', wf, body=data if data is not None else {})
        self.assertEqual(r.status, status, diagnose(r))
        return Run(r, self.api.last_execution(wf), titles)

    def refused(self, spec, message):
        wf = self.api.workflow('refuse', {'type': 0}, enabled=False)
        r = self.api.post('workflows/%d/nodes:create' % wf['id'], spec)
        self.assertEqual(r.status, 400, (spec, r.text))
        self.assertEqual((r.errors[0]['message'], r.errors[0]['code']),
                         (message, 'VALIDATION_ERROR'), spec)
        self.assertEqual(self.api.nodes(wf), {})

    # ---- calculation

    def test_calculation_math_js(self):
        cases = [
            ('0.1 + 0.2', 0.3), ('1 / 3', 0.333333333), ('10 / 4', 2.5), ('6 / 2', 3),
            ('2 ^ 10', 1024), ('{{$context.data.a}} * {{$context.data.b}}', 12),
            ('round(3.14159, 2)', 3.14), ('1 > 2 ? "x" : "y"', 'y'), ('7 % 3', 1),
            ('1 / 0', None), ('-7.5 * 2', -15), ('0.1 * 3', 0.3), ('{{$context.data.name}}', 'Ann'),
            ('max(1, 5, 3) + min(4, 2)', 7), ('sqrt(16) + abs(-2) + floor(1.7) + ceil(1.2)', 9),
            ('pow(2, 3) + mod(7, 4)', 11), ('concat("a", "b")', 'ab'),
            ('number("12") + 1', 13), ('string(5)', '5'), ('3 >= 3 and not (1 == 2)', True),
            ('true or false', True), ('2 != 2', False), ('(1 + 2) * -3', -9),
            ('{{$context.data.none}} == null', True), ('2 ^ 53', 9007199254740992),
            ('1e21 * 10', 1e22),
        ]
        specs = [calc(e, title='c%d' % i) for i, (e, _) in enumerate(cases)]
        specs.append({'type': 'calculation', 'title': 'default engine',
                      'config': {'expression': '1 + 1'}})
        specs.append(calc('', title='empty'))
        run = self.run_nodes(specs, {'a': 3, 'b': 4, 'name': 'Ann'})
        for i, (e, want) in enumerate(cases):
            got = run.results['c%d' % i]
            self.assertEqual((got, type(got)), (want, type(want)), e)
        self.assertEqual(run.results['default engine'], 2)
        self.assertEqual((run.statuses['empty'], run.results['empty']), (1, None))
        # Numbers print as JavaScript prints them.
        text = self.api.get('executions:get/%d?appends[]=jobs' % run.ex['id']).text
        for lit in ('"result":0.3,', '"result":0.333333333,', '"result":3,',
                    '"result":9007199254740992,', '"result":-15,'):
            self.assertIn(lit, text.replace(' ', ''))
        self.assertNotRegex(text, r'"result":\s*\d+\.0[,}]')

    def test_calculation_formula_js(self):
        cases = [
            ('SUM(1, 2, 3)', 6), ('AVERAGE(1, 2, 3, 4)', 2.5), ('MIN(4, 2, 8)', 2),
            ('MAX(4, 2, 8)', 8), ('ROUND(2.345, 2)', 2.35), ('ROUNDUP(2.341, 2)', 2.35),
            ('ROUNDDOWN(2.349, 2)', 2.34), ('INT(-2.5)', -3), ('MOD(7, 3)', 1),
            ('ABS(-4)', 4), ('POWER(2, 3)', 8), ('SQRT(9)', 3),
            ('IF({{$context.data.a}} > 2, "big", "small")', 'big'),
            ('AND(1 > 0, 2 > 1)', True), ('OR(1 > 2, 2 > 3)', False), ('NOT(1 > 2)', True),
            ('CONCATENATE("a", {{$context.data.name}})', 'aAnn'), ('LEN("abc")', 3),
            ('LEFT("hello", 2)', 'he'), ('RIGHT("hello", 3)', 'llo'), ('MID("hello", 2, 3)', 'ell'),
            ('UPPER("ab")', 'AB'), ('LOWER("AB")', 'ab'), ('TRIM("  a  b ")', 'a b'),
            ('SUBSTITUTE("a-b-c", "-", "+")', 'a+b+c'), ('"a" & "b" & 1', 'ab1'),
            ('1 = 1', True), ('1 <> 2', True), ('2 <= 1', False), ('1e21 * 10', 1e22),
        ]
        specs = [calc(e, engine='formula.js', title='f%d' % i) for i, (e, _) in enumerate(cases)]
        run = self.run_nodes(specs, {'a': 3, 'name': 'Ann'})
        for i, (e, want) in enumerate(cases):
            got = run.results['f%d' % i]
            self.assertEqual((got, type(got)), (want, type(want)), e)

    def test_calculation_string(self):
        run = self.run_nodes([calc('Hello {{$context.data.name}}!{{$context.data.none}}|'
                                   '{{$context.data.a}}|{{$context.data.x}}', engine='string',
                                   title='s')], {'a': 3, 'name': 'Ann', 'x': 0.5})
        self.assertEqual(run.results['s'], 'Hello Ann!|3|0.5')

    def test_calculation_errors(self):
        for expr, engine in (('1 +', 'math.js'), ('nosuchfn(1)', 'math.js'),
                             ('SUM(1,', 'formula.js')):
            run = self.run_nodes([calc(expr, engine=engine, title='bad'), calc('1', title='next')],
                                 status=500)
            self.assertEqual(run.ex['status'], -2, expr)
            self.assertEqual(run.ran, ['bad'])
            self.assertEqual(run.statuses['bad'], -2)
            self.assertTrue(run.results['bad'].startswith('Error: '), run.results)
            e = run.r.errors[0]
            self.assertEqual((e['message'], e['code']), (FAILED, 'WORKFLOW_FAILED'))
            self.assertIn('calculation "bad"', e['reason'])
            self.assertIn(run.results['bad'], e['reason'])

    def test_calculation_bad_config(self):
        self.refused(calc('1', engine='python'),
                     '"engine" must be one of [math.js, formula.js, string]')
        self.refused({'type': 'calculation', 'title': 'c', 'config': {'expression': 5}},
                     '"expression" must be a string')
        self.refused({'type': 'calculation', 'title': 'c', 'config': 'x'},
                     '"config" must be of type object')

    # ---- condition

    def test_condition_basic_rules(self):
        cases = [
            ('eq', rule('equal', '{{$context.data.a}}', '3'), True),
            ('ne', rule('notEqual', '{{$context.data.a}}', 3), False),
            ('gt', rule('gt', '{{$context.data.a}}', 2), True),
            ('gte', rule('>=', '{{$context.data.a}}', 3), True),
            ('lt', rule('lt', '{{$context.data.a}}', 3), False),
            ('lte', rule('lte', '{{$context.data.a}}', 2), False),
            ('inc', rule('includes', '{{$context.data.name}}', 'nn'), True),
            ('ninc', rule('notIncludes', '{{$context.data.name}}', 'x'), True),
            ('sw', rule('startsWith', '{{$context.data.name}}', 'A'), True),
            ('nsw', rule('notStartsWith', '{{$context.data.name}}', 'A'), False),
            ('ew', rule('endsWith', '{{$context.data.name}}', 'A'), False),
            ('new', rule('notEndsWith', '{{$context.data.name}}', 'A'), True),
            ('and', group('and', rule('equal', '{{$context.data.a}}', 3), rule('==', 1, 1)), True),
            ('or', group('or', rule('equal', '{{$context.data.a}}', 4),
                         group('and', rule('>', 2, 1), rule('<', 1, 2))), True),
            ('and false', group('and', rule('==', 1, 1), rule('!=', 1, 1)), False),
            ('empty and', group('and'), True),
            ('empty or', group('or'), False),
            ('no calculation', {}, True),
            ('array includes', rule('includes', '{{$context.data.tags}}', 'b'), True),
            ('null equal', rule('equal', '{{$context.data.none}}', None), True),
        ]
        run = self.run_nodes([cond(t, c) for t, c, _ in cases],
                             {'a': 3, 'name': 'Ann', 'tags': ['a', 'b']})
        self.assertEqual({t: run.results[t] for t, _, _ in cases},
                         {t: want for t, _, want in cases})
        run = self.run_nodes([cond('bogus', rule('bogus', 1, 1))], status=500)
        self.assertEqual((run.statuses['bogus'], run.results['bogus']),
                         (-2, 'Error: no calculator function registered for "bogus"'))

    def test_condition_engines_and_branches(self):
        def branchy(title, **config):
            return dict(cond(title, **config), branches={
                1: [calc('"yes"', title=title + ' yes'), calc('2', title=title + ' yes 2')],
                0: [calc('"no"', title=title + ' no')]})
        run = self.run_nodes([
            branchy('math', engine='math.js', expression='{{$context.data.a}} > 2'),
            branchy('formula', engine='formula.js', expression='AND({{$context.data.a}} > 5, 1 = 1)'),
            branchy('basic', calculation=rule('equal', '{{$context.data.name}}', 'Ann')),
            branchy('numeric', engine='math.js', expression='1 + 0'),
            calc('"after"', title='after')], {'a': 3, 'name': 'Ann'})
        self.assertEqual(run.ran, ['math', 'math yes', 'math yes 2', 'formula', 'formula no',
                                   'basic', 'basic yes', 'basic yes 2', 'numeric', 'after'])
        self.assertEqual((run.results['math'], run.results['formula'], run.results['numeric']),
                         (True, False, 1), 'a number selects no branch')
        self.assertEqual(run.ex['status'], 1)
        # A failing branch fails the execution; the condition's downstream never runs.
        run = self.run_nodes([
            dict(cond('c', engine='math.js', expression='true'),
                 branches={1: [calc('1 +', title='broken')]}),
            calc('2', title='after')], status=500)
        self.assertEqual(run.ran, ['c', 'broken'])
        self.assertEqual(run.ex['status'], -2)

    def test_condition_reject_on_false(self):
        spec = cond('gate', engine='math.js', expression='{{$context.data.a}} > 2', reject=True)
        run = self.run_nodes([spec, calc('1', title='after')], {'a': 1}, status=500)
        self.assertEqual((run.ex['status'], run.jobs), (-1, [('gate', -1, False)]))
        e = run.r.errors[0]
        self.assertEqual((e['message'], e['code']), (FAILED, 'WORKFLOW_FAILED'))
        self.assertIn('condition "gate"', e['reason'])
        self.assertIn('FAILED', e['reason'])
        run = self.run_nodes([spec, calc('1', title='after')], {'a': 5})
        self.assertEqual(run.ran, ['gate', 'after'])

    def test_condition_bad_config(self):
        self.refused({'type': 'condition', 'title': 'c', 'config': {}},
                     '"rejectOnFalse" is required')
        self.refused({'type': 'condition', 'title': 'c', 'config': {'rejectOnFalse': 'yes'}},
                     '"rejectOnFalse" must be a boolean')
        self.refused(cond('c', engine='lua'),
                     '"engine" must be one of [basic, math.js, formula.js]')
        self.refused(cond('c', calculation='x'), '"calculation" must be of type object')

    # ---- query / create / update / destroy

    def test_query(self):
        desc = [{'field': 'n', 'direction': 'desc'}]
        run = self.run_nodes([
            query('first', 'items', filter={'n': {'$gte': '{{$context.data.min}}'}}),
            query('last', 'items', sort=desc),
            query('page', 'items', multiple=True, sort=desc, page=2, pageSize=1),
            query('all', 'items', multiple=True, appends=['category']),
            query('none', 'items', filter={'title': 'zzz'}),
            query('none many', 'items', multiple=True, filter={'title': 'zzz'}),
            query('prefixed', 'main:items', filter={'title': 'cherry'}),
        ], {'min': 15})
        res = run.results
        self.assertEqual(res['first']['title'], 'banana')
        self.assertEqual(set(res['first']), {'id', 'createdAt', 'updatedAt', 'title', 'n',
                                             'categoryId'})
        self.assertEqual(res['last']['title'], 'cherry')
        self.assertEqual([r['title'] for r in res['page']], ['banana'])
        self.assertEqual([(r['title'], r['category']['title']) for r in res['all']],
                         [('apple', 'Cat 1'), ('banana', 'Cat 1'), ('cherry', 'Cat 1')])
        self.assertEqual((res['none'], res['none many']), (None, []))
        self.assertEqual(res['prefixed']['n'], 30)
        run = self.run_nodes([query('must', 'items', fail=True, filter={'title': 'zzz'}),
                              calc('1', title='after')], status=500)
        self.assertEqual((run.ex['status'], run.jobs), (-1, [('must', -1, None)]))
        self.assertIn('query "must"', run.r.errors[0]['reason'])
        run = self.run_nodes([query('bad field', 'items', filter={'nosuch': 1})], status=500)
        self.assertEqual(run.statuses['bad field'], -2)
        self.assertIn('nosuch', json.dumps(run.results['bad field']))

    def test_query_bad_config(self):
        self.refused({'type': 'query', 'title': 'q', 'config': {}}, 'Collection is not configured')
        self.refused(query('q', 'nosuch'),
                     'Collection "nosuch" does not exist in data source "main"')
        self.refused(query('q', 'other:items'), 'Data source "other" does not exist')
        self.refused(query('q', 'items', filter='x'), '"filter" must be of type object')
        self.refused(query('q', 'items', sort='n'), '"sort" must be an array')
        self.refused({'type': 'query', 'title': 'q', 'config': {'collection': 'items',
                                                                  'params': []}},
                     '"params" must be of type object')

    def test_create_update_destroy(self):
        run = self.run_nodes([
            {'type': 'create', 'title': 'make', 'config': {'collection': 'items', 'params': {
                'values': {'title': 'new {{$context.data.name}}', 'n': '{{$context.data.n}}',
                           'categoryId': 1, 'unknownKey': 1},
                'appends': ['category']}}},
            {'type': 'update', 'title': 'bump', 'config': {'collection': 'items', 'params': {
                'filter': {'id': '{{$jobsMapByNodeKey.@make@.id}}'},
                'values': {'n': '{{$context.data.n}}1'}}}},
            query('check', 'items', filter={'id': '{{$jobsMapByNodeKey.@make@.id}}'}),
            {'type': 'destroy', 'title': 'drop', 'config': {'collection': 'items', 'params': {
                'filter': {'title': {'$startsWith': 'new '}}}}},
        ], {'name': 'Ann', 'n': 7})
        made = run.results['make']
        self.assertEqual((made['title'], made['n'], made['category']['title']),
                         ('new Ann', 7, 'Cat 1'))
        self.assertNotIn('unknownKey', made)
        self.assertEqual(run.results['bump'], 1)
        self.assertEqual(run.results['check']['n'], 71, 'an embedded value is a string, coerced')
        self.assertEqual(run.results['drop'], 1)
        self.assertIsNone(self.api.row('items', made['id']))
        # Filters are required to update or destroy; a bad value fails the job.
        for spec, words in (
                ({'type': 'update', 'title': 'u', 'config': {'collection': 'items', 'params': {
                    'values': {'n': 1}}}}, 'to do update action, filter or filterByTk is required'),
                ({'type': 'destroy', 'title': 'u', 'config': {'collection': 'items', 'params': {
                    'filter': {}}}}, 'to do destroy action, filter or filterByTk is required'),
                ({'type': 'create', 'title': 'u', 'config': {'collection': 'items', 'params': {
                    'values': {'n': 'many'}}}}, 'n')):
            run = self.run_nodes([spec], status=500)
            self.assertEqual(run.statuses['u'], -2, spec)
            self.assertIn(words, run.results['u']['message'])
            self.assertIn(words, run.r.errors[0]['reason'])
        self.assertEqual(len(self.api.rows('items')), 3)

    def test_data_bad_config(self):
        self.refused({'type': 'create', 'title': 'c', 'config': {'collection': 'nosuch'}},
                     'Collection "nosuch" does not exist in data source "main"')
        self.refused({'type': 'update', 'title': 'u', 'config': {
            'collection': 'items', 'params': {'filter': {'id': 1}, 'values': [1]}}},
            '"values" must be of type object')
        self.refused({'type': 'destroy', 'title': 'd', 'config': {}},
                     'Collection is not configured')

    # ---- end / output / variable / response-message

    def test_end(self):
        run = self.run_nodes([calc('1', title='before'), end(1, title='stop'),
                              calc('2', title='never')])
        self.assertEqual((run.ex['status'], run.ran), (1, ['before', 'stop']))
        self.assertEqual(run.r.json, {})
        # Inside a branch it ends the whole execution.
        run = self.run_nodes([
            dict(cond('c', engine='math.js', expression='true'),
                 branches={1: [end(1, title='stop')]}),
            calc('2', title='never')])
        self.assertEqual(set(run.ran), {'c', 'stop'})
        run = self.run_nodes([end(-1, title='stop'), calc('2', title='never')], status=400)
        self.assertEqual((run.ex['status'], run.ran), (-1, ['stop']))
        self.assertEqual(run.r.errors[0]['code'], 'WORKFLOW_INTERCEPTED')
        run = self.run_nodes([{'type': 'end', 'title': 'default', 'config': {}}])
        self.assertEqual(run.jobs, [('default', 1, None)])

    def test_end_bad_config(self):
        for bad in (2, '1', 0):
            self.refused(end(1, title='e') | {'config': {'endStatus': bad}},
                         '"endStatus" must be one of [1, -1]')

    def test_output(self):
        run = self.run_nodes([
            {'type': 'output', 'title': 'first', 'config': {'value': 'draft'}},
            {'type': 'output', 'title': 'final', 'config': {'value': {
                'sum': '{{$context.data.a}}', 's': 'a{{$context.data.a}}', 'list': [1, '{{$context.data.a}}']}}},
        ], {'a': 3})
        want = {'sum': 3, 's': 'a3', 'list': [1, 3]}
        self.assertEqual((run.results['first'], run.results['final']), ('draft', want))
        self.assertEqual(run.ex['output'], want, 'the last output wins')
        # Also through a manual run.
        wf, _ = self.build([{'type': 'output', 'title': 'o', 'config': {'value': '{{$context.data}}'}}])
        r = self.api.post('workflows:execute?filterByTk=%d' % wf['id'],
                          {'data': {'k': [1]}, 'userId': 1})
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual(self.api.execution(r.data['execution']['id'])['output'], {'k': [1]})

    def test_variable(self):
        run = self.run_nodes([
            {'type': 'variable', 'title': 'v1', 'config': {'value': '{{$context.data.a}}'}},
            calc('{{$jobsMapByNodeKey.@v1@}} + 1', title='read1'),
            {'type': 'variable', 'title': 'v2', 'config': {'target': '@v1@', 'value': 10}},
            calc('{{$jobsMapByNodeKey.@v1@}} + 1', title='read2'),
            {'type': 'variable', 'title': 'obj', 'config': {'value': {'x': '{{$context.data.a}}'}}},
            calc('{{$jobsMapByNodeKey.@obj@.x}} * 2', title='read3'),
        ], {'a': 3})
        self.assertEqual([run.results[t] for t in ('read1', 'v2', 'read2', 'read3')],
                         [4, 10, 11, 6])
        self.assertEqual(sorted(r for t, _, r in run.jobs if t == 'v1'), [3, 10])
        run = self.run_nodes([{'type': 'variable', 'title': 'v', 'config': {
            'target': 'nosuchkey', 'value': 1}}], status=500)
        self.assertEqual(run.statuses['v'], -2)
        self.assertIn('nosuchkey', run.r.errors[0]['reason'])

    def test_variable_bad_config(self):
        self.refused({'type': 'variable', 'title': 'v', 'config': {'target': 5}},
                     '"target" must be a string')

    def test_response_message(self):
        run = self.run_nodes([
            message('n={{$context.data.a}}', title='m1'),
            message('{{$context.data.none}}', title='m2'),
            message('{{$context.data.t}}', title='m3'),
        ], {'a': 3, 't': 'two'})
        self.assertEqual(run.r.json, {'messages': [{'message': 'n=3'}, {'message': 'two'}]})
        self.assertEqual((run.results['m1'], run.results['m3']), ('n=3', 'two'))
        # No HTTP context in a manual run: nothing to answer, result null.
        wf, _ = self.build([message('hi', title='m')])
        r = self.api.post('workflows:execute?filterByTk=%d' % wf['id'], {'data': {}, 'userId': 1})
        self.assertEqual((r.status, set(r.json)), (200, {'data'}))
        ex = self.api.execution(r.data['execution']['id'])
        self.assertEqual([(j['status'], j['result']) for j in ex['jobs']], [(1, None)])

    def test_response_message_bad_config(self):
        self.refused(message(''), '"message" is not allowed to be empty')
        self.refused(message(None), '"message" must be a string')

    def test_unknown_node_type(self):
        self.refused({'type': 'nosuchtype', 'title': 'x', 'config': {}},
                     'Node type "nosuchtype" is not registered')
        self.refused({'title': 'x', 'config': {}}, 'Node type is required')

    # ---- variables and template typing (reference §7)

    def test_variables_and_typing(self):
        self.api.ok('POST', 'environmentVariables:create', {'name': 'GREETING', 'value': 'hey'})
        value = {
            'whole': '{{$context.data.a}}', 'obj': '{{$context.data.o}}',
            'embObj': 'x{{$context.data.o}}', 'arr': '{{$context.data.tags}}',
            'embArr': 'x{{$context.data.tags}}', 'proj': '{{$context.data.items.name}}',
            'embNone': 'x{{$context.data.none}}', 'bool': '{{$context.data.t}}',
            'embBool': 'x{{$context.data.t}}', 'role': '{{$context.roleName}}',
            'uid': '{{$context.user.id}}', 'idx': '{{$context.data.tags.1}}',
            'spaced': '{{ $context.data.a }}', 'ctx': '{{ctx.$context.data.a}}',
            'now': '{{$system.now}}', 'env': '{{$env.GREETING}}',
            'envMissing': 'x{{$env.NOPE}}', '{{$context.data.k}}': 'key',
        }
        run = self.run_nodes([{'type': 'output', 'title': 'o', 'config': {'value': value}}], {
            'a': 3, 'o': {'k': 1}, 'tags': ['x', 'y'], 't': True, 'k': 'dyn',
            'items': [{'name': 'n1'}, {'name': 'n2'}]})
        out = run.results['o']
        now = out.pop('now')
        self.assertRegex(now, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
        self.assertEqual(out, {
            'whole': 3, 'obj': {'k': 1}, 'embObj': 'x[object Object]', 'arr': ['x', 'y'],
            'embArr': 'xx,y', 'proj': ['n1', 'n2'], 'embNone': 'x', 'bool': True,
            'embBool': 'xtrue', 'role': 'root', 'uid': 1, 'idx': 'y', 'spaced': 3, 'ctx': 3,
            'env': 'hey', 'envMissing': 'x', 'dyn': 'key'})
        user = run.ex['context']['user']
        self.assertEqual((user['id'], user['username']), (1, 'nocobase'))
        self.assertNotIn('password', user)


if __name__ == '__main__':
    unittest.main()
