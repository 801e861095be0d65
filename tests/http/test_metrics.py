"""GET /api/metrics (issue 14, point 2): Prometheus text that promtool
accepts, with the figures of every process of the server together.

lighttpd runs two FastCGI processes and plain-CGI runs add more (one
process per request): every count made by any of them must show in a
scrape, whichever process answers it, and match the requests made.
"""

import os
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest

import harness
from flows import Api, calc, end
from harness import Site, expect, sign_in, start_lighttpd

METRICS_TOKEN = 'scrape-secret-0123456789'
PROMTOOL = shutil.which('promtool', path='/usr/bin:/usr/local/bin:/bin')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = re.match(r'([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$', line)
        assert m, 'not a sample line: %r' % line
        labels = frozenset(LABEL_RE.findall(m.group(3) or ''))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def dead_state(pid):
    """The state letter of pid from /proc, None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.srv = start_lighttpd(cls.site, procs=2,
                                 extra_env={'FLOWCGI_METRICS_TOKEN': METRICS_TOKEN})
        cls.token = sign_in(cls.srv)
        cls.api = Api(cls.srv, cls.token)
        cls.api.collection('samples', [{'name': 'title', 'type': 'string'},
                                       {'name': 'indicator', 'type': 'integer'}])
        cls.row = cls.api.create('samples', {'title': 'a', 'indicator': 1})
        cls.ok_wf = cls.api.workflow('ok', {'type': 1, 'collection': 'samples'},
                                     nodes=[calc('1 + 1')])
        cls.fail_wf = cls.api.workflow('refuse', {'type': 1, 'collection': 'samples'},
                                       nodes=[end(-1)])

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def scrape(self, token=METRICS_TOKEN, server=None):
        r = (server or self.srv).get('metrics', token=token)
        self.assertEqual(r.status, 200, r.text[:500])
        return r

    def test_promtool_accepts_the_scrape(self):
        if not PROMTOOL:
            self.fail('promtool is missing: install Debian\'s prometheus '
                      '(scripts/deps.sh does)')
        self.api.trigger('samples:trigger/%s' % self.row['id'], self.ok_wf)
        r = self.scrape()
        self.assertEqual(r.headers['content-type'],
                         'text/plain; version=0.0.4; charset=utf-8')
        p = subprocess.run([PROMTOOL, 'check', 'metrics'], input=r.text,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + '\n' + r.text[:3000])
        names = ['flowcgi_http_requests_total', 'flowcgi_http_request_duration_seconds',
                 'flowcgi_workflow_executions_total', 'flowcgi_queue_depth',
                 'flowcgi_database_size_bytes', 'flowcgi_process_resident_memory_bytes']
        if harness.BACKEND == 'sqlite':     # PostgreSQL's WAL is the server's
            names.append('flowcgi_database_wal_size_bytes')
        for name in names:
            self.assertIn('# TYPE %s ' % name, r.text)

    def test_counts_match_the_requests_made(self):
        before = parse(self.scrape().text)
        gets, bad, anon = 40, 7, 5
        path = 'samples:get/%s' % self.row['id']

        def worker(n):
            for _ in range(n):
                expect(self.srv.get(path, token=self.token), 'get')
        # Four clients at once: both FastCGI processes answer some.
        threads = [threading.Thread(target=worker, args=(gets // 4,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for _ in range(bad):
            expect(self.srv.get('samples:get/x1', token=self.token), 'bad id', 400)
        for _ in range(anon):
            expect(self.srv.get(path), 'anonymous', 401)
        # Plain CGI: a process per request, all adding to the same file.
        for _ in range(3):
            expect(self.site.cgi.request('GET', path, token=self.token), 'cgi get')
        for _ in range(4):
            self.api.trigger('samples:trigger/%s' % self.row['id'], self.ok_wf)
        for _ in range(2):
            expect(self.api.trigger('samples:trigger/%s' % self.row['id'], self.fail_wf),
                   'refused trigger', 400)

        # Whichever process answers, the figures are the same.
        for _ in range(4):
            after = parse(self.scrape().text)

            def delta(name, **labels):
                return value(after, name, **labels) - value(before, name, **labels)
            route = '<collection>:get'
            self.assertEqual(delta('flowcgi_http_requests_total', route=route, status='200'),
                             gets + 3)
            self.assertEqual(delta('flowcgi_http_requests_total', route=route, status='400'),
                             bad)
            self.assertEqual(delta('flowcgi_http_requests_total', route=route, status='401'),
                             anon)
            self.assertEqual(delta('flowcgi_http_request_duration_seconds_count', route=route),
                             gets + 3 + bad + anon)
            self.assertEqual(delta('flowcgi_http_request_duration_seconds_bucket',
                                   route=route, le='+Inf'),
                             gets + 3 + bad + anon)
            self.assertGreater(delta('flowcgi_http_request_duration_seconds_sum', route=route), 0)
            self.assertEqual(delta('flowcgi_http_requests_total',
                                   route='<collection>:trigger', status='200'), 4)
            self.assertEqual(delta('flowcgi_http_requests_total',
                                   route='<collection>:trigger', status='400'), 2)
            self.assertEqual(delta('flowcgi_workflow_executions_total',
                                   workflow=self.ok_wf['key'], status='resolved'), 4)
            self.assertEqual(delta('flowcgi_workflow_executions_total',
                                   workflow=self.fail_wf['key'], status='failed'), 2)
            self.assertEqual(value(after, 'flowcgi_queue_depth'), 0)
            if harness.BACKEND == 'pg':
                size = int(self.site.sql('SELECT pg_database_size(current_database())')[0][0])
                self.assertAlmostEqual(value(after, 'flowcgi_database_size_bytes'), size,
                                       delta=size // 10)
            else:
                self.assertEqual(value(after, 'flowcgi_database_size_bytes'),
                                 os.path.getsize(self.site.db))
            # The scrape itself counts from the next one on.
            self.assertGreaterEqual(value(after, 'flowcgi_http_requests_total',
                                          route='metrics:get', status='200'), 1)

    def test_memory_of_each_live_process(self):
        samples = parse(self.scrape().text)
        pids = {dict(labels)['pid'] for (name, labels) in samples
                if name == 'flowcgi_process_resident_memory_bytes'}
        self.assertEqual(pids, {str(p) for p in self.srv.fcgi_pids()})
        for pid in pids:
            self.assertGreater(value(samples, 'flowcgi_process_resident_memory_bytes',
                                     pid=pid), 1 << 20)
        self.assertEqual(value(samples, 'flowcgi_processes'), len(pids))

    def test_who_may_scrape(self):
        self.assertEqual(self.srv.get('metrics').status, 401)
        self.assertEqual(self.srv.get('metrics', token='not-the-token').status, 401)
        self.scrape(token=self.token)                      # root
        self.scrape(token=METRICS_TOKEN)                   # the metrics token
        r = self.srv.get('metrics?token=' + METRICS_TOKEN)  # hosts that drop the header
        self.assertEqual(r.status, 200, r.text[:300])
        self.api.ok('POST', 'users:create', {'username': 'm1', 'email': 'm1@x.org',
                                             'password': 'pw123456', 'roles': ['member']})
        member = sign_in(self.srv, 'm1@x.org', 'pw123456')
        r = self.srv.get('metrics', token=member)
        self.assertEqual(r.status, 403, r.text)
        self.assertEqual(r.errors[0]['code'], 'NO_PERMISSION')
        admin = self.srv.get('metrics', token=self.token, role='admin')
        self.assertEqual(admin.status, 200, admin.text[:300])
        # The colon form reaches the same route.
        self.assertEqual(self.srv.get('metrics:get', token=METRICS_TOKEN).status, 200)


class DeadProcesses(unittest.TestCase):
    """A process that died leaves the figures it counted and drops out of
    the memory gauge."""

    def test_dead_pid_dropped_counts_kept(self):
        with Site() as site:
            srv = start_lighttpd(site, procs=2)
            token = sign_in(srv)
            for _ in range(10):
                expect(srv.get('auth:check', token=token), 'check')
            victim = srv.fcgi_pids()[0]
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 10
            # Dead once it is gone or a zombie (an ASan build takes a
            # moment to tear its mappings down).
            while dead_state(victim) not in (None, 'Z', 'X'):
                self.assertLess(time.monotonic(), deadline, 'pid %d lives on' % victim)
                time.sleep(0.05)
            while True:
                r = srv.get('metrics', token=token)
                if r.status == 200:
                    break
                self.assertLess(time.monotonic(), deadline, r.text)
                time.sleep(0.1)
            samples = parse(r.text)
            pids = {dict(labels)['pid'] for (name, labels) in samples
                    if name == 'flowcgi_process_resident_memory_bytes'}
            self.assertNotIn(str(victim), pids)
            self.assertGreaterEqual(value(samples, 'flowcgi_http_requests_total',
                                          route='auth:check', status='200'), 10)


if __name__ == '__main__':
    unittest.main()
