"""Retention (issue 14, point 4): NocoBase's options.deleteExecutionOnStatus,
`flowcgi.fcgi prune`, and FLOWCGI_EXECUTIONS_MAX_AGE in the maintenance
step.  Queued and running executions are never pruned.
"""

import json
import os
import subprocess
import time
import unittest

import harness
from flows import calc, db_exec, end, samples_site
from harness import Site, _as_www, expect, sign_in, start_lighttpd

OLD = '2020-01-01T00:00:00.000Z'


def executions(site):
    """[(id, status, createdAt)] straight from the database."""
    return [tuple(r) for r in db_exec(
        site, 'SELECT id, status, "createdAt" FROM executions ORDER BY id')]


def backdate(site, ids):
    db_exec(site, 'UPDATE executions SET "createdAt" = ? WHERE id IN (%s)'
            % ','.join(str(int(i)) for i in ids), [OLD])


def add_executions(site, wid, key, n, status, created=OLD, pad=0):
    """n execution rows of workflow wid written directly (fast and large:
    pad bytes of jobs each); returns their ids."""
    if harness.BACKEND == 'pg':
        rows = db_exec(site, '''
            INSERT INTO executions ("createdAt", "updatedAt", "workflowId", key, "eventKey",
                                    context, status, dispatched, manually, "jobsData")
            SELECT ?, ?, ?, ?, md5(random()::text || i), '{"data":{}}', ?, true, false,
                   '[{"result":"' || repeat('ab', ?) || '"}]'
            FROM generate_series(1, ?) AS i RETURNING id''',
                       [created, created, wid, key, status, pad // 4, n])
        return [int(r[0]) for r in rows if r and r[0].isdigit()]
    rows = db_exec(site, '''
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
        INSERT INTO executions (createdAt, updatedAt, workflowId, key, eventKey,
                                context, status, dispatched, manually, jobsData)
        SELECT ?, ?, ?, ?, lower(hex(randomblob(16))), '{"data":{}}', ?, 1, 0,
               '[{"result":"' || hex(randomblob(?)) || '"}]'
        FROM k RETURNING id''', [n, created, created, wid, key, status, pad // 2])
    return [r[0] for r in rows]


class DeleteExecutionOnStatus(unittest.TestCase):
    """As NocoBase's processor: an execution that ends with a status in the
    list is destroyed (with its jobs); others are kept."""

    @classmethod
    def setUpClass(cls):
        cls.site, cls.srv, cls.api, cls.row = samples_site(procs=2)

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def workflow(self, title, nodes, statuses, sync=True):
        return self.api.workflow(title, {'type': 1, 'collection': 'samples'}, sync=sync,
                                 nodes=nodes,
                                 options={'deleteExecutionOnStatus': statuses})

    def test_resolved_deleted_when_listed(self):
        wf = self.workflow('drop resolved', [calc('1 + 1')], [1])
        keep = self.workflow('drop failed only', [calc('1 + 1')], [-1])
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], wf, keep)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.api.executions(wf), [])
        kept = self.api.executions(keep)
        self.assertEqual([e['status'] for e in kept], [1])
        # Only the kept execution is named: the other has no id any more.
        self.assertEqual(r.headers['X-Execution-Id'], str(kept[0]['id']))
        # Its options are as given.
        got = self.api.ok('GET', 'workflows:get/%s' % wf['id'])
        self.assertEqual(got['options']['deleteExecutionOnStatus'], [1])

    def test_failed_deleted_when_listed(self):
        wf = self.workflow('refuse, drop failed', [end(-1)], [-1])
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], wf)
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['code'], 'WORKFLOW_INTERCEPTED')
        self.assertNotIn('X-Execution-Id', r.headers)
        self.assertEqual(self.api.executions(wf), [])
        other = self.workflow('refuse, drop resolved', [end(-1)], [1])
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], other)
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual([e['status'] for e in self.api.executions(other)], [-1])

    def test_queued_execution_deleted_when_it_ends(self):
        wf = self.workflow('async drop', [calc('2 * 3')], [1], sync=False)
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], wf)
        self.assertEqual(r.status, 200, r.text)
        qid = int(r.headers['X-Execution-Id'])          # it existed, queued
        deadline = time.monotonic() + 10
        while self.api.executions(wf):
            self.assertLess(time.monotonic(), deadline, 'the execution stayed')
            time.sleep(0.05)
        r = self.api.get('executions:get/%s' % qid)
        self.assertIsNone(r.data, r.text)

    def test_manual_execute_and_retry(self):
        wf = self.workflow('manual drop', [calc('1')], [1])
        r = self.api.post('workflows:execute?filterByTk=%s' % wf['id'],
                          {'data': {'title': 'x'}, 'userId': 1})
        self.assertEqual(r.status, 200, r.text)
        self.assertIsNone(r.data['execution']['id'])
        self.assertEqual(r.data['execution']['status'], 1)
        self.assertNotIn('X-Execution-Id', r.headers)
        self.assertEqual(self.api.executions(wf), [])
        # A retry of a kept execution into a version that drops it.
        keep = self.workflow('manual keep', [calc('1')], [-1])
        first = self.api.post('workflows:execute?filterByTk=%s' % keep['id'],
                              {'data': {}, 'userId': 1}).data['execution']['id']
        self.api.ok('POST', 'workflows:update?filterByTk=%s' % keep['id'],
                    {'options': {'deleteExecutionOnStatus': [1]}})
        r = self.api.post('executions:retry/%s' % first)
        self.assertEqual(r.status, 200, r.text)
        self.assertIsNone(r.data['id'])
        self.assertEqual(r.data['status'], 1)
        self.assertNotIn('X-Execution-Id', r.headers)
        self.assertEqual([e['id'] for e in self.api.executions(keep)], [first])

    def test_started_and_unlisted_statuses_kept(self):
        # 0 (started) never matches, and strings are not numbers (as
        # includes() compares in NocoBase).
        wf = self.workflow('odd list', [calc('1')], [0, '1'])
        r = self.api.trigger('samples:trigger/%s' % self.row['id'], wf)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual([e['status'] for e in self.api.executions(wf)], [1])


