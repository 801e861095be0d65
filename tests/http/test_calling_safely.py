"""Triggers a caller can rely on (issue 13): Idempotency-Key, X-Execution-Id,
dry runs and traces, executions:retry, retries of the request node, and
signed webhooks (Standard Webhooks and GitHub), through lighttpd."""

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

from harness import Site, start_lighttpd, sign_in, diagnose
from flows import Api, calc, create, update, end, message


class Upstream:
    """A local HTTP server that counts calls: /flaky/<n> answers 503 (with
    Retry-After: 0) n times, then 200; /ok answers 200; /down 500;
    /slow/<ms> 200 after ms milliseconds."""

    def __init__(self):
        self.calls = []
        self.fail_left = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def answer(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n)
                outer.calls.append((self.command, self.path, body))
                code, extra = 200, {}
                if self.path.startswith('/flaky/'):
                    left = outer.fail_left.setdefault(self.path, int(self.path[7:]))
                    if left > 0:
                        outer.fail_left[self.path] = left - 1
                        code, extra = 503, {'Retry-After': '0'}
                elif self.path.startswith('/down'):
                    code = 500
                elif self.path.startswith('/slow/'):
                    time.sleep(int(self.path[6:]) / 1000)
                out = json.dumps({'path': self.path, 'n': len(outer.calls)}).encode()
                self.send_response(code)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = answer

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def request_node(url, title='call', **config):
    return {'type': 'request', 'title': title,
            'config': dict({'url': url, 'method': 'POST', 'timeout': 2000}, **config)}


class SafeCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream()
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=2)
        cls.token = sign_in(cls.server)
        cls.api = Api(cls.server, cls.token)
        cls.api.collection('counters', [{'name': 'n', 'type': 'integer'}],
                           createdBy=True)
        cls.api.collection('events', [{'name': 'what', 'type': 'string'}])
        cls.row = cls.api.create('counters', {'n': 0})['id']
        cls.inc = cls.api.workflow('inc', {'type': 1, 'collection': 'counters'}, nodes=[
            calc('{{$context.data.n}} + 1', title='next'),
            update('counters', {'id': '{{$context.data.id}}'},
                   {'n': '{{$jobsMapByNodeKey.%s}}'}, title='write')])
        # the update node reads the calc node's result by key
        nodes = cls.api.nodes(cls.inc)
        cls.api.enable(cls.inc, False)
        cls.api.ok('POST', 'flow_nodes:update?filterByTk=%d' % nodes['write']['id'], {
            'config': {'collection': 'counters', 'params': {
                'filter': {'id': '{{$context.data.id}}'},
                'values': {'n': '{{$jobsMapByNodeKey.%s}}' % nodes['next']['key']}}}})
        cls.api.enable(cls.inc)
        cls.log = cls.api.workflow('log', {'type': 1, 'collection': 'counters'},
                                   sync=False, nodes=[create('events', {'what': 'async'})])
        cls.api.ok('POST', 'users:create', {'username': 'trig', 'password': 'pw123456',
                                            'roles': ['member']})
        cls.api.ok('POST', 'roles/member/resources:create', {
            'name': 'counters', 'usingActionsConfig': True,
            'actions': [{'name': 'trigger'}, {'name': 'triggerNew'}, {'name': 'view'}]})
        r = cls.server.request('POST', 'auth:signIn', headers={'X-Authenticator': 'basic'},
                               json={'account': 'trig', 'password': 'pw123456'})
        cls.member = r.data['token']

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.upstream.close()

    def n(self):
        return self.api.row('counters', self.row)['n']

    def count(self, coll, flt=None):
        params = {'paginate': 'true', 'pageSize': 1}
        if flt:
            params['filter'] = json.dumps(flt)
        r = self.api.get('%s:list' % coll, params=params)
        return r.json['meta']['count']

    def trigger(self, keys, headers=None, query='', token=None, body=None, role=None):
        return self.server.request(
            'POST', 'counters:trigger/%d?triggerWorkflows=%s%s' % (self.row, keys, query),
            json=body if body is not None else {}, token=token or self.token,
            role=role, headers=headers or {})


