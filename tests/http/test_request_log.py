"""The request log (issue 14, point 3): one JSON line per request in
FLOWCGI_LOG (or on stderr), carrying the request id the response sends
back in X-Request-Id.
"""

import json
import re
import threading
import unittest

from flows import calc, end, samples_site
from harness import Site, cgi_request, expect, sign_in, start_apache, start_lighttpd

TIME_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
MADE_ID_RE = re.compile(r'^[0-9a-f]{16,}$')
FIELDS = {'time', 'requestId', 'remoteAddr', 'method', 'path', 'route', 'status',
          'durationMs', 'userId', 'role', 'executionIds', 'error'}


class RequestLog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site, cls.srv, cls.api, cls.row = samples_site(procs=2)
        cls.token = cls.api.token
        cls.wf = cls.api.workflow('ok', {'type': 1, 'collection': 'samples'},
                                  nodes=[calc('1 + 1')])
        cls.refuse = cls.api.workflow('refuse', {'type': 1, 'collection': 'samples'},
                                      nodes=[end(-1)])

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def lines_by_id(self):
        out = {}
        for line in self.site.request_log_lines():
            self.assertEqual(set(line), FIELDS, line)
            self.assertNotIn(line['requestId'], out, 'request id logged twice')
            out[line['requestId']] = line
        return out

    def test_one_line_per_request_with_the_response_id(self):
        before = len(self.site.request_log_lines())
        sent = []
        for i in range(12):
            r = self.srv.get('samples:get/%s' % self.row['id'], token=self.token)
            sent.append(r)
        sent.append(self.srv.get('samples:list'))            # 401, anonymous
        sent.append(self.srv.get('samples:frobnicate', token=self.token))  # 404, no route
        lines = self.site.request_log_lines()
        self.assertEqual(len(lines) - before, len(sent))
        by_id = self.lines_by_id()
        for r in sent:
            rid = r.headers['X-Request-Id']
            self.assertRegex(rid, MADE_ID_RE)
            line = by_id[rid]
            self.assertEqual(line['status'], r.status)
            self.assertRegex(line['time'], TIME_RE)
            self.assertEqual(line['remoteAddr'], '127.0.0.1')
            self.assertEqual(line['method'], 'GET')
            self.assertIsInstance(line['durationMs'], (int, float))
            self.assertGreaterEqual(line['durationMs'], 0)
        ok = by_id[sent[0].headers['X-Request-Id']]
        self.assertEqual(ok['path'], '/api/samples:get/%s' % self.row['id'])
        self.assertEqual(ok['route'], '<collection>:get')
        self.assertEqual(ok['userId'], 1)
        self.assertEqual(ok['role'], 'root')
        self.assertIsNone(ok['error'])
        self.assertEqual(ok['executionIds'], [])
        anon = by_id[sent[-2].headers['X-Request-Id']]
        self.assertEqual((anon['status'], anon['error'], anon['userId'], anon['role']),
                         (401, 'EMPTY_TOKEN', None, None))
        miss = by_id[sent[-1].headers['X-Request-Id']]
        self.assertEqual((miss['status'], miss['error'], miss['route']),
                         (404, 'NOT_FOUND', None))

    def test_sane_ids_taken_others_replaced(self):
        path = 'samples:get/%s' % self.row['id']
        sane = ['abc-123', 'x' * 128, 'trace=4bf92f3577b34da6a3ce929d0e0e4736;span=00f067aa0ba902b7']
        for rid in sane:
            r = self.srv.get(path, token=self.token, headers={'X-Request-Id': rid})
            self.assertEqual(r.headers['X-Request-Id'], rid)
            self.assertEqual(self.lines_by_id()[rid]['status'], 200)
        insane = ['x' * 129, 'has space', 'tab\there', 'caf\u00e9', '']
        for rid in insane:
            r = self.srv.get(path, token=self.token, headers={'X-Request-Id': rid})
            made = r.headers['X-Request-Id']
            self.assertNotEqual(made, rid)
            self.assertRegex(made, MADE_ID_RE)
            self.assertIn(made, self.lines_by_id())
        made = {self.srv.get(path, token=self.token).headers['X-Request-Id'] for _ in range(20)}
        self.assertEqual(len(made), 20, 'made ids repeat')

    def test_token_parameter_masked(self):
        r = self.srv.get('samples:get/%s?appends=&token=%s' % (self.row['id'], self.token))
        self.assertEqual(r.status, 200, r.text)
        raw = open(self.site.request_log, encoding='utf-8').read()
        self.assertNotIn(self.token, raw)
        line = self.lines_by_id()[r.headers['X-Request-Id']]
        self.assertEqual(line['path'], '/api/samples:get/%s?appends=&token=***' % self.row['id'])
        self.assertEqual(line['userId'], 1)

    def test_trigger_lines_name_executions_and_errors(self):
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], self.wf)
        self.assertEqual(r.status, 200, r.text)
        ids = [int(x) for x in r.headers['X-Execution-Id'].split(',')]
        line = self.lines_by_id()[r.headers['X-Request-Id']]
        self.assertEqual(line['executionIds'], ids)
        self.assertEqual((line['method'], line['route'], line['role']),
                         ('POST', '<collection>:trigger', 'root'))
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], self.refuse)
        self.assertEqual(r.status, 400, r.text)
        line = self.lines_by_id()[r.headers['X-Request-Id']]
        self.assertEqual(line['error'], 'WORKFLOW_INTERCEPTED')
        self.assertEqual(line['executionIds'],
                         [int(x) for x in r.headers['X-Execution-Id'].split(',')])
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], spec='nokey')
        line = self.lines_by_id()[r.headers['X-Request-Id']]
        self.assertEqual((line['status'], line['error']), (500, 'NO_WORKFLOW_MATCHED'))


