"""PostgreSQL (issue 12): several web servers on one database with row
locks instead of a site-wide lock.  Two lighttpd instances with four
FastCGI processes each stand for two machines.  Runs in the PostgreSQL pass
of the suite (run.py --backend pg)."""

import http.server
import json
import statistics
import threading
import time
import unittest
import urllib.parse

import harness
import pgcluster
from harness import Site, start_lighttpd, sign_in, diagnose
from flows import Api, calc, update, create


def pg_only(cls):
    return unittest.skipUnless(harness.BACKEND == 'pg' and pgcluster.available(),
                               'the PostgreSQL pass runs these')(cls)


def add_one_workflow(api, coll, row_filter, read=None):
    """A sync workflow that adds 1 to counter n of a row: the triggered one
    (read None) or, through a query node, the row `read` names."""
    nodes = []
    if read:
        nodes.append({'type': 'query', 'title': 'read', 'config': {
            'collection': coll, 'params': {'filter': read}}})
    w = api.workflow('add one', {'type': 1, 'collection': coll}, nodes=nodes,
                     enabled=False)
    up = w['nodes'][-1] if nodes else None
    src = ('{{$jobsMapByNodeKey.%s.n}}' % up['key']) if up else '{{$context.data.n}}'
    c = api.node(w, calc('%s + 1' % src, title='next'),
                 **({'upstreamId': up['id']} if up else {}))
    api.node(w, update(coll, row_filter, {'n': '{{$jobsMapByNodeKey.%s}}' % c['key']}),
             upstreamId=c['id'])
    api.enable(w)
    return w


def hammer(servers, token, path, clients=16, each=25):
    """clients threads, each triggering `each` times, spread over servers."""
    statuses = []
    lock = threading.Lock()

    def client(i):
        srv = servers[i % len(servers)]
        for _ in range(each):
            r = srv.request('POST', path, json={}, token=token, timeout=60)
            with lock:
                statuses.append((r.status, r.text if r.status != 200 else ''))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pg_only