class Idempotency(SafeCase):
    def test_retried_trigger_runs_once(self):
        before, logs = self.n(), len(self.api.executions(self.log))
        keys = '%s,%s' % (self.inc['key'], self.log['key'])
        h = {'Idempotency-Key': 'order-42'}
        first = self.trigger(keys, h)
        self.assertEqual(first.status, 200, diagnose(first))
        self.assertNotIn('idempotent-replayed', first.headers)
        ids = first.headers['x-execution-id']
        self.assertEqual(len(ids.split(', ')), 2)
        self.api.wait_execution(self.log, count=logs + 1, status=1)
        after_first = (self.n(), self.count('executions'), self.count('events'))
        again = self.trigger(keys, h)
        self.assertEqual(again.status, first.status)
        self.assertEqual(again.body, first.body)
        self.assertEqual(again.headers['idempotent-replayed'], 'true')
        self.assertEqual(again.headers['x-execution-id'], ids)
        time.sleep(0.3)  # a queued run would have started by now
        self.assertEqual((self.n(), self.count('executions'), self.count('events')),
                         after_first)
        self.assertEqual(after_first[0], before + 1)
        # another caller's key of the same name is another key
        other = self.trigger(self.inc['key'], h, token=self.member, role='member')
        self.assertEqual(other.status, 200, diagnose(other))
        self.assertNotIn('idempotent-replayed', other.headers)

    def test_mismatch_and_invalid_keys(self):
        h = {'Idempotency-Key': 'mismatch-1'}
        self.assertEqual(self.trigger(self.inc['key'], h, body={'a': 1}).status, 200)
        r = self.trigger(self.inc['key'], h, body={'a': 2})
        self.assertEqual(r.status, 422, r.text)
        self.assertEqual(r.errors[0]['code'], 'IDEMPOTENCY_KEY_MISMATCH')
        r = self.trigger(self.inc['key'], h, query='&x=1', body={'a': 1})
        self.assertEqual(r.status, 422, r.text)
        for bad in ('x' * 256, 'caf\u00e9'.encode('utf-8').decode('latin-1'),
                    'tab\there'):
            r = self.trigger(self.inc['key'], {'Idempotency-Key': bad})
            self.assertEqual(r.status, 400, (bad, r.text))
            self.assertEqual(r.errors[0]['code'], 'INVALID_IDEMPOTENCY_KEY')
        # lighttpd drops a header with an empty value; plain CGI passes it
        r = self.site.cgi.request('POST', 'counters:trigger/%d?triggerWorkflows=%s'
                                  % (self.row, self.inc['key']), json={},
                                  token=self.token, headers={'Idempotency-Key': ''})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['code'], 'INVALID_IDEMPOTENCY_KEY')
        r = self.trigger(self.inc['key'], {'Idempotency-Key': 'x' * 255})
        self.assertEqual(r.status, 200, r.text)

    def test_records_and_4xx_answers_are_stored(self):
        h = {'Idempotency-Key': 'create-1'}
        a = self.api.post('events:create', {'what': 'once'}, headers=h)
        b = self.api.post('events:create', {'what': 'once'}, headers=h)
        self.assertEqual((a.status, b.status), (200, 200))
        self.assertEqual(a.body, b.body)
        self.assertEqual(self.count('events', {'what': 'once'}), 1)
        h = {'Idempotency-Key': 'bad-1'}
        a = self.api.post('events:update', {'what': 'x'}, headers=h)
        self.assertEqual(a.status, 400)
        b = self.api.post('events:update', {'what': 'x'}, headers=h)
        self.assertEqual((b.status, b.body), (400, a.body))
        self.assertEqual(b.headers['idempotent-replayed'], 'true')

    def test_5xx_is_not_stored(self):
        h = {'Idempotency-Key': 'nothing-matched'}
        a = self.trigger('no-such-key', h)
        self.assertEqual(a.status, 500)
        b = self.trigger('no-such-key', h)
        self.assertEqual(b.status, 500)
        self.assertNotIn('idempotent-replayed', b.headers)

    def test_concurrent_requests_with_one_key(self):
        before = self.n()
        h = {'Idempotency-Key': 'race-7'}
        out = []

        def go():
            out.append(self.trigger(self.inc['key'], h))
        threads = [threading.Thread(target=go) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.n(), before + 1)
        for r in out:
            self.assertIn(r.status, (200, 409), r.text)
            if r.status == 409:
                self.assertEqual(r.errors[0]['code'], 'IDEMPOTENCY_KEY_IN_USE')
                self.assertEqual(r.headers['retry-after'], '1')
        self.assertEqual(len({r.body for r in out if r.status == 200}), 1)


