"""Several FastCGI processes on one database file: the smoke subset through
Apache + mod_fcgid with the shipped configuration (Authorization passing,
create/get/list, concurrent writes), a write that waits too long for the
database answering 503 DATABASE_BUSY without losing anything, and what one
process keeps (schema, workflows, tokens, permissions) following the
changes another process makes."""

import concurrent.futures
import sqlite3
import threading
import time
import unittest

from harness import Site, setup_samples, start_apache, start_lighttpd, sign_in


class ApacheSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_apache(cls.site, procs=4)
        cls.token = sign_in(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def req(self, method, path, **kw):
        kw.setdefault('token', self.token)
        return self.server.request(method, path, **kw)

    def test_authorization_reaches_the_program(self):
        r = self.req('GET', 'auth:check')
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json['data']['username'], 'nocobase')
        r = self.req('GET', 'auth:check', token=self.token[:-3] + 'AAA')
        self.assertEqual((r.status, r.json['errors'][0]['code']), (401, 'INVALID_TOKEN'))
        r = self.req('GET', 'auth:check', token=None)
        self.assertEqual((r.status, r.json['errors'][0]['code']), (401, 'EMPTY_TOKEN'))

    def test_create_get_list_and_concurrent_writes(self):
        r = self.req('POST', 'collections:create', json={'name': 'notes', 'fields': [
            {'name': 'text', 'type': 'string'}, {'name': 'n', 'type': 'integer'}]})
        self.assertEqual(r.status, 200, r.text)
        r = self.req('POST', 'notes:create', json={'text': 'first', 'n': 0})
        self.assertEqual(r.status, 200, r.text)
        first = r.json['data']['id']
        self.assertEqual(self.req('GET', 'notes:get/%d' % first).json['data']['text'], 'first')

        def write(i):
            return self.req('POST', 'notes:create', json={'text': 't%d' % i, 'n': i})

        # four clients, as many as FastCGI processes (mod_fcgid stalls for
        # a second when every process is busy)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(write, range(1, 101)))
        self.assertEqual([a.status for a in answers], [200] * 100,
                         [a.text for a in answers if a.status != 200][:3])
        ids = {a.json['data']['id'] for a in answers}
        self.assertEqual(len(ids), 100)
        r = self.req('GET', 'notes:list?paginate=false&sort=n')
        self.assertEqual([row['n'] for row in r.json['data']], list(range(101)))
        r = self.req('GET', 'notes:list?pageSize=10&page=3')
        self.assertEqual(r.json['meta'], {'count': 101, 'page': 3, 'pageSize': 10,
                                          'totalPage': 11})


class Busy(unittest.TestCase):
    """A write that cannot get the database within FLOWCGI_BUSY_TIMEOUT_MS
    answers 503 DATABASE_BUSY and leaves nothing behind; once the database
    is free the same write succeeds."""

    def test_database_busy(self):
        with Site() as site:
            server = start_lighttpd(site, procs=1,
                                    extra_env={'FLOWCGI_BUSY_TIMEOUT_MS': '300'})
            token = sign_in(server)
            r = server.request('POST', 'collections:create', token=token, json={
                'name': 'items', 'fields': [{'name': 'n', 'type': 'integer'}]})
            self.assertEqual(r.status, 200, r.text)
            held = threading.Event()
            release = threading.Event()

            def hold():
                # another program holding the database (SQLite: the file;
                # PostgreSQL: the table) for a while
                if site.backend == 'pg':
                    p = site.pg.session(site.db)
                    p.stdin.write("BEGIN; LOCK TABLE items IN EXCLUSIVE MODE; "
                                  "SELECT 'held';\n")
                    p.stdin.flush()
                    while 'held' not in p.stdout.readline():
                        pass
                    held.set()
                    release.wait(10)
                    p.communicate('ROLLBACK;\n', timeout=10)
                    return
                db = sqlite3.connect(site.db, timeout=5, isolation_level=None)
                db.execute('BEGIN EXCLUSIVE')
                held.set()
                release.wait(10)
                db.execute('ROLLBACK')
                db.close()

            t = threading.Thread(target=hold)
            t.start()
            try:
                held.wait(5)
                start = time.monotonic()
                r = server.request('POST', 'items:create', token=token, json={'n': 1})
                waited = time.monotonic() - start
            finally:
                release.set()
                t.join()
            self.assertEqual(r.status, 503, r.text)
            self.assertEqual(r.json['errors'][0]['code'], 'DATABASE_BUSY')
            self.assertGreaterEqual(waited, 0.25)
            r = server.request('GET', 'items:list', token=token)
            self.assertEqual(r.json['meta']['count'], 0)
            r = server.request('POST', 'items:create', token=token, json={'n': 2})
            self.assertEqual(r.status, 200, r.text)
            server.stop()