class TwoServers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.s1 = start_lighttpd(cls.site, procs=4)
        cls.s2 = start_lighttpd(cls.site, procs=4)
        cls.token = sign_in(cls.s1)
        cls.api1 = Api(cls.s1, cls.token)
        cls.api2 = Api(cls.s2, cls.token)

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def test_no_lost_update_on_the_triggered_row(self):
        self.api1.collection('counters', [{'name': 'n', 'type': 'integer'}])
        row = self.api1.create('counters', {'n': 0})['id']
        w = add_one_workflow(self.api1, 'counters', {'id': '{{$context.data.id}}'})
        out = hammer([self.s1, self.s2], self.token,
                     'counters:trigger/%d?triggerWorkflows=%s' % (row, w['key']))
        self.assertEqual([s for s in out if s[0] != 200], [])
        self.assertEqual(self.api2.row('counters', row)['n'], 400)

    def test_no_lost_update_through_a_query_node(self):
        self.api1.collection('tallies', [{'name': 'n', 'type': 'integer'},
                                         {'name': 'name', 'type': 'string'}])
        caller = self.api1.create('tallies', {'name': 'caller', 'n': 0})['id']
        total = self.api1.create('tallies', {'name': 'total', 'n': 0})['id']
        w = add_one_workflow(self.api1, 'tallies', {'id': total}, read={'id': total})
        out = hammer([self.s1, self.s2], self.token,
                     'tallies:trigger/%d?triggerWorkflows=%s' % (caller, w['key']))
        self.assertEqual([s for s in out if s[0] != 200], [])
        self.assertEqual(self.api2.row('tallies', total)['n'], 400)

    def test_caches_follow_the_other_server(self):
        api1, api2 = self.api1, self.api2
        # schema: a collection made through one server is used through the other
        api1.collection('notes', [{'name': 't', 'type': 'string'}])
        self.assertEqual(api2.create('notes', {'t': 'x'})['t'], 'x')
        # workflows: enabled and disabled through one, seen by the other
        w = api1.workflow('w', {'type': 1, 'collection': 'notes'},
                          nodes=[calc('1 + 1')])
        path = 'notes:trigger?triggerWorkflows=%s' % w['key']
        for _ in range(8):  # every process of server 2 warms its cache
            self.assertEqual(api2.post(path, {}).status, 200)
        api1.enable(w, False)
        for _ in range(8):
            r = api2.post(path, {})
            self.assertEqual(r.status, 500, r.text)
            self.assertIn('disabled', r.errors[0]['reason'])
        # permissions: a grant given and taken back through one server
        api1.ok('POST', 'users:create', {'username': 'm', 'password': 'pw123456',
                                         'roles': ['member']})
        mtok = sign_in(self.s2, 'm', 'pw123456')

        def create_note():
            return self.s2.request('POST', 'notes:create', json={'t': 'm'}, token=mtok,
                                   role='member').status
        self.assertEqual(create_note(), 403)
        g = api1.ok('POST', 'roles/member/resources:create', {
            'name': 'notes', 'usingActionsConfig': True, 'actions': [{'name': 'create'}]})
        for _ in range(8):
            self.assertEqual(create_note(), 200)
        api1.ok('POST', 'roles/member/resources:destroy?filterByTk=%d' % g['id'])
        for _ in range(8):
            self.assertEqual(create_note(), 403)
        # tokens: signed out through one server, refused by the other
        self.s1.request('POST', 'auth:signOut', token=mtok)
        for _ in range(8):
            r = self.s2.request('GET', 'auth:check', token=mtok)
            self.assertEqual(r.status, 401, r.text)

    def test_queue_claimed_once_across_servers(self):
        self.api1.collection('events', [{'name': 'tag', 'type': 'string'}])
        w = self.api1.workflow('log', {'type': 0}, sync=False,
                               nodes=[create('events', {'tag': '{{$context.data.tag}}'})])
        for i in range(40):
            api = (self.api1, self.api2)[i % 2]
            r = api.post('workflows:trigger?triggerWorkflows=%s' % w['key'], {'tag': 't%d' % i})
            self.assertEqual(r.status, 200, r.text)
        ex = self.api1.wait_execution(w, count=40)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            exs = self.api1.executions(w)
            if all(e['status'] == 1 for e in exs):
                break
            time.sleep(0.1)
        self.assertEqual(sorted(e['status'] for e in exs), [1] * 40)
        tags = [r['tag'] for r in self.api1.rows('events')]
        self.assertEqual(sorted(tags), sorted('t%d' % i for i in range(40)))
        self.assertTrue(ex)


class Slow(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        self.rfile.read(n)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        time.sleep(int(q.get('ms', ['2000'])[0]) / 1000)
        out = b'{"ok":true}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


@pg_only
class NoSiteWideLock(unittest.TestCase):
    def test_a_slow_workflow_does_not_delay_an_unrelated_trigger(self):
        httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Slow)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = 'http://127.0.0.1:%d/slow?ms=2000' % httpd.server_address[1]
        try:
            with Site() as site:
                srv = start_lighttpd(site, procs=4)
                api = Api(srv, sign_in(srv))
                api.collection('orders', [{'name': 'n', 'type': 'integer'}])
                api.collection('notes', [{'name': 'n', 'type': 'integer'}])
                order = api.create('orders', {'n': 0})['id']
                note = api.create('notes', {'n': 0})['id']
                slow = api.workflow('slow', {'type': 1, 'collection': 'orders'}, nodes=[
                    update('orders', {'id': '{{$context.data.id}}'}, {'n': 1}),
                    {'type': 'request', 'title': 'slow call',
                     'config': {'url': url, 'method': 'POST', 'timeout': 5000}}])
                fast = add_one_workflow(api, 'notes', {'id': '{{$context.data.id}}'})
                done = []
                t = threading.Thread(target=lambda: done.append(api.post(
                    'orders:trigger/%d?triggerWorkflows=%s' % (order, slow['key']), {})))
                t.start()
                time.sleep(0.3)
                times = []
                for _ in range(10):
                    t0 = time.monotonic()
                    r = api.post('notes:trigger/%d?triggerWorkflows=%s' % (note, fast['key']),
                                 {})
                    times.append(time.monotonic() - t0)
                    self.assertEqual(r.status, 200, r.text)
                still_running = t.is_alive()
                t.join()
                self.assertTrue(still_running, 'the slow workflow ended too soon to tell')
                self.assertEqual(done[0].status, 200, done[0].text)
                self.assertLess(statistics.median(times), 0.1, times)
                self.assertEqual(api.row('notes', note)['n'], 10)
        finally:
            httpd.shutdown()
            httpd.server_close()