class KeyInFlight(unittest.TestCase):
    """A second request with a key whose first request is still running
    waits for it and replays its answer; past the busy timeout it is
    refused (PostgreSQL: 409 IDEMPOTENCY_KEY_IN_USE, the key's own lock;
    SQLite: 503 DATABASE_BUSY, the site's write lock), and nothing of the
    refusal is stored under the key.  On PostgreSQL, with no site-wide
    write lock, both once ran."""

    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream()
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=2,
                                    extra_env={'FLOWCGI_BUSY_TIMEOUT_MS': '1000'})
        cls.api = Api(cls.server, sign_in(cls.server))
        cls.api.collection('counters', [{'name': 'n', 'type': 'integer'}])
        cls.row = cls.api.create('counters', {'n': 0})['id']

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.upstream.close()

    def calls(self, path):
        return sum(1 for c in self.upstream.calls if c[1] == path)

    def trigger(self, flow, key):
        return self.server.request(
            'POST', 'counters:trigger/%d?triggerWorkflows=%s' % (self.row, flow['key']),
            json={}, token=self.api.token, headers={'Idempotency-Key': key})

    def overlapping(self, ms, key):
        """Two triggers with one key, the second sent while the first
        waits ms milliseconds for the upstream."""
        path = '/slow/%d' % ms
        flow = self.api.workflow('slow%d' % ms, {'type': 1, 'collection': 'counters'},
                                 nodes=[request_node(self.upstream.url + path, timeout=5000)])
        out = {}

        def go(name):
            out[name] = self.trigger(flow, key)
        first = threading.Thread(target=go, args=('first',))
        first.start()
        deadline = time.monotonic() + 5
        while not self.calls(path) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.calls(path), 1, 'the first request never called out')
        go('second')
        first.join()
        return path, flow, out['first'], out['second']

    def test_the_second_waits_and_replays(self):
        path, flow, first, second = self.overlapping(400, 'wait-1')
        self.assertEqual(first.status, 200, diagnose(first))
        self.assertEqual(second.status, 200, diagnose(second))
        self.assertEqual(second.headers.get('idempotent-replayed'), 'true')
        self.assertEqual(second.body, first.body)
        self.assertEqual(second.headers['x-execution-id'], first.headers['x-execution-id'])
        self.assertEqual(self.calls(path), 1)
        self.assertEqual(len(self.api.executions(flow)), 1)

    def test_past_the_busy_timeout_the_second_is_refused(self):
        path, flow, first, second = self.overlapping(2500, 'wait-2')
        self.assertEqual(first.status, 200, diagnose(first))
        if self.site.backend == 'pg':
            self.assertEqual(second.status, 409, diagnose(second))
            self.assertEqual(second.errors[0]['code'], 'IDEMPOTENCY_KEY_IN_USE')
            self.assertEqual(second.headers['retry-after'], '1')
        else:
            self.assertEqual(second.status, 503, diagnose(second))
            self.assertEqual(second.errors[0]['code'], 'DATABASE_BUSY')
        self.assertEqual(self.calls(path), 1)
        third = self.trigger(flow, 'wait-2')
        self.assertEqual((third.status, third.body), (200, first.body))
        self.assertEqual(third.headers.get('idempotent-replayed'), 'true')
        self.assertEqual(self.calls(path), 1)


