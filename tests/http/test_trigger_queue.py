"""The engine around the trigger (contract §4.3-§4.4): concurrent
triggers on one row, limits, and asynchronous work: the queue, run-queue,
crash recovery, CGI mode."""

import concurrent.futures
import json
import os
import signal
import threading
import time
import unittest

import harness
from harness import Site, start_lighttpd, sign_in
from flows import Api, calc, update, create, db_exec


class Concurrency(unittest.TestCase):
    """The record load and the workflow's writes share one IMMEDIATE
    transaction (contract §4.3): no update is lost."""

    def setUp(self):
        self.site = Site()
        self.server = start_lighttpd(self.site, procs=4)
        self.api = Api(self.server, sign_in(self.server))

    def tearDown(self):
        self.site.close()

    def test_ten_clients_add_one(self):
        api = self.api
        api.collection('counters', [{'name': 'n', 'type': 'integer'}])
        row = api.create('counters', {'n': 100})
        w = api.workflow('add one', {'type': 1, 'collection': 'counters'}, nodes=[
            calc('{{$context.data.n}} + 1', title='next')], enabled=False)
        key = w['nodes'][0]['key']
        api.node(w, update('counters', {'id': '{{$context.data.id}}'},
                           {'n': '{{$jobsMapByNodeKey.%s}}' % key}),
                 upstreamId=w['nodes'][0]['id'])
        api.enable(w)
        # Every client on its own connection (harness: one per thread).
        results = []

        def client():
            r = api.trigger('counters:trigger/%d' % row['id'], w)
            results.append((r.status, r.text))
        threads = [threading.Thread(target=client) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [(200, '{}')] * 10)
        self.assertEqual(api.row('counters', row['id'])['n'], 110)
        exs = api.executions(w)
        self.assertEqual(sorted(api.execution(e['id'])['jobs'][0]['result'] for e in exs),
                         list(range(101, 111)))


class Limits(unittest.TestCase):
    """FLOWCGI_STEP_LIMIT ends a sync workflow with ERROR (contract §2)."""

    def test_step_limit(self):
        with Site() as site:
            server = start_lighttpd(site, procs=1, extra_env={'FLOWCGI_STEP_LIMIT': '2'})
            api = Api(server, sign_in(server))
            w = api.workflow('long', {'type': 0}, nodes=[calc('1', title='n1'),
                                                         calc('2', title='n2'),
                                                         calc('3', title='n3')])
            r = api.trigger('workflows:trigger', w, body={})
            self.assertEqual((r.status, r.errors[0]['code']), (500, 'WORKFLOW_FAILED'), r.text)
            self.assertIn('FLOWCGI_STEP_LIMIT', r.errors[0]['reason'])
            ex = api.last_execution(w)
            self.assertEqual([j['status'] for j in ex['jobs']], [1, 1, -2])
            self.assertEqual(ex['status'], -2)