class SharedChanges(unittest.TestCase):
    """Two servers of one process each on one database: A warms its caches,
    B changes what they hold, and A's next request must see the change (the
    counters are re-read only when another connection has committed)."""

    def test_changes_made_elsewhere_are_seen(self):
        with Site() as site:
            a = start_lighttpd(site, procs=1)
            b = start_lighttpd(site, procs=1)
            root = sign_in(a)
            demo = setup_samples(a, root)
            trigger = 'samples:trigger/%d?triggerWorkflows=%s' % (demo['row_id'], demo['key'])

            def ok(server, method, path, token=root, **kw):
                r = server.request(method, path, token=token, **kw)
                self.assertEqual(r.status, 200, (path, r.text))
                return r

            ok(a, 'POST', trigger, json={'indicator': 5})
            # Workflows: disabled through B, A no longer runs it.
            ok(b, 'POST', 'workflows:update?filterByTk=%d' % demo['workflow_id'],
               json={'enabled': False})
            r = a.request('POST', trigger, token=root, json={'indicator': 6})
            self.assertEqual(r.status, 500, r.text)
            self.assertEqual(r.errors[0]['code'], 'NO_WORKFLOW_MATCHED', r.text)
            ok(b, 'POST', 'workflows:update?filterByTk=%d' % demo['workflow_id'],
               json={'enabled': True})
            ok(a, 'POST', trigger, json={'indicator': 7})
            self.assertEqual(ok(b, 'GET', 'samples:get/%d' % demo['row_id'])
                             .json['data']['indicator'], 7)

            # Schema: a collection created through B is usable through A.
            ok(a, 'GET', 'samples:list')
            ok(b, 'POST', 'collections:create', json={
                'name': 'notes', 'fields': [{'name': 'text', 'type': 'string'}]})
            ok(a, 'POST', 'notes:create', json={'text': 'seen'})

            # Permissions: a grant made through B opens A, a revoke closes it.
            ok(b, 'POST', 'roles:create', json={'name': 'clerk', 'title': 'clerk',
                                                'strategy': {'actions': []}})
            ok(b, 'POST', 'users:create', json={
                'username': 'mia', 'password': 'mia-pw', 'roles': ['clerk']})
            mia = sign_in(a, 'mia', 'mia-pw')
            r = a.request('GET', 'notes:list', token=mia)
            self.assertEqual(r.status, 403, r.text)
            grant = ok(b, 'POST', 'roles/clerk/resources:create', json={
                'name': 'notes', 'usingActionsConfig': True,
                'actions': [{'name': 'view'}]}).json['data']
            ok(a, 'GET', 'notes:list', token=mia)
            ok(b, 'POST', 'roles/clerk/resources:update?filterByTk=%d' % grant['id'],
               json={'name': 'notes', 'usingActionsConfig': True, 'actions': []})
            r = a.request('GET', 'notes:list', token=mia)
            self.assertEqual(r.status, 403, r.text)

            # Tokens: signed out through B, refused by A that remembered it.
            ok(b, 'POST', 'auth:signOut', token=mia)
            r = a.request('GET', 'auth:check', token=mia)
            self.assertEqual(r.status, 401, r.text)


if __name__ == '__main__':
    unittest.main()