class ExecutionIds(SafeCase):
    def test_ids_match_executions_list(self):
        r = self.trigger('%s,%s' % (self.log['key'], self.inc['key']))
        self.assertEqual(r.status, 200, diagnose(r))
        ids = [int(i) for i in r.headers['x-execution-id'].split(', ')]
        self.assertEqual(ids[0], self.api.executions(self.log)[-1]['id'])
        self.assertEqual(ids[1], self.api.executions(self.inc)[-1]['id'])
        r = self.server.request('POST', 'workflows:trigger?triggerWorkflows=nope',
                                json={}, token=self.token)
        self.assertEqual(r.status, 500)
        self.assertNotIn('x-execution-id', r.headers)

    def test_failed_sync_run_names_its_execution(self):
        wf = self.api.workflow('boom', {'type': 1, 'collection': 'counters'},
                               nodes=[calc('1 +', title='broken')])
        r = self.trigger(wf['key'])
        self.assertEqual(r.status, 500, r.text)
        eid = int(r.headers['x-execution-id'])
        self.assertEqual(self.api.execution(eid)['status'], -2)


class DryRun(SafeCase):
    def test_dry_run_changes_nothing_and_traces_what_runs(self):
        call = self.api.workflow('call', {'type': 1, 'collection': 'counters'}, nodes=[
            request_node(self.upstream.url + '/ok?token=abc', headers=[
                {'name': 'Authorization', 'value': 'Bearer s3cret'},
                {'name': 'X-Plain', 'value': 'seen'}], data={'password': 'pw', 'a': 1})])
        keys = '%s,%s,%s' % (self.inc['key'], self.log['key'], call['key'])
        state = lambda: (self.n(), self.count('executions'), self.count('events'),
                         len(self.upstream.calls))
        before = state()
        h = {'Idempotency-Key': 'dry-1'}
        r = self.trigger(keys, h, query='&dryRun=true')
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertNotIn('x-execution-id', r.headers)
        meta = r.json['meta']
        self.assertIs(meta['dryRun'], True)
        trace = meta['trace']
        self.assertEqual([t['workflowKey'] for t in trace],
                         [self.inc['key'], call['key'], self.log['key']])
        self.assertEqual([t['sync'] for t in trace], [True, True, False])
        self.assertEqual([t['status'] for t in trace], [1, 1, 1])
        inc = trace[0]
        self.assertEqual([j['type'] for j in inc['jobs']], ['calculation', 'update'])
        self.assertEqual(inc['jobs'][0]['result'], before[0] + 1)
        for j in inc['jobs']:
            self.assertEqual(set(j), {'nodeId', 'nodeKey', 'type', 'title', 'status',
                                      'result', 'durationMs'})
        sent = trace[1]['jobs'][0]['result']
        self.assertIs(sent['dryRun'], True)
        req = sent['request']
        self.assertEqual(req['method'], 'POST')
        self.assertEqual(req['url'], self.upstream.url + '/ok?token=abc')
        hdr = {h['name']: h['value'] for h in req['headers']}
        self.assertEqual(hdr, {'Authorization': '***', 'X-Plain': 'seen'})
        self.assertEqual(req['data'], {'password': '***', 'a': 1})
        self.assertEqual(state(), before)
        # no idempotency record: the same key runs for real now
        real = self.trigger(keys, h, query='&trace=true')
        self.assertEqual(real.status, 200, diagnose(real))
        self.assertNotIn('idempotent-replayed', real.headers)
        rtrace = real.json['meta']['trace']
        self.assertNotIn('dryRun', real.json['meta'])
        self.assertEqual([t['workflowKey'] for t in rtrace],
                         [self.inc['key'], call['key'], self.log['key']])
        self.assertEqual(rtrace[0]['jobs'][0]['result'], inc['jobs'][0]['result'])
        self.assertIsNone(rtrace[2]['status'])  # queued
        self.assertEqual(self.n(), before[0] + 1)
        self.assertEqual(len(self.upstream.calls), before[3] + 1)

    def test_dry_run_of_a_failure_and_a_plain_answer(self):
        stop = self.api.workflow('stop', {'type': 1, 'collection': 'counters'},
                                 nodes=[message('not now'), end(-1)])
        r = self.trigger(stop['key'], query='&dryRun=true')
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['message'], 'not now')
        self.assertIs(r.json['meta']['dryRun'], True)
        self.assertEqual(r.json['meta']['trace'][0]['status'], -1)
        self.assertEqual(self.api.executions(stop), [])
        plain = self.trigger(self.inc['key'])
        self.assertNotIn('meta', plain.json)

    def test_needs_permission_to_configure(self):
        for q in ('&dryRun=true', '&trace=true'):
            r = self.trigger(self.inc['key'], query=q, token=self.member, role='member')
            self.assertEqual(r.status, 403, r.text)
            self.assertEqual(r.errors[0]['code'], 'NO_PERMISSION')
        r = self.server.request('POST', 'workflows:trigger?dryRun=true&triggerWorkflows=x',
                                json={}, token=self.member, role='member')
        self.assertEqual(r.status, 403, r.text)