class ManyWriters(unittest.TestCase):
    """Two lighttpd processes, four Apache processes and plain-CGI runs
    append to one file at once: every line whole, none lost."""

    def test_no_interleaving(self):
        with Site() as site:
            lt = start_lighttpd(site, procs=2)
            ap = start_apache(site, procs=4)
            token = sign_in(lt)
            # A long path makes long lines (well past a pipe's 4 KiB).
            pad = 'p' * 6000
            responses = []
            lock = threading.Lock()

            def worker(srv, n):
                for i in range(n):
                    r = srv.get('auth:check?pad=%s%d' % (pad, i), token=token)
                    with lock:
                        responses.append(r)

            def cgi_worker(n):
                for i in range(n):
                    r = site.cgi.request('GET', 'auth:check?pad=%d' % i, token=token)
                    with lock:
                        responses.append(r)
            threads = [threading.Thread(target=worker, args=(lt, 60)) for _ in range(2)]
            threads += [threading.Thread(target=worker, args=(ap, 40)) for _ in range(4)]
            threads += [threading.Thread(target=cgi_worker, args=(15,))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            raw = open(site.request_log, 'rb').read()
            lines = raw.split(b'\n')
            self.assertEqual(lines[-1], b'')
            parsed = [json.loads(l) for l in lines[:-1]]   # raises on a torn line
            by_id = {p['requestId']: p for p in parsed}
            self.assertEqual(len(by_id), len(parsed))
            for r in responses:
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(by_id[r.headers['X-Request-Id']]['route'], 'auth:check')
            # sign_in's line too
            self.assertEqual(len(parsed), len(responses) + 1)


class Stderr(unittest.TestCase):
    def test_stderr_when_unset(self):
        with Site() as site:
            env = {k: v for k, v in site.env.items() if k != 'FLOWCGI_LOG'}
            r = cgi_request(site.prog, env, 'GET', '/auth:check',
                            headers={'X-Request-Id': 'to-stderr-1'})
            self.assertEqual(r.status, 401)
            lines = [json.loads(l) for l in r.stderr.splitlines() if l.startswith('{')]
            self.assertEqual([l['requestId'] for l in lines], ['to-stderr-1'])
            self.assertEqual(lines[0]['error'], 'EMPTY_TOKEN')
            self.assertEqual(site.request_log_lines(), [])


if __name__ == '__main__':
    unittest.main()
