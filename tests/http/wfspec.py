"""Workflows for the node tests, built over the HTTP API from short specs.

    wf = build(server, token, [
        {'id': 'L', 'type': 'loop', 'config': {'target': 3}},
        {'id': 'c', 'type': 'calculation', 'up': 'L', 'bi': 0,
         'config': {'expression': '{{$scopes.@L@.index}} * 2'}},
    ])
    r = wf.trigger({'title': 'x'})
    ex = wf.last_execution()            # with its jobs, oldest first
    ex.jobs_of('c')                     # the jobs of node c, in order

Nodes are created in list order: 'up' names an earlier node (upstreamId),
'bi' its branchIndex.  '@x@' anywhere in a config is replaced by the key
of node x; a node that names itself is updated once its key is known.
Workflows are custom-action workflows on `collection`, synchronous unless
sync=False (then last_execution(wait=True) polls until it has run).
"""

import json
import re
import time

from harness import expect


class Execution:
    def __init__(self, data, names):
        self.data = data
        self.status = data['status']
        self.jobs = sorted(data.get('jobs') or [], key=lambda j: int(j['id']))
        self.names = names

    def jobs_of(self, node):
        return [j for j in self.jobs if self.names.get(j['nodeId']) == node]

    def job(self, node):
        js = self.jobs_of(node)
        assert len(js) == 1, (node, js)
        return js[0]

    def trace(self):
        """[(node, status, result)] in job order."""
        return [(self.names.get(j['nodeId']), j['status'], j['result'])
                for j in self.jobs]


class Workflow:
    def __init__(self, server, token, data, collection):
        self.server = server
        self.token = token
        self.id = data['id']
        self.key = data['key']
        self.collection = collection
        self.ids = {}
        self.keys = {}

    def trigger(self, data=None, timeout=30):
        return self.server.request(
            'POST', '%s:trigger?triggerWorkflows=%s' % (self.collection, self.key),
            json=data if data is not None else {'title': 'x'},
            token=self.token, timeout=timeout)

    def last_execution(self, wait=False):
        deadline = time.monotonic() + 10
        while True:
            r = expect(self.server.request(
                'GET', 'executions:list?filter=%s&sort=-id' % json.dumps({'workflowId': self.id}),
                token=self.token), 'executions:list')
            assert r.data, 'no execution of workflow %s' % self.id
            if not wait or r.data[0]['status'] not in (None, 0) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        r = expect(self.server.request(
            'GET', 'executions:get/%s?appends[]=jobs' % r.data[0]['id'],
            token=self.token), 'executions:get')
        return Execution(r.data, {v: k for k, v in self.ids.items()})

    def run(self, data=None):
        """Trigger, then the execution it recorded."""
        r = self.trigger(data)
        return r, self.last_execution()


def _subst(config, keys):
    text = json.dumps(config)
    return json.loads(re.sub(r'@(\w+)@', lambda m: keys.get(m.group(1), m.group(0)), text))


def build(server, token, nodes, title='nodes', collection='samples', enable=True,
          sync=True):
    r = expect(server.request('POST', 'workflows:create', token=token, json={
        'title': title, 'type': 'custom-action', 'sync': sync,
        'config': {'type': 1, 'collection': collection}}), 'workflows:create')
    wf = Workflow(server, token, r.data, collection)
    for n in nodes:
        config = _subst(n.get('config', {}), wf.keys)
        body = {'type': n['type'], 'title': n.get('title', n['id']), 'config': config}
        if 'up' in n:
            body['upstreamId'] = wf.ids[n['up']]
        if 'bi' in n:
            body['branchIndex'] = n['bi']
        r = expect(server.request('POST', 'workflows/%s/nodes:create' % wf.id,
                                  token=token, json=body), 'node %s' % n['id'])
        wf.ids[n['id']] = r.data['id']
        wf.keys[n['id']] = r.data['key']
        if '@%s@' % n['id'] in json.dumps(config):
            expect(server.request(
                'POST', 'flow_nodes:update?filterByTk=%s' % r.data['id'], token=token,
                json={'config': _subst(config, wf.keys)}), 'node %s update' % n['id'])
    if enable:
        expect(server.request('POST', 'workflows:update?filterByTk=%s' % wf.id,
                              token=token, json={'enabled': True}), 'enable')
    return wf