class Retry(SafeCase):
    def test_retry_after_the_cause_was_fixed(self):
        wf = self.api.workflow('fixme', {'type': 1, 'collection': 'counters'},
                               nodes=[calc('{{$context.data.n}} + 1', title='c')])
        node = self.api.nodes(wf)['c']
        # broken: a node type that fails at run time
        r = self.trigger(wf['key'], body={'n': 'x'})
        first = self.api.executions(wf)[-1]
        rev = self.api.ok('POST', 'workflows:revision?filterByTk=%d' % wf['id'])
        self.api.enable(rev)
        r = self.api.post('executions:retry/%d' % first['id'])
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual(set(r.data), {'id', 'status', 'retryOfId'})
        self.assertEqual(r.data['retryOfId'], first['id'])
        self.assertEqual(int(r.headers['x-execution-id']), r.data['id'])
        again = self.api.execution(r.data['id'])
        self.assertEqual(again['workflowId'], wf['id'])
        self.assertEqual(again['context'], self.api.execution(first['id'])['context'])
        self.assertEqual(again['retryOfId'], first['id'])
        # the original is untouched
        self.assertEqual(self.api.execution(first['id'])['status'], first['status'])
        cur = self.api.post('executions:retry/%d?version=current' % first['id'])
        self.assertEqual(cur.status, 200, diagnose(cur))
        self.assertEqual(self.api.execution(cur.data['id'])['workflowId'], rev['id'])
        self.assertEqual(node['type'], 'calculation')

    def test_retry_fixes_a_failed_run(self):
        self.api.collection('flags', [{'name': 'ok', 'type': 'boolean'}])
        flag = self.api.create('flags', {'ok': False})['id']
        wf = self.api.workflow('needs-flag', {'type': 1, 'collection': 'counters'}, nodes=[
            {'type': 'query', 'title': 'flag', 'config': {
                'collection': 'flags', 'params': {'filter': {'id': flag}}}},
            {'type': 'condition', 'title': 'ok?', 'config': {
                'rejectOnFalse': True, 'engine': 'basic', 'calculation': {
                    'group': {'type': 'and', 'calculations': [{
                        'calculator': 'equal', 'operands': [
                            '{{$jobsMapByNodeKey.%s.ok}}', True]}]}}}}])
        nodes = self.api.nodes(wf)
        self.api.enable(wf, False)
        self.api.ok('POST', 'flow_nodes:update?filterByTk=%d' % nodes['ok?']['id'], {
            'config': {'rejectOnFalse': True, 'engine': 'basic', 'calculation': {
                'group': {'type': 'and', 'calculations': [{
                    'calculator': 'equal', 'operands': [
                        '{{$jobsMapByNodeKey.%s.ok}}' % nodes['flag']['key'], True]}]}}}})
        self.api.enable(wf)
        r = self.trigger(wf['key'])
        self.assertEqual(r.status, 500, r.text)
        failed = int(r.headers['x-execution-id'])
        self.api.ok('POST', 'flags:update?filterByTk=%d' % flag, {'ok': True})
        r = self.api.post('executions:retry/%d' % failed)
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual(r.data['status'], 1)
        self.assertEqual(self.api.execution(failed)['status'], -1)

    def test_async_retry_is_queued_and_errors(self):
        ex = self.api.executions(self.log)
        if not ex:
            self.trigger(self.log['key'])
            self.api.wait_execution(self.log)
            ex = self.api.executions(self.log)
        r = self.api.post('executions:retry/%d' % ex[-1]['id'])
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertIsNone(r.data['status'])
        self.api.wait_execution(self.log, count=len(ex) + 1)
        self.assertEqual(self.api.post('executions:retry/99999').status, 404)
        r = self.server.request('POST', 'executions:retry/%d' % ex[-1]['id'],
                                json={}, token=self.member, role='member')
        self.assertEqual(r.status, 403)


