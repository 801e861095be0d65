"""Workflows and their nodes over the API (reference §4-§5, contract §7-§8):
config validation, versions sharing a key, revisions, node linking,
frozen executed versions, and the per-process workflow cache."""

import json
import re
import threading
import unittest

from harness import Site, start_lighttpd, sign_in, diagnose
from flows import Api, calc

SAMPLES = {'type': 1, 'collection': 'samples'}
TYPE_REQUIRED = '"type" is required'
TYPE_ONE_OF = '"type" must be one of [1, 2, 0]'
COLL_REQUIRED = 'Collection is required for record-based context'


class Workflows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=2)
        cls.api = Api(cls.server, sign_in(cls.server))
        cls.api.collection('samples', [{'name': 'title', 'type': 'string'},
                                       {'name': 'indicator', 'type': 'integer'}])
        cls.api.create('samples', {'title': 'Seed A', 'indicator': 1})

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def messages(self, r, status=400):
        self.assertEqual(r.status, status, diagnose(r))
        for e in r.errors:
            self.assertEqual(e.get('code'), 'VALIDATION_ERROR', r.text)
        return [e['message'] for e in r.errors]

    def get_wf(self, wid):
        return self.api.ok('GET', 'workflows:get/%d' % wid)

    # ---- create and validation (reference §4)

    def test_create_shape(self):
        wf = self.api.ok('POST', 'workflows:create', {
            'title': 'shape', 'type': 'custom-action', 'sync': True, 'enabled': False,
            'config': {'type': 1, 'collection': 'samples', 'appends': []}})
        self.assertRegex(wf['key'], r'^[0-9a-z]{11}$')
        self.assertIsInstance(wf['id'], int)
        for k, v in (('title', 'shape'), ('type', 'custom-action'), ('sync', True),
                     ('enabled', False), ('current', True), ('executed', 0),
                     ('allExecuted', 0), ('options', {'timeout': 0}),
                     ('config', {'type': 1, 'collection': 'samples', 'appends': []})):
            self.assertEqual(wf[k], v, k)
        self.assertEqual(self.get_wf(wf['id']), wf)
        wf = self.api.ok('POST', 'workflows:create', {'title': 'bare', 'type': 'custom-action'})
        self.assertEqual((wf['config'], wf['sync'], wf['enabled']), ({}, False, False))

    def test_config_validation(self):
        cases = [
            ({}, [TYPE_REQUIRED, COLL_REQUIRED]),
            ({'collection': 'samples'}, [TYPE_REQUIRED]),
            ({'collection': 'nosuch'}, [TYPE_REQUIRED]),
            ({'type': 5}, [TYPE_ONE_OF]),
            ({'type': 5, 'collection': 'nosuch'}, [TYPE_ONE_OF]),
            ({'type': None}, [TYPE_ONE_OF]),
            ({'type': 'x'}, [TYPE_ONE_OF]),
            ({'type': 1.5, 'collection': 'samples'}, [TYPE_ONE_OF]),
            ({'type': 1}, [COLL_REQUIRED]),
            ({'type': 2, 'collection': ''}, [COLL_REQUIRED]),
            ({'type': 1, 'collection': 'nosuch'},
             ['Collection "nosuch" does not exist in data source "main"']),
            ({'type': 0, 'collection': 'nosuch'},
             ['Collection "nosuch" does not exist in data source "main"']),
            ({'type': 1, 'collection': 'ds2:samples'}, ['Data source "ds2" does not exist']),
            ({'type': 1, 'collection': 'samples', 'appends': 'x'},
             ['"appends" must be an array']),
        ]
        ok = self.api.ok('POST', 'workflows:create', {'title': 'upd', 'type': 'custom-action',
                                                      'config': SAMPLES})
        for config, want in cases:
            r = self.api.post('workflows:create', {'title': 'v', 'type': 'custom-action',
                                                   'config': config})
            self.assertEqual(self.messages(r), want, config)
            r = self.api.post('workflows:update?filterByTk=%d' % ok['id'], {'config': config})
            self.assertEqual(self.messages(r), want, ('update', config))
        self.assertEqual(self.get_wf(ok['id'])['config'], SAMPLES)
        for config in ({'type': 0}, {'type': 2, 'collection': 'samples'}):
            self.api.ok('POST', 'workflows:create', {'title': 'v', 'type': 'custom-action',
                                                     'config': config})

    def test_trigger_type(self):
        r = self.api.post('workflows:create', {'title': 'v', 'config': {}})
        self.assertEqual(self.messages(r), ['Trigger type is required'])
        r = self.api.post('workflows:create', {'title': 'v', 'type': 'nosuch', 'config': {}})
        self.assertEqual(self.messages(r), ['Trigger type "nosuch" is not registered'])

    def test_key_format(self):
        r = self.api.post('workflows:create', {'title': 'v', 'type': 'custom-action',
                                               'key': 'bad key!'})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['code'], 'VALIDATION_ERROR')

    # ---- versions (reference §4: key shared, one enabled version)

    def test_versions_share_a_key(self):
        v1 = self.api.workflow('v1', SAMPLES, nodes=[calc('1', title='one')])
        r = self.api.post('workflows:revision?filterByTk=%d' % v1['id'], {'title': 'v2'})
        self.assertEqual(r.status, 200, diagnose(r))
        v2 = r.data
        self.assertEqual((v2['key'], v2['title'], v2['enabled'], v2['current']),
                         (v1['key'], 'v2', False, None))
        self.assertEqual(v2['config'], SAMPLES)
        self.assertTrue(self.get_wf(v1['id'])['enabled'], 'a revision leaves v1 enabled')

        def versions():
            rows = self.api.ok('GET', 'workflows:list', params={
                'filter': json.dumps({'key': v1['key']}), 'sort': 'id'})
            return [(w['id'], w['enabled'], w['current']) for w in rows]
        self.api.enable(v2)
        self.assertEqual(versions(), [(v1['id'], False, None), (v2['id'], True, True)])
        self.assertEqual(self.api.trigger('samples:trigger/1', v2).json, {})
        self.assertEqual(len(self.api.executions(v2)), 1)
        self.assertEqual(self.api.executions(v1), [])
        self.api.enable(v1)
        self.assertEqual(versions(), [(v1['id'], True, True), (v2['id'], False, None)])
        self.api.trigger('samples:trigger/1', v1)
        self.assertEqual(len(self.api.executions(v1)), 1)
        # A version made with an explicit key joins that key.
        v3 = self.api.ok('POST', 'workflows:create', {
            'title': 'v3', 'type': 'custom-action', 'key': v1['key'], 'enabled': True,
            'sync': True, 'config': SAMPLES})
        self.assertEqual(versions(), [(v1['id'], False, None), (v2['id'], False, None),
                                      (v3['id'], True, True)])
        self.api.enable(v3, False)
        r = self.api.trigger('samples:trigger/1', v1)
        self.assertEqual(r.status, 500, r.text)
        self.assertIn('disabled', r.errors[0]['reason'])

    def test_revision_copies_nodes(self):
        wf = self.api.workflow('to copy', SAMPLES, nodes=[calc('1', title='head')])
        nodes = self.api.nodes(wf)
        cond = self.api.node(wf, {'type': 'condition', 'title': 'cond', 'config': {
            'rejectOnFalse': False, 'calculation': {'group': {'type': 'and',
                                                              'calculations': []}}}},
            upstreamId=nodes['head']['id'])
        self.api.node(wf, calc('2', title='yes'), upstreamId=cond['id'], branchIndex=1)
        self.api.node(wf, calc('3', title='no'), upstreamId=cond['id'], branchIndex=0)
        self.api.node(wf, calc('4', title='tail'), upstreamId=cond['id'])
        r = self.api.post('workflows:revision?filterByTk=%d' % wf['id'])
        self.assertEqual(r.status, 200, diagnose(r))
        old, new = self.api.nodes(wf), self.api.nodes(r.data['id'])
        self.assertEqual(sorted(old), sorted(new))

        def shape(nodes):
            by_id = {n['id']: t for t, n in nodes.items()}
            return {t: (n['type'], n['config'], by_id.get(n['upstreamId']),
                        by_id.get(n['downstreamId']), n['branchIndex'])
                    for t, n in nodes.items()}
        self.assertEqual(shape(new), shape(old))
        self.assertTrue(set(n['id'] for n in new.values()).isdisjoint(
            n['id'] for n in old.values()))
        self.assertTrue(set(n['key'] for n in new.values()).isdisjoint(
            n['key'] for n in old.values()))
        self.assertEqual({n['workflowId'] for n in new.values()}, {r.data['id']})
        r = self.api.post('workflows:revision?filterByTk=999999')
        self.assertEqual((r.status, r.errors[0]['message']), (404, 'workflow not found'))

    # ---- node linking (contract §7)

    def links(self, wf):
        nodes = self.api.nodes(wf)
        by_id = {n['id']: t for t, n in nodes.items()}
        return {t: (by_id.get(n['upstreamId']), n['branchIndex'], by_id.get(n['downstreamId']))
                for t, n in nodes.items()}

    def test_node_linking(self):
        wf = self.api.workflow('linking', SAMPLES, enabled=False)
        api = self.api
        c1 = api.node(wf, calc('1', title='c1'))
        self.assertEqual((c1['upstreamId'], c1['branchIndex'], c1['downstreamId']),
                         (None, None, None))
        self.assertEqual(set(c1), {'id', 'key', 'title', 'type', 'config', 'workflowId',
                                   'upstreamId', 'branchIndex', 'downstreamId', 'createdAt',
                                   'updatedAt'})
        self.assertRegex(c1['key'], r'^[0-9a-z]{11}$')
        c0 = api.node(wf, calc('0', title='c0'))
        self.assertEqual(c0['downstreamId'], c1['id'], 'a node without upstream is the head')
        cond = api.node(wf, {'type': 'condition', 'title': 'cond', 'config': {
            'rejectOnFalse': False, 'engine': 'math.js', 'expression': '1 == 1'}},
            upstreamId=c0['id'])
        self.assertEqual((cond['upstreamId'], cond['downstreamId']), (c0['id'], c1['id']))
        t1 = api.node(wf, calc('11', title='t1'), upstreamId=cond['id'], branchIndex=1)
        api.node(wf, calc('10', title='t0'), upstreamId=cond['id'], branchIndex=1)
        api.node(wf, calc('20', title='f0'), upstreamId=cond['id'], branchIndex=0)
        api.node(wf, calc('12', title='t2'), upstreamId=t1['id'])
        self.assertEqual(self.links(wf), {
            'c0': (None, None, 'cond'), 'cond': ('c0', None, 'c1'), 'c1': ('cond', None, None),
            't0': ('cond', 1, 't1'), 't1': ('t0', None, 't2'), 't2': ('t1', None, None),
            'f0': ('cond', 0, None)})
        # The walk follows the links: the true branch, then the condition's downstream.
        api.enable(wf)
        self.assertEqual(api.trigger('samples:trigger/1', wf).json, {})
        ex = api.last_execution(wf)
        self.assertEqual([j['result'] for j in ex['jobs']], [0, True, 10, 11, 12, 1])
        self.assertEqual(ex['status'], 1)

    def test_node_destroy(self):
        wf = self.api.workflow('destroy', SAMPLES, enabled=False, nodes=[
            calc('0', title='c0'),
            {'type': 'condition', 'title': 'cond', 'config': {
                'rejectOnFalse': False, 'engine': 'math.js', 'expression': '1 == 1'}},
            calc('1', title='c1'), calc('2', title='c2')])
        api = self.api
        cond = wf['nodes'][1]
        t0 = api.node(wf, calc('10', title='t0'), upstreamId=cond['id'], branchIndex=1)
        api.node(wf, calc('11', title='t1'), upstreamId=t0['id'])
        f0 = api.node(wf, calc('20', title='f0'), upstreamId=cond['id'], branchIndex=0)
        api.node(wf, calc('21', title='f1'), upstreamId=f0['id'])

        def destroy(node):
            r = api.post('flow_nodes:destroy?filterByTk=%d' % node['id'])
            self.assertEqual(r.status, 200, diagnose(r))
            self.assertEqual(r.data['id'], node['id'])
        destroy(t0)     # a branch head: its downstream heads the branch
        self.assertEqual(self.links(wf)['t1'], ('cond', 1, None))
        destroy(wf['nodes'][2])     # c1, mid-chain
        self.assertEqual(self.links(wf)['cond'], ('c0', None, 'c2'))
        self.assertEqual(self.links(wf)['c2'], ('cond', None, None))
        destroy(cond)   # its branches go with it
        self.assertEqual(self.links(wf), {'c0': (None, None, 'c2'), 'c2': ('c0', None, None)})
        destroy(wf['nodes'][0])     # the head
        self.assertEqual(self.links(wf), {'c2': (None, None, None)})
        r = api.post('workflows/%d/nodes:create' % wf['id'],
                     dict(calc('x'), upstreamId=999999))
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(api.post('flow_nodes:destroy').status, 400)

    def test_nodes_of_a_missing_workflow(self):
        r = self.api.post('workflows/999999/nodes:create', calc('1'))
        self.assertEqual(r.status, 404, r.text)
        self.assertEqual(r.errors[0]['message'], 'workflow not found')

    # ---- frozen executed version (contract §7)

    def test_executed_version_is_frozen(self):
        api = self.api
        wf = api.workflow('frozen', SAMPLES, nodes=[calc('1', title='only')])
        node = wf['nodes'][0]
        api.node(wf, calc('2', title='second'), upstreamId=node['id'])
        self.assertEqual(api.trigger('samples:trigger/1', wf).json, {})
        cases = [
            ('workflows/%d/nodes:create' % wf['id'], calc('3'),
             'Node could not be created in executed workflow'),
            ('flow_nodes:create', dict(calc('3'), workflowId=wf['id']),
             'Node could not be created in executed workflow'),
            ('flow_nodes:update?filterByTk=%d' % node['id'], {'title': 'renamed'},
             'Nodes in executed workflow could not be reconfigured'),
            ('flow_nodes:update?filterByTk=%d' % node['id'], {'config': {'expression': '5'}},
             'Nodes in executed workflow could not be reconfigured'),
            ('flow_nodes:destroy?filterByTk=%d' % node['id'], None,
             'Nodes in executed workflow could not be deleted'),
        ]
        for path, body, msg in cases:
            r = api.post(path, body)
            self.assertEqual(r.status, 400, (path, r.text))
            self.assertEqual((r.errors[0]['message'], r.errors[0]['code']),
                             (msg, 'WORKFLOW_EXECUTED'), path)
            self.assertIn(str(wf['id']), r.errors[0]['reason'])
        self.assertEqual(sorted(api.nodes(wf)), ['only', 'second'])
        self.assertEqual(api.nodes(wf)['only']['config'], node['config'])
        r = api.post('workflows:update?filterByTk=%d' % wf['id'],
                     {'config': {'type': 0}})
        self.assertEqual((r.status, r.errors[0]['message'], r.errors[0]['code']),
                         (400, 'config of executed workflow can not be updated',
                          'WORKFLOW_EXECUTED'))
        # The same config, the title, enabling: still fine.
        api.ok('POST', 'workflows:update?filterByTk=%d' % wf['id'],
               {'title': 'frozen!', 'config': SAMPLES})
        # A revision is editable.
        rev = api.ok('POST', 'workflows:revision?filterByTk=%d' % wf['id'])
        n = api.nodes(rev)['only']
        api.ok('POST', 'flow_nodes:update?filterByTk=%d' % n['id'],
               {'config': {'engine': 'math.js', 'expression': '40 + 2'}})
        api.ok('POST', 'workflows:update?filterByTk=%d' % rev['id'], {'config': {'type': 0}})
        api.enable(rev)
        self.assertEqual(api.trigger('workflows:trigger', rev, body={}).json, {})
        self.assertEqual(api.last_execution(rev)['jobs'][0]['result'], 42)

    def test_node_update(self):
        wf = self.api.workflow('edit', SAMPLES, enabled=False, nodes=[calc('1', title='n')])
        n = wf['nodes'][0]
        r = self.api.post('flow_nodes:update?filterByTk=%d' % n['id'],
                          {'title': 'n2', 'config': {'engine': 'math.js', 'expression': '7'},
                           'type': 'end', 'workflowId': 1})
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual((r.data[0]['title'], r.data[0]['type'], r.data[0]['workflowId']),
                         ('n2', 'calculation', wf['id']), 'only title and config change')
        r = self.api.post('flow_nodes:update?filterByTk=%d' % n['id'],
                          {'config': {'engine': 'cobol'}})
        self.assertEqual(r.status, 400, r.text)
        self.assertIn('engine', r.errors[0]['message'])

    # ---- history

    def test_executions_list_and_get(self):
        wf = self.api.workflow('history', SAMPLES, nodes=[calc('6 / 3', title='div')])
        for _ in range(3):
            self.api.trigger('samples:trigger/1', wf)
        r = self.api.get('executions:list', params={
            'filter': json.dumps({'workflowId': wf['id']}), 'pageSize': 2})
        self.assertEqual(r.json['meta'], {'count': 3, 'page': 1, 'pageSize': 2, 'totalPage': 2})
        ids = [e['id'] for e in r.data]
        self.assertEqual(ids, sorted(ids), 'default sort: id ascending')
        r = self.api.get('executions:list', params={
            'filter': json.dumps({'workflowId': wf['id']}), 'sort': '-id'})
        self.assertGreater(r.data[0]['id'], r.data[1]['id'])
        ex = self.api.execution(r.data[0]['id'])
        # NocoBase's fields, no more (the worker column stays hidden).
        self.assertEqual(set(ex), {
            'id', 'workflowId', 'key', 'eventKey', 'context', 'status', 'reason',
            'dispatched', 'parentExecutionId', 'stack', 'output', 'manually', 'createdAt',
            'updatedAt', 'startedAt', 'expiresAt', 'jobs'})
        self.assertEqual(set(ex['jobs'][0]), {
            'id', 'executionId', 'nodeId', 'nodeKey', 'upstreamId', 'status', 'meta',
            'result', 'log', 'startedAt', 'createdAt', 'updatedAt'})
        self.assertEqual(ex['key'], wf['key'])
        self.assertRegex(ex['eventKey'], r'^[0-9a-f-]{36}$')
        job = ex['jobs'][0]
        self.assertEqual((job['nodeId'], job['nodeKey'], job['status'], job['result'],
                          job['executionId']),
                         (wf['nodes'][0]['id'], wf['nodes'][0]['key'], 1, 2, ex['id']))
        self.assertEqual(self.get_wf(wf['id'])['executed'], 3)
        r = self.api.get('jobs:get/%d' % job['id'])
        self.assertEqual((r.status, r.data['result'], r.data['nodeKey']),
                         (200, 2, wf['nodes'][0]['key']))

    def test_destroy_workflow(self):
        wf = self.api.workflow('gone', SAMPLES, nodes=[calc('1')])
        r = self.api.post('workflows:destroy?filterByTk=%d' % wf['id'])
        self.assertEqual((r.status, r.data), (200, 1))
        self.assertEqual(self.api.nodes(wf), {})
        r = self.api.trigger('samples:trigger/1', wf)
        self.assertEqual(r.status, 500)
        self.assertIn('unknown', r.errors[0]['reason'])

    def test_non_admins_are_refused(self):
        self.api.ok('POST', 'users:create', {'username': 'w1', 'email': 'w1@x.org',
                                             'password': 'pw123456', 'roles': ['member']})
        tok = sign_in(self.server, 'w1@x.org', 'pw123456')
        for method, path in (('POST', 'workflows:create'), ('GET', 'workflows:list'),
                             ('GET', 'executions:list'), ('POST', 'flow_nodes:update')):
            r = self.api.request(method, path, {'title': 'x'} if method == 'POST' else None,
                                 token=tok)
            self.assertEqual(r.status, 403, (path, r.text))