class Queue(unittest.TestCase):
    """Queued executions left behind, run-queue and the next process
    (contract §4.4).  No server runs while rows are planted, so that no
    worker picks them up after a response."""

    def setUp(self):
        self.site = Site()
        self.server = start_lighttpd(self.site, procs=1)
        self.api = Api(self.server, sign_in(self.server))
        self.api.collection('log', [{'name': 'tag', 'type': 'string'}])
        self.w = self.api.workflow('async log', {'type': 0}, sync=False,
                                   nodes=[create('log', {'tag': '{{$context.data.tag}}'})])
        self.server.stop()

    def tearDown(self):
        self.site.close()

    def plant(self, status, worker=None, tag='q', tags=None):
        """Executions as a process leaves them: queued (status NULL) or
        STARTED by worker ("pid:startms"); returns the last id."""
        rows, params = [], []
        for t in tags or [tag]:
            ctx = json.dumps({'data': {'tag': t}, 'user': {'id': 1}, 'roleName': 'root'})
            rows.append("(?, ?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', "
                        "'2026-01-01T00:00:00.000Z')")
            params += [self.w['id'], self.w['key'], 'planted-' + t, ctx, status,
                       status is not None, worker]
        db_exec(self.site, 'INSERT INTO executions ("workflowId", "key", "eventKey", context, '
                'status, dispatched, worker, "createdAt", "updatedAt") VALUES '
                + ', '.join(rows), params)
        return db_exec(self.site, 'SELECT max(id) FROM executions')[0][0]

    def status(self, eid):
        return db_exec(self.site, 'SELECT status FROM executions WHERE id = ?', [eid])[0][0]

    def tags(self):
        return [t for (t,) in db_exec(self.site, 'SELECT tag FROM log ORDER BY id')]

    def test_run_queue_runs_each_once(self):
        a = self.plant(None, tag='a')
        b = self.plant(None, tag='b')
        r = self.site.cli('run-queue')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('2 queued execution(s) run', r.stdout)
        self.assertEqual((self.status(a), self.status(b)), (1, 1))
        self.assertEqual(self.tags(), ['a', 'b'])
        # an execution's jobs are stored in its row (executions.jobsData)
        jobs = json.loads(db_exec(self.site, 'SELECT "jobsData" FROM executions WHERE id = ?',
                                  [a])[0][0])
        self.assertEqual([j['status'] for j in jobs], [1])
        r = self.site.cli('run-queue')
        self.assertIn('0 queued execution(s) run', r.stdout)
        self.assertEqual(self.tags(), ['a', 'b'])

    def test_concurrent_run_queues_claim_each_once(self):
        self.plant(None, tags=['t%02d' % i for i in range(30)])
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            outs = list(pool.map(lambda _: self.site.cli('run-queue'), range(3)))
        counts = [int(o.stdout.split()[0]) for o in outs]
        self.assertEqual(sum(counts), 30, [o.stdout + o.stderr for o in outs])
        self.assertEqual(sorted(self.tags()), ['t%02d' % i for i in range(30)])
        stored = db_exec(self.site, 'SELECT "jobsData" FROM executions')
        self.assertEqual(sum(len(json.loads(j)) for (j,) in stored), 30)

    def note_effect(self, eid, what):
        """What a running execution noted before it sent a request."""
        if self.site.backend == 'pg':
            db_exec(self.site, 'INSERT INTO _flowcgi_effects ("executionId", node, at) '
                    'VALUES (?, ?, ?)', [eid, what, '2026-01-01T00:00:00.000Z'])
            return
        d = self.site.db + '-effects'
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, str(eid)), 'w') as f:
            f.write(what)
        if harness.IS_ROOT:
            import pwd
            pw = pwd.getpwnam('www-data')
            for p in (d, os.path.join(d, str(eid))):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def test_started_by_a_dead_worker_runs_again(self):
        """Contract §4.4: a STARTED execution whose process died goes back
        to the queue when nothing it did left the database (its
        transaction rolled back), else it is ABORTED naming what left."""
        dead = self.plant(0, worker='999999999:1', tag='dead')
        sent = self.plant(0, worker='999999998:1', tag='sent')
        self.note_effect(sent, 'node "call" (request) sent POST http://x/')
        live = None
        if self.site.backend == 'sqlite':  # a process id means nothing on PostgreSQL
            live = self.plant(0, worker='1:%d' % (2 ** 50), tag='live')  # pid 1 is alive
        r = self.site.cli('run-queue')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.status(dead), 1)
        self.assertEqual(self.status(sent), -3)
        reason = db_exec(self.site, 'SELECT reason FROM executions WHERE id = ?', [sent])[0][0]
        self.assertIn('node "call" (request) sent POST http://x/', reason)
        if live:
            self.assertEqual(self.status(live), 0)
        self.site.cli('run-queue')
        self.assertEqual(self.status(sent), -3)
        self.assertEqual(self.tags(), ['dead'], 'run once, the one that sent never again')

    def test_killed_worker(self):
        server = start_lighttpd(self.site, procs=1)
        try:
            pid = server.fcgi_pids()[0]
            eid = self.plant(0, worker='%d:%d' % (pid, _start_ms(pid)), tag='killed')
            if self.site.backend == 'sqlite':
                self.site.cli('run-queue')
                self.assertEqual(self.status(eid), 0, 'its worker still runs')
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while pid in server.fcgi_pids() and time.monotonic() < deadline:
                time.sleep(0.05)
            # lighttpd starts a new process (on a later request: the first
            # ones may still find the dead socket), which finds the orphan
            # and runs it again: nothing it did had left the database.
            while self.status(eid) != 1 and time.monotonic() < deadline:
                server.request('GET', 'auth:check')
                time.sleep(0.05)
            self.assertEqual(self.status(eid), 1)
            self.assertEqual(self.tags(), ['killed'])
        finally:
            server.stop()

    def test_next_process_runs_what_was_left(self):
        eid = self.plant(None, tag='left')
        server = start_lighttpd(self.site, procs=2)
        try:
            api = Api(server, sign_in(server))
            ex = api.wait_execution(self.w)
            self.assertEqual(ex['id'], eid)
            self.assertEqual(self.tags(), ['left'])
        finally:
            server.stop()
        self.assertEqual(self.tags(), ['left'])


class CgiAsync(unittest.TestCase):
    """Plain CGI: the queued work runs once stdout is closed, before exit."""

    def test_async_in_cgi(self):
        with Site() as site:
            server = start_lighttpd(site, procs=1)
            api = Api(server, sign_in(server))
            api.collection('log', [{'name': 'tag', 'type': 'string'}])
            w = api.workflow('async', {'type': 0}, sync=False,
                             nodes=[create('log', {'tag': '{{$context.data.tag}}'})])
            server.stop()
            r = site.cgi.request('POST', 'workflows:trigger?triggerWorkflows=' + w['key'],
                                 json={'tag': 'cgi'}, token=api.token)
            self.assertEqual((r.status, r.json), (200, {}), r.stderr)
            rows = db_exec(site, 'SELECT status FROM executions WHERE "workflowId" = ?',
                           [w['id']])
            self.assertEqual(rows, [[1]])
            self.assertEqual(db_exec(site, 'SELECT tag FROM log'), [['cgi']])


def _start_ms(pid):
    """Start of process pid in ms since the epoch, as /proc tells it."""
    with open('/proc/%d/stat' % pid) as f:
        ticks = int(f.read().rsplit(')', 1)[1].split()[19])
    with open('/proc/stat') as f:
        btime = next(int(line.split()[1]) for line in f if line.startswith('btime'))
    return btime * 1000 + ticks * 1000 // os.sysconf('SC_CLK_TCK')


if __name__ == '__main__':
    unittest.main()