class RequestRetries(SafeCase):
    def test_fails_twice_then_answers(self):
        path = '/flaky/2'
        wf = self.api.workflow('flaky', {'type': 1, 'collection': 'counters'}, nodes=[
            request_node(self.upstream.url + path, retry={
                'times': 3, 'delay': 50, 'backoff': 2, 'maxDelay': 200})])
        t0 = time.monotonic()
        r = self.trigger(wf['key'])
        self.assertEqual(r.status, 200, diagnose(r))
        job = self.api.last_execution(wf)['jobs'][0]
        self.assertEqual(job['status'], 1)
        attempts = job['result']['attempts']
        self.assertEqual([a.get('status') for a in attempts], [503, 503, 200])
        for a in attempts:
            self.assertIn('durationMs', a)
        self.assertEqual(job['meta']['attempts'], attempts)
        self.assertEqual(sum(1 for c in self.upstream.calls if c[1] == path), 3)
        # Retry-After: 0 was honoured over the 50 ms delay
        self.assertLess(time.monotonic() - t0, 1.5)

    def test_gives_up_and_respects_on(self):
        wf = self.api.workflow('down', {'type': 1, 'collection': 'counters'}, nodes=[
            request_node(self.upstream.url + '/down', retry={
                'times': 2, 'delay': 10, 'on': ['timeout']})])
        calls = len(self.upstream.calls)
        r = self.trigger(wf['key'])
        self.assertEqual(r.status, 500)
        self.assertEqual(len(self.upstream.calls), calls + 1)
        wf = self.api.workflow('down2', {'type': 1, 'collection': 'counters'}, nodes=[
            request_node(self.upstream.url + '/down', retry={'times': 2, 'delay': 10})])
        calls = len(self.upstream.calls)
        self.trigger(wf['key'])
        self.assertEqual(len(self.upstream.calls), calls + 3)

    def test_bad_retry_config_is_refused_when_saved(self):
        wf = self.api.workflow('bad', {'type': 1, 'collection': 'counters'}, enabled=False)
        for retry, field in (({'times': 11}, 'retry.times'), ({'times': -1}, 'retry.times'),
                             ({'delay': 'x'}, 'retry.delay'),
                             ({'backoff': 0.5}, 'retry.backoff'),
                             ({'on': ['sometimes']}, 'retry.on[0]'), ('x', 'retry')):
            r = self.api.post('workflows/%d/nodes:create' % wf['id'],
                              request_node('http://x', retry=retry))
            self.assertEqual(r.status, 400, (retry, r.text))
            self.assertIn('"%s"' % field, r.errors[0]['message'])


def standard_headers(secret, body, msg_id='msg_1', ts=None, extra_sig=None):
    ts = str(int(time.time()) if ts is None else ts)
    key = base64.b64decode(secret[len('whsec_'):])
    mac = hmac.new(key, ('%s.%s.' % (msg_id, ts)).encode() + body, hashlib.sha256)
    sig = 'v1,' + base64.b64encode(mac.digest()).decode()
    if extra_sig:
        sig = extra_sig + ' ' + sig
    return {'webhook-id': msg_id, 'webhook-timestamp': ts, 'webhook-signature': sig,
            'Content-Type': 'application/json'}