class WorkflowCache(unittest.TestCase):
    """Every process reloads a workflow when it changes (contract §5)."""

    def test_changes_reach_every_process(self):
        with Site() as site:
            server = start_lighttpd(site, procs=2)
            api = Api(server, sign_in(server))
            v1 = api.workflow('cached', {'type': 0}, nodes=[calc('1', title='n')])

            def burst(wf):
                out = []
                threads = [threading.Thread(target=lambda: out.append(
                    api.trigger('workflows:trigger', wf, body={}).status)) for _ in range(8)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(out, [200] * 8)
            burst(v1)
            v2 = api.ok('POST', 'workflows:revision?filterByTk=%d' % v1['id'])
            n = api.nodes(v2)['n']
            api.ok('POST', 'flow_nodes:update?filterByTk=%d' % n['id'],
                   {'config': {'engine': 'math.js', 'expression': '2'}})
            api.enable(v2)
            burst(v2)
            self.assertEqual(len(api.executions(v1)), 8)
            results = [api.execution(e['id'])['jobs'][0]['result']
                       for e in api.executions(v2)]
            self.assertEqual(results, [2] * 8)
            # Switched to asynchronous: the next trigger is queued, then run.
            api.ok('POST', 'workflows:update?filterByTk=%d' % v2['id'], {'sync': False})
            self.assertEqual(api.trigger('workflows:trigger', v2, body={}).json, {})
            ex = api.wait_execution(v2, count=9)
            self.assertEqual(ex['jobs'][0]['result'], 2)
            api.enable(v2, False)
            r = api.trigger('workflows:trigger', v2, body={})
            self.assertEqual(r.status, 500, r.text)
            self.assertTrue(re.search('disabled', r.errors[0]['reason']))


if __name__ == '__main__':
    unittest.main()