@pg_only
class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = pgcluster.Cluster()  # its own: this one is stopped

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_unavailable_then_back(self):
        with Site(cluster=self.cluster) as site:
            srv = start_lighttpd(site, procs=1)
            token = sign_in(srv)
            self.assertEqual(srv.request('GET', 'auth:check', token=token).status, 200)
            self.cluster.pause()
            try:
                r = srv.request('GET', 'auth:check', token=token)
                self.assertEqual(r.status, 503, r.text)
                e = r.errors[0]
                self.assertEqual(e['code'], 'DATABASE_UNAVAILABLE')
                self.assertIn('127.0.0.1:%d' % self.cluster.port, e['reason'])
                self.assertNotIn(pgcluster.PASSWORD, r.text)
            finally:
                self.cluster.resume()
            # the same process reconnects by itself
            r = srv.request('GET', 'auth:check', token=token)
            self.assertEqual(r.status, 200, r.text)
            logs = srv.error_log() + open(site.request_log).read()
            self.assertNotIn(pgcluster.PASSWORD, logs)
            for args in (('--version',), ('help',)):
                out = site.cli(*args, db=False)
                self.assertNotIn(pgcluster.PASSWORD, out.stdout + out.stderr)
            out = site.cli('init')
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertNotIn(pgcluster.PASSWORD, out.stdout + out.stderr)

    def test_unreachable_at_start(self):
        bad = 'postgresql://flowcgi:%s@127.0.0.1:9/nowhere' % pgcluster.PASSWORD
        r = harness.cgi_request(harness.program(), {'FLOWCGI_DB': bad}, 'GET',
                                '/api/auth:check')
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.errors[0]['code'], 'DATABASE_UNAVAILABLE')
        self.assertIn('127.0.0.1:9/nowhere', r.errors[0]['reason'])
        self.assertNotIn(pgcluster.PASSWORD, r.text + r.stderr)

    def test_deadlock_after_a_sent_request_is_a_conflict(self):
        httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Slow)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = 'http://127.0.0.1:%d/slow?ms=400' % httpd.server_address[1]
        try:
            with Site(cluster=self.cluster) as site:
                srv = start_lighttpd(site, procs=2)
                api = Api(srv, sign_in(srv))
                api.collection('accts', [{'name': 'n', 'type': 'integer'}])
                a = api.create('accts', {'n': 0})['id']
                b = api.create('accts', {'n': 0})['id']

                def cross(title, other):
                    # holds the triggered row, calls out, then reads the other
                    return api.workflow(title, {'type': 1, 'collection': 'accts'}, nodes=[
                        update('accts', {'id': '{{$context.data.id}}'}, {'n': 1}),
                        {'type': 'request', 'title': 'call',
                         'config': {'url': url, 'method': 'POST', 'timeout': 3000}},
                        {'type': 'query', 'title': 'other',
                         'config': {'collection': 'accts', 'params': {'filter': {'id': other}}}},
                        update('accts', {'id': other}, {'n': 2}, title='touch other')])
                w1, w2 = cross('one', b), cross('two', a)
                out = []
                ts = [threading.Thread(target=lambda p=p: out.append(api.post(p, {})))
                      for p in ('accts:trigger/%d?triggerWorkflows=%s' % (a, w1['key']),
                                'accts:trigger/%d?triggerWorkflows=%s' % (b, w2['key']))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                codes = sorted((r.status, (r.errors or [{}])[0].get('code')) for r in out)
                self.assertEqual(codes, [(200, None), (409, 'TRANSACTION_CONFLICT')],
                                 [r.text for r in out])
                loser = [r for r in out if r.status == 409][0]
                self.assertNotIn('x-execution-id', loser.headers)
                rows = {r['id']: r['n'] for r in api.rows('accts')}
                # the winner wrote both rows; nothing of the loser stayed
                self.assertEqual(sorted(rows.values()), [1, 2])
        finally:
            httpd.shutdown()
            httpd.server_close()


@pg_only
class CopyFromSQLite(unittest.TestCase):
    def test_copy_a_site_and_get_the_same_answers(self):
        with Site(backend='sqlite') as old, Site(init=False) as new:
            srv = start_lighttpd(old, procs=1)
            api = Api(srv, sign_in(srv))
            api.collection('categories', [{'name': 'title', 'type': 'string'}])
            api.collection('posts', [{'name': 'title', 'type': 'string'},
                                     {'name': 'n', 'type': 'integer'},
                                     {'name': 'ok', 'type': 'boolean'},
                                     {'name': 'meta', 'type': 'json'},
                                     {'name': 'category', 'type': 'belongsTo',
                                      'target': 'categories', 'foreignKey': 'categoryId'}])
            cat = api.create('categories', {'title': 'c'})['id']
            for i in range(3):
                api.create('posts', {'title': 'p%d' % i, 'n': i, 'ok': i % 2 == 0,
                                     'meta': {'i': i}, 'categoryId': cat})
            api.ok('POST', 'posts:destroy?filterByTk=2')
            w = add_one_workflow(api, 'posts', {'id': '{{$context.data.id}}'})
            self.assertEqual(api.post('posts:trigger/1?triggerWorkflows=%s' % w['key'],
                                      {}).status, 200)
            api.ok('POST', 'users:create', {'username': 'u', 'password': 'pw123456',
                                            'roles': ['member']})
            key = api.ok('POST', 'apiKeys:create', {'name': 'k', 'role': {'name': 'admin'},
                                                    'expiresIn': '30d'})['token']
            queries = ['posts:list?appends=category&sort=id', 'categories:list',
                       'users:list?sort=id', 'workflows:list', 'executions:list',
                       'flow_nodes:list?sort=id', 'collections:list']
            before = {q: api.get(q).json for q in queries}
            srv.stop()
            out = old.cli('copy', '--from', old.db, '--to', new.db, db=False)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('posts', out.stdout)
            self.assertNotIn(pgcluster.PASSWORD, out.stdout + out.stderr)
            psrv = start_lighttpd(new, procs=1)
            papi = Api(psrv, api.token)  # a token issued before the move
            for q in queries:
                self.assertEqual(papi.get(q).json, before[q], q)
            self.assertEqual(psrv.request('GET', 'auth:check', token=key).status, 200)
            self.assertEqual(sign_in(psrv, 'u', 'pw123456') is not None, True)
            # ids go on from where they were
            self.assertEqual(papi.create('posts', {'title': 'p9'})['id'], 4)
            r = papi.post('posts:trigger/1?triggerWorkflows=%s' % w['key'], {})
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual(papi.row('posts', 1)['n'], 2)
            psrv.stop()
            out = old.cli('copy', '--from', old.db, '--to', new.db, db=False)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('not empty', out.stderr)


if __name__ == '__main__':
    unittest.main()