class Prune(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site, cls.srv, cls.api, cls.row = samples_site(procs=1)
        cls.ok = cls.api.workflow('ok', {'type': 1, 'collection': 'samples'},
                                  nodes=[calc('1 + 1')])
        cls.bad = cls.api.workflow('refuse', {'type': 1, 'collection': 'samples'},
                                   nodes=[end(-1)])

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def trigger(self, wf, n, status=200):
        ids = []
        for _ in range(n):
            r = self.api.trigger('samples:trigger/%s' % self.row['id'], wf)
            self.assertEqual(r.status, status, r.text)
            ids.append(int(r.headers['X-Execution-Id']))
        return ids

    def test_old_ended_executions_go_running_and_queued_stay(self):
        ok_old, ok_new = self.trigger(self.ok, 4), self.trigger(self.ok, 2)
        bad_old = self.trigger(self.bad, 3, 400)
        backdate(self.site, ok_old + bad_old)
        wid, key = self.ok['id'], self.ok['key']
        queued = add_executions(self.site, wid, key, 2, None)
        started = add_executions(self.site, wid, key, 1, 0)
        before = {e[0] for e in executions(self.site)}

        out = self.site.cli('prune', '--older-than', '30d', '--status', 'failed')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('executions pruned: 3', out.stdout)
        self.assertEqual({e[0] for e in executions(self.site)}, before - set(bad_old))

        out = self.site.cli('prune', '--older-than', '30d')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('executions pruned: 4', out.stdout)
        left = {e[0] for e in executions(self.site)}
        self.assertEqual(left, before - set(bad_old) - set(ok_old))
        for i in ok_new + queued + started:
            self.assertIn(i, left)
        # Nothing left to prune.
        out = self.site.cli('prune', '--older-than', '1d', '--status', 'resolved,error')
        self.assertIn('executions pruned: 0', out.stdout)
        # Their jobs went with them (they live in the execution's row).
        r = self.api.get('jobs:list?filter=%s' % json.dumps({'executionId': ok_old[0]}))
        self.assertEqual(r.data, [], r.text)
        db_exec(self.site, 'DELETE FROM executions WHERE id IN (%s)'
                % ','.join(map(str, queued + started)))

    def test_bad_arguments(self):
        for args, what in ((['prune'], '--older-than'),
                           (['prune', '--older-than', '30'], '--older-than'),
                           (['prune', '--older-than', 'soon'], '--older-than'),
                           (['prune', '--older-than', '1d', '--status', 'started'],
                            'never pruned'),
                           (['prune', '--older-than', '1d', '--status', '0'], 'never pruned'),
                           (['prune', '--older-than', '1d', '--status', 'resolved,nope'],
                            'nope')):
            out = self.site.cli(*args)
            self.assertEqual(out.returncode, 2, (args, out.stdout, out.stderr))
            self.assertIn(what, out.stderr)


@unittest.skipUnless(harness.BACKEND == 'sqlite',
                     'a SQLite file; PostgreSQL\'s autovacuum reuses the space')
class SpaceBack(unittest.TestCase):
    """A large prune gives the space back: the database file shrinks."""

    def shrinks(self, site):
        wid = 1
        kept = db_exec(site, 'SELECT count(*) FROM executions')[0][0] + 50
        ids = add_executions(site, wid, 'k', 4000, 1, pad=4000)     # ~16 MB
        add_executions(site, wid, 'k', 50, 1, created='2999-01-01T00:00:00.000Z', pad=100)
        site.cli('maintain')   # the WAL back into the file
        before = os.path.getsize(site.db)
        self.assertGreater(before, 12 << 20)
        out = site.cli('prune', '--older-than', '30d')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('executions pruned: %d' % len(ids), out.stdout)
        after = os.path.getsize(site.db)
        self.assertLess(after, before // 4, out.stdout)
        self.assertEqual(db_exec(site, 'SELECT count(*) FROM executions'), [[kept]])
        self.assertEqual(db_exec(site, 'PRAGMA auto_vacuum'), [[2]])
        return before, after

    def test_new_database_incremental_vacuum(self):
        with Site() as site:
            self.assertEqual(db_exec(site, 'PRAGMA auto_vacuum'), [[2]])
            self.shrinks(site)

    def test_old_database_switched_once(self):
        with Site() as site:
            # A database made before auto_vacuum=INCREMENTAL.
            subprocess.run(['sqlite3', site.db, 'PRAGMA auto_vacuum=NONE; VACUUM;'],
                           check=True, timeout=60, **_as_www())
            self.assertEqual(db_exec(site, 'PRAGMA auto_vacuum'), [[0]])
            self.shrinks(site)
            # It stays incremental: later prunes need no full VACUUM.
            self.shrinks(site)


class MaxAge(unittest.TestCase):
    """FLOWCGI_EXECUTIONS_MAX_AGE: the maintenance step prunes by itself."""

    def test_maintain_command(self):
        with Site() as site:
            old = add_executions(site, 1, 'k', 30, 1)
            new = add_executions(site, 1, 'k', 5, -1, created='2999-01-01T00:00:00.000Z')
            queued = add_executions(site, 1, 'k', 2, None)
            out = site.cli('maintain', env={'FLOWCGI_EXECUTIONS_MAX_AGE': '7d'})
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('executions pruned: %d' % len(old), out.stdout)
            self.assertEqual({e[0] for e in executions(site)}, set(new + queued))
            out = site.cli('maintain')           # unset: nothing pruned
            self.assertIn('executions pruned: 0', out.stdout)

    def test_serving_process_prunes(self):
        with Site() as site:
            srv = start_lighttpd(site, procs=1,
                                 extra_env={'FLOWCGI_EXECUTIONS_MAX_AGE': '30d'})
            token = sign_in(srv)
            old = add_executions(site, 1, 'k', 40, 1)
            queued = add_executions(site, 1, 'k', 1, None)   # runs, or fails: it stays
            # The step runs every 500 requests (or minute) after an answer.
            for _ in range(520):
                expect(srv.get('auth:check', token=token), 'check')
            left = {e[0] for e in executions(site)}
            self.assertFalse(left & set(old), 'old executions left')
            self.assertIn(queued[0], left)

    def test_bad_value_ignored(self):
        with Site() as site:
            add_executions(site, 1, 'k', 3, 1)
            out = site.cli('maintain', env={'FLOWCGI_EXECUTIONS_MAX_AGE': '30'})
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('FLOWCGI_EXECUTIONS_MAX_AGE', out.stderr)
            self.assertEqual(len(executions(site)), 3)


if __name__ == '__main__':
    unittest.main()