def github_headers(secret, body, delivery='d-1'):
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {'X-Hub-Signature-256': 'sha256=' + mac, 'X-GitHub-Delivery': delivery,
            'X-GitHub-Event': 'push', 'Content-Type': 'application/json'}


def webhook_workflow(api, title, config, nodes=(), sync=True):
    wf = api.ok('POST', 'workflows:create', {'title': title, 'type': 'webhook',
                                             'sync': sync, 'config': config})
    up = None
    for spec in nodes:
        spec = dict(spec)
        if up:
            spec['upstreamId'] = up
        up = api.ok('POST', 'workflows/%s/nodes:create' % wf['id'], spec)['id']
    api.enable(wf)
    return wf


class Webhooks(SafeCase):
    SECRET = 'whsec_' + base64.b64encode(b'0123456789abcdef0123456789abcdef').decode()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.std = webhook_workflow(cls.api, 'std', {'secret': cls.SECRET,
                                                    'scheme': 'standard'}, nodes=[
            create('events', {'what': '{{$context.data.what}}'}),
            {'type': 'output', 'title': 'out', 'config': {
                'value': {'got': '{{$context.data.what}}',
                          'event': '{{$context.headers.x-github-event}}',
                          'ua': '{{$context.headers.webhook-id}}'}}}])
        cls.gh = webhook_workflow(cls.api, 'gh', {'secret': 'gh-secret',
                                                  'scheme': 'github'},
                                  nodes=[create('events', {'what': 'github'})], sync=False)

    def post(self, wf, body, headers):
        return self.server.request('POST', 'webhooks:trigger/%s' % wf['key'],
                                   data=body, headers=headers)

    def test_standard_signed_delivery_and_redelivery(self):
        body = json.dumps({'what': 'paid'}).encode()
        h = standard_headers(self.SECRET, body, msg_id='msg_pay',
                             extra_sig='v1,bm90IGl0')
        r = self.post(self.std, body, h)
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual(set(r.data), {'executionId', 'status', 'output'})
        self.assertEqual(r.data['status'], 1)
        self.assertEqual(r.data['output']['got'], 'paid')
        self.assertEqual(r.data['output']['ua'], 'msg_pay')
        self.assertEqual(int(r.headers['x-execution-id']), r.data['executionId'])
        n = self.count('events', {'what': 'paid'})
        # a redelivery (new timestamp and signature) runs nothing
        time.sleep(1.1)
        again = self.post(self.std, body, standard_headers(self.SECRET, body,
                                                           msg_id='msg_pay'))
        self.assertEqual((again.status, again.body), (200, r.body))
        self.assertEqual(again.headers['idempotent-replayed'], 'true')
        self.assertEqual(self.count('events', {'what': 'paid'}), n)

    def test_standard_refusals(self):
        body = json.dumps({'what': 'x'}).encode()
        h = standard_headers(self.SECRET, body, msg_id='msg_t')
        r = self.post(self.std, body.replace(b'x', b'y'), h)
        self.assertEqual((r.status, r.errors[0]['code']), (401, 'INVALID_SIGNATURE'))
        other = 'whsec_' + base64.b64encode(b'another secret of 32 bytes......').decode()
        r = self.post(self.std, body, standard_headers(other, body))
        self.assertEqual((r.status, r.errors[0]['code']), (401, 'INVALID_SIGNATURE'))
        r = self.post(self.std, body, standard_headers(self.SECRET, body,
                                                       ts=int(time.time()) - 400))
        self.assertEqual((r.status, r.errors[0]['code']), (401, 'SIGNATURE_EXPIRED'))
        for drop in ('webhook-id', 'webhook-timestamp', 'webhook-signature'):
            h = standard_headers(self.SECRET, body)
            del h[drop]
            r = self.post(self.std, body, h)
            self.assertEqual((r.status, r.errors[0]['code']), (401, 'INVALID_SIGNATURE'),
                             drop)
        r = self.server.request('POST', 'webhooks:trigger/nokey', data=body,
                                headers=standard_headers(self.SECRET, body))
        self.assertEqual(r.status, 404)
        r = self.server.request('POST', 'webhooks:trigger/%s' % self.inc['key'],
                                data=body, headers=standard_headers(self.SECRET, body))
        self.assertEqual(r.status, 404)
        self.assertEqual(self.count('events', {'what': 'x'}), 0)

    def test_github_async_and_not_json(self):
        body = b'payload=not-json'
        r = self.post(self.gh, body, github_headers('gh-secret', body, 'gh-1'))
        self.assertEqual(r.status, 202, diagnose(r))
        eid = r.data['executionId']
        self.assertEqual(int(r.headers['x-execution-id']), eid)
        ex = self.api.wait_execution(self.gh)
        self.assertEqual(ex['id'], eid)
        self.assertEqual(ex['context']['body'], 'payload=not-json')
        self.assertNotIn('authorization', ex['context']['headers'])
        self.assertEqual(ex['context']['headers']['x-github-event'], 'push')
        r = self.post(self.gh, body, github_headers('wrong', body, 'gh-2'))
        self.assertEqual((r.status, r.errors[0]['code']), (401, 'INVALID_SIGNATURE'))
        h = github_headers('gh-secret', body, 'gh-3')
        del h['X-GitHub-Delivery']
        self.assertEqual(self.post(self.gh, body, h).status, 401)

    def test_secret_is_masked_and_kept(self):
        got = self.api.ok('GET', 'workflows:get/%d' % self.std['id'])
        self.assertEqual(got['config']['secret'], '********')
        listed = self.api.ok('GET', 'workflows:list', params={
            'filter': json.dumps({'id': self.std['id']})})
        self.assertEqual(listed[0]['config']['secret'], '********')
        self.assertNotIn(self.SECRET, json.dumps(self.api.get('workflows:list').json))
        # sending back the mask keeps the secret; a new one replaces it
        wf = webhook_workflow(self.api, 'rot', {'secret': 'one', 'scheme': 'github'})
        self.api.ok('POST', 'workflows:update?filterByTk=%d' % wf['id'],
                    {'config': {'secret': '********', 'scheme': 'github'}})
        body = b'{}'
        self.assertEqual(self.post(wf, body, github_headers('one', body, 'r1')).status, 200)
        self.api.ok('POST', 'workflows:update?filterByTk=%d' % wf['id'],
                    {'config': {'secret': 'two', 'scheme': 'github'}})
        self.assertEqual(self.post(wf, body, github_headers('one', body, 'r2')).status, 401)
        self.assertEqual(self.post(wf, body, github_headers('two', body, 'r3')).status, 200)
        r = self.api.post('workflows:create', {'title': 'x', 'type': 'webhook',
                                               'config': {'scheme': 'smoke'}})
        self.assertEqual(r.status, 400, r.text)


if __name__ == '__main__':
    unittest.main()


class KeyExpiry(unittest.TestCase):
    def test_keys_expire_and_maintain_purges_them(self):
        with Site(env={'FLOWCGI_IDEMPOTENCY_TTL': '1'}) as site:
            srv = start_lighttpd(site, procs=1)
            api = Api(srv, sign_in(srv))
            api.collection('notes', [{'name': 't', 'type': 'string'}])
            h = {'Idempotency-Key': 'k1'}
            a = api.post('notes:create', {'t': 'a'}, headers=h)
            b = api.post('notes:create', {'t': 'a'}, headers=h)
            self.assertEqual(b.headers.get('idempotent-replayed'), 'true')
            time.sleep(1.2)
            c = api.post('notes:create', {'t': 'a'}, headers=h)
            self.assertNotIn('idempotent-replayed', c.headers)
            self.assertNotEqual(c.data['id'], a.data['id'])
            time.sleep(1.2)
            out = site.cli('maintain')
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('expired idempotency keys removed: 1', out.stdout)
