"""Helpers for the workflow tests: collections, workflows, nodes and
executions made and read over the HTTP API, plus direct writes to a site's
database for the crash cases (run as www-data, who owns the files).

    api = Api(server, token)
    wf = api.workflow('t', {'type': 1, 'collection': 'samples'},
                      nodes=[calc('1 + 1'), update('samples', {...}, {...})])
    r = api.trigger('samples:trigger/1', wf, body={'indicator': 2})
    ex = api.last_execution(wf)            # with jobs, in run order
"""

import json
import subprocess
import time

from harness import Site, _as_www, expect, sign_in, start_lighttpd


def samples_site(procs=2):
    """A new site behind lighttpd, signed in, with a collection `samples`
    (a title) and one row: (site, server, api, row)."""
    site = Site()
    srv = start_lighttpd(site, procs=procs)
    api = Api(srv, sign_in(srv))
    api.collection('samples', [{'name': 'title', 'type': 'string'}])
    return site, srv, api, api.create('samples', {'title': 'a'})


class Api:
    """One server and one token; every helper asserts its own step."""

    def __init__(self, server, token):
        self.server = server
        self.token = token

    def request(self, method, path, body=None, token=None, role=None, **kw):
        return self.server.request(method, path, json=body,
                                   token=self.token if token is None else token,
                                   role=role, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body, **kw)

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def ok(self, method, path, body=None, **kw):
        """data of a request that must answer 200."""
        r = expect(self.request(method, path, body, **kw), '%s %s' % (method, path))
        return r.data

    def collection(self, name, fields, **opts):
        body = dict(opts, name=name, fields=fields)
        return self.ok('POST', 'collections:create', body)

    def create(self, coll, values):
        return self.ok('POST', '%s:create' % coll, values)

    def row(self, coll, rid, appends=None):
        path = '%s:get/%s' % (coll, rid)
        if appends:
            path += '?appends=' + ','.join(appends)
        return self.ok('GET', path)

    def rows(self, coll, **params):
        params.setdefault('paginate', 'false')
        params.setdefault('sort', 'id')
        return self.ok('GET', '%s:list' % coll, params=params)

    # ---- workflows and nodes

    def workflow(self, title, config, sync=True, nodes=(), enabled=True, **extra):
        """A custom-action workflow with a chain of nodes (dicts of node()).

        Returns the workflow row plus 'nodes': the created nodes in order.
        """
        body = dict(extra, title=title, type='custom-action', sync=sync,
                    enabled=False, config=config)
        wf = self.ok('POST', 'workflows:create', body)
        made, up = [], None
        for spec in nodes:
            spec = dict(spec)
            if up is not None and 'upstreamId' not in spec:
                spec['upstreamId'] = up
            n = self.ok('POST', 'workflows/%s/nodes:create' % wf['id'], spec)
            made.append(n)
            up = n['id']
        if enabled:
            self.enable(wf)
        wf['nodes'] = made
        return wf

    def node(self, wf, spec, **over):
        return self.ok('POST', 'workflows/%s/nodes:create' % _id(wf), dict(spec, **over))

    def enable(self, wf, on=True):
        return self.ok('POST', 'workflows:update?filterByTk=%s' % _id(wf), {'enabled': on})

    def nodes(self, wf):
        """{title: node row} of a workflow version."""
        rows = self.ok('GET', 'workflows/%s/nodes:list?paginate=false' % _id(wf))
        return {n['title']: n for n in rows}

    # ---- triggering and history

    def trigger(self, path, *wfs, body=None, spec=None, **kw):
        """POST <path>?triggerWorkflows=<keys of wfs> (or spec as given)."""
        keys = spec if spec is not None else ','.join(w['key'] for w in wfs)
        sep = '&' if '?' in path else '?'
        return self.post('%s%striggerWorkflows=%s' % (path, sep, keys), body, **kw)

    def executions(self, wf):
        """Executions of a workflow version, oldest first."""
        return self.ok('GET', 'executions:list', params={
            'filter': json.dumps({'workflowId': _id(wf)}), 'paginate': 'false',
            'sort': 'id'})

    def execution(self, eid):
        ex = self.ok('GET', 'executions:get/%s?appends[]=jobs' % eid)
        ex['jobs'].sort(key=lambda j: j['id'])
        return ex

    def last_execution(self, wf):
        exs = self.executions(wf)
        assert exs, 'workflow %s has no execution' % _id(wf)
        return self.execution(exs[-1]['id'])

    def wait_execution(self, wf, count=1, status=1, timeout=10):
        """Poll until wf has `count` executions, the last with `status`."""
        deadline = time.monotonic() + timeout
        while True:
            exs = self.executions(wf)
            if len(exs) >= count and exs[-1]['status'] == status:
                return self.execution(exs[-1]['id'])
            if time.monotonic() > deadline:
                raise AssertionError('workflow %s: executions %r' % (
                    _id(wf), [(e['id'], e['status']) for e in exs]))
            time.sleep(0.05)


def _id(wf):
    return wf['id'] if isinstance(wf, dict) else wf


# ---- node specs

def calc(expression, engine='math.js', title=None):
    return {'type': 'calculation', 'title': title or 'calc %s' % expression,
            'config': {'engine': engine, 'expression': expression}}


def update(coll, flt, values, title='update'):
    return {'type': 'update', 'title': title,
            'config': {'collection': coll, 'params': {'filter': flt, 'values': values}}}


def create(coll, values, title='create', appends=None):
    params = {'values': values}
    if appends:
        params['appends'] = appends
    return {'type': 'create', 'title': title, 'config': {'collection': coll, 'params': params}}


def end(status=1, title=None):
    return {'type': 'end', 'title': title or 'end %d' % status,
            'config': {'endStatus': status}}


def message(text, title='message'):
    return {'type': 'response-message', 'title': title, 'config': {'message': text}}


# ---- the database, directly (crash cases)

def db_exec(site, sql, params=()):
    """Run one statement on the site's database; returns fetched rows."""
    return site.sql(sql, params)
