"""import nocobase (issue 16): a NocoBase 2.2 site moved in one command.

The source is tests/fixtures/nocobase/, made from a real NocoBase 2.2.15
(make_fixture.py, README.md there): its tables as SQL, loaded as NocoBase's
SQLite form in the SQLite pass and into a database of the scratch cluster
(read-only to the program) in the PostgreSQL pass, so both sources and both
targets are covered.  expected.json holds what that NocoBase answered to the
calls replayed here after the import, and the rows those calls left.
"""

import atexit
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

import harness
from harness import Site, CGIClient, start_lighttpd, sign_in, diagnose

FIX = os.path.join(harness.REPO, 'tests', 'fixtures', 'nocobase')
sys.path.insert(0, FIX)
import to_sqlite  # noqa: E402

EXPECTED = json.load(open(os.path.join(FIX, 'expected.json'), encoding='utf-8'))
TOKENS = EXPECTED['tokens']
WF = EXPECTED['workflows']
# What flowcgi cannot run in the fixture, and the SQL (both dialects) that
# takes it out of a copy of the source.
UNSUPPORTED = [
    "DELETE FROM collections WHERE name = 'regions'",
    "DELETE FROM fields WHERE \"collectionName\" = 'regions' OR name = 'total'",
    "DELETE FROM flow_nodes WHERE type = 'aggregate'",
    "DELETE FROM workflows WHERE type <> 'custom-action' OR title = 'sum'",
]


_sources = {}
_source_dir = None


def source(site, edits=()):
    """The fixture as NocoBase's database in the site's backend (a SQLite
    file, or a PostgreSQL URI), with the SQL edits run on it first.  Made
    once per run and edits: the import only reads it."""
    global _source_dir
    key = (bool(site.pg), tuple(edits))
    if key in _sources:
        return _sources[key]
    sql = os.path.join(FIX, 'nocobase.sql')
    if site.pg:
        uri = site.pg.create_database()
        site.pg.load(uri, sql)
        for e in edits:
            site.pg.sql(uri, e)
        _sources[key] = uri
        return uri
    if _source_dir is None:
        _source_dir = tempfile.mkdtemp(prefix='flowcgi-nocobase-', dir='/tmp')
        os.chmod(_source_dir, 0o755)
        atexit.register(shutil.rmtree, _source_dir, True)
    path = os.path.join(_source_dir, 'nocobase-%d.sqlite' % len(_sources))
    to_sqlite.convert(sql, path)
    db = sqlite3.connect(path)
    for e in edits:
        db.execute(e)
    db.commit()
    db.close()
    os.chmod(path, 0o644)
    _sources[key] = path
    return path


def app_dir(site, name='app'):
    """A copy of a fixture NocoBase folder (.env, storage/) the program can
    read."""
    dest = site.path('nb-' + name)
    shutil.copytree(os.path.join(FIX, name), dest)
    for root, dirs, files in os.walk(dest):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return dest


def nb_import(site, src, *args):
    return site.cli('import', 'nocobase', '--from', src, *args)


def app_key():
    for line in open(os.path.join(FIX, 'app', '.env'), encoding='utf-8'):
        if line.startswith('APP_KEY='):
            return line.strip()[len('APP_KEY='):]
    raise AssertionError('no APP_KEY in the fixture')


def lines(out, outcome, kind):
    """The summary's lines of one outcome and kind (without those words)."""
    head = '%-8s  %-12s  ' % (outcome, kind)
    return [l[len(head):] for l in out.splitlines() if l.startswith(head)]


def totals(out):
    """The closing table: {kind: (imported, changed, skipped)}."""
    rows = {}
    for l in out.splitlines():
        parts = l.rsplit(None, 3)
        if len(parts) == 4 and all(p.isdigit() for p in parts[1:]):
            rows[parts[0].strip()] = tuple(int(p) for p in parts[1:])
    return rows


def comparable(rows):
    """Rows as both sides must agree on them: without updatedAt (the
    workflows' writes moved it at other times), without the field flowcgi
    could not take (notes.total, a formula), decimals as numbers (SQLite
    keeps 12.50 as 12.5, as NocoBase on SQLite does)."""
    def value(v):
        try:
            return float(v) if isinstance(v, str) and v.replace('.', '', 1).isdigit() else v
        except ValueError:
            return v
    return [{k: value(v) for k, v in row.items() if k not in ('updatedAt', 'total')}
            for row in rows]


class Imported(unittest.TestCase):
    """The fixture imported with --rows and --app-dir into a fresh site."""

    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.src = source(cls.site)
        cls.out = nb_import(cls.site, cls.src, '--rows', '--app-dir', app_dir(cls.site))
        if cls.out.returncode != 3:
            cls.site.close()
            raise AssertionError('import: exit %d\n%s%s' % (
                cls.out.returncode, cls.out.stdout, cls.out.stderr))
        cls.server = start_lighttpd(cls.site)
        cls.root = sign_in(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def get(self, path):
        r = self.server.request('GET', path, token=self.root)
        self.assertEqual(r.status, 200, diagnose(r))
        return r.data

    def test_summary_lists_what_did_not_move(self):
        out = self.out.stdout
        self.assertIn('regions: the collection template "tree" is not supported',
                      lines(out, 'skipped', 'collection'))
        self.assertIn('notes.total: the field type "formula" is not supported',
                      lines(out, 'skipped', 'field'))
        self.assertIn('notes: imported without 1 field(s) (above)',
                      lines(out, 'changed', 'collection'))
        node = lines(out, 'skipped', 'node')
        self.assertEqual(len(node), 1, out)
        self.assertIn('"count samples" of workflow %d: the node type "aggregate" is '
                      'not supported' % WF['sum']['id'], node[0])
        self.assertTrue(any(l.startswith('"sum" (key %s' % WF['sum']['key']) and
                            'imported disabled' in l
                            for l in lines(out, 'changed', 'workflow')), out)
        self.assertTrue(any('the trigger type "collection" is not supported' in l
                            for l in lines(out, 'skipped', 'workflow')), out)
        for role in ('root', 'admin', 'member'):
            self.assertTrue(any(l.startswith(role + ': replaces the fresh site')
                                for l in lines(out, 'changed', 'role')), out)
        self.assertIn('TOKEN (secret, decrypted)', lines(out, 'imported', 'variable'))
        t = totals(out)
        self.assertEqual(t['total'][2], 4, out)
        self.assertEqual((t['workflows'], t['users']), ((19, 1, 1), (3, 1, 0)), out)

    def test_nocobase_answers_replayed(self):
        """The calls NocoBase answered in expected.json, in order: the same
        status and the same answer, then the same rows."""
        tok = dict(TOKENS, root=self.root)
        for call in EXPECTED['calls']:
            with self.subTest(call['name']):
                r = self.server.request(call['method'], call['path'], json=call['body'],
                                        token=tok.get(call['token']), role=call['role'],
                                        headers={'X-Authenticator': 'basic'})
                self.assertEqual(r.status, call['status'], diagnose(r))
                self.same_answer(call['answer'], r.json)
        self.wait_async()
        for coll, cols in ((c, list(rows[0])) for c, rows in EXPECTED['rows'].items()):
            got = [{k: row.get(k) for k in cols}
                   for row in self.get('%s:list?paginate=false&sort=id' % coll)]
            self.assertEqual(got, EXPECTED['rows'][coll], coll)

    def same_answer(self, want, got):
        if want is None or 'errors' in want:
            want_e = [(e['message'], e.get('code')) for e in (want or {}).get('errors', [])]
            got_e = [(e['message'], e.get('code') if 'code' in w else None)
                     for e, w in zip((got or {}).get('errors', []),
                                     (want or {}).get('errors', []))]
            self.assertEqual(got_e, want_e)
            return
        data = want.get('data')
        if isinstance(data, list):
            # the same rows with the same fields (the workflows' writes
            # moved updatedAt on both sides at other times)
            self.assertEqual(comparable(got['data']), comparable(data))
        elif isinstance(data, dict):
            user = data.get('user', data)
            gu = got['data'].get('user', got['data'])
            self.assertEqual((gu['id'], gu['username'], gu['email']),
                             (user['id'], user['username'], user['email']))
        else:
            self.assertEqual(got, want)

    def wait_async(self):
        """The notify workflow runs after its answer: wait for its execution."""
        f = json.dumps({'workflowId': WF['notify']['id']})
        for _ in range(100):
            ex = self.get('executions:list?filter=%s' % f)
            if ex and ex[-1]['status'] is not None and ex[-1]['status'] != 0:
                return ex[-1]
            time.sleep(0.05)
        self.fail('the async workflow did not run')

    def test_unsupported_node_workflow_is_disabled(self):
        wf = self.get('workflows:get/%d' % WF['sum']['id'])
        self.assertEqual((wf['key'], wf['enabled'], wf['current']),
                         (WF['sum']['key'], False, True))
        nodes = self.get('workflows/%d/nodes:list' % WF['sum']['id'])
        self.assertEqual([n['type'] for n in nodes], ['aggregate'], 'kept in the graph')
        r = self.server.request('POST', 'samples:trigger/1?triggerWorkflows=%s'
                                % WF['sum']['key'], token=self.root)
        self.assertEqual(r.status, 500, diagnose(r))
        self.assertEqual(r.errors[0]['code'], 'NO_WORKFLOW_MATCHED')
        self.assertIn('disabled', r.errors[0]['reason'])

    def test_ids_versions_links_and_associations_kept(self):
        versions = self.get('workflows:list?sort=id&filter=%s' % json.dumps(
            {'key': WF['versioned']['key']}))
        self.assertEqual([(v['enabled'], v['current']) for v in versions],
                         [(False, None), (True, True)])
        self.assertEqual(versions[1]['id'], WF['versioned']['id'])
        grade = {n['title']: n for n in
                 self.get('workflows/%d/nodes:list' % WF['grade']['id'])}
        cond = grade['big?']
        self.assertEqual((grade['mark big']['upstreamId'], grade['mark big']['branchIndex']),
                         (cond['id'], 1))
        self.assertEqual((grade['mark small']['upstreamId'],
                          grade['mark small']['branchIndex']), (cond['id'], 0))
        self.assertEqual(cond['downstreamId'], grade['say']['id'])
        post = self.get('posts:get/2?appends=tags,category')
        self.assertEqual(([t['title'] for t in post['tags']], post['category']['title']),
                         (['red', 'green'], 'Cat 1'))
        cat = self.get('categories:get/1?appends=detail,posts')
        self.assertEqual((cat['detail']['note'], len(cat['posts'])),
                         ('the first category', 2))
        # the sequences go on after NocoBase's ids
        r = self.server.request('POST', 'tags:create', json={'title': 'new'},
                                token=self.root)
        self.assertEqual((r.status, r.data and r.data['id']), (200, 4), diagnose(r))

    def test_trigger_config_as_nocobase_had_it(self):
        """setup.sh's "main:samples" workflow: NocoBase 2.2.15 never runs it
        from samples:trigger (500, No action done); it moves unchanged and
        answers the same."""
        key = EXPECTED['state']['K_MAINPFX']
        wf = self.get('workflows:list?filter=%s' % json.dumps({'key': key}))[0]
        self.assertEqual(wf['config']['collection'], 'main:samples')
        r = self.server.request('POST', 'samples:trigger/1?triggerWorkflows=%s' % key,
                                token=self.root)
        self.assertEqual((r.status, r.errors and r.errors[0]['message']),
                         (500, 'No action done, please contact the administrator'),
                         diagnose(r))

    def test_environment_variables(self):
        rows = self.site.sql('SELECT name, value FROM "environmentVariables" ORDER BY name')
        self.assertEqual(rows, [['GREETING', 'hello'], ['TOKEN', 's3cret']])


class Tokens(unittest.TestCase):
    """The token secret, both ways: --app-dir (APP_KEY, or jwt_secret.dat's
    raw bytes) and FLOWCGI_APP_KEY."""

    def check(self, site, token, env=None):
        return CGIClient(site, env).request('GET', 'auth:check', token=token)

    def test_raw_jwt_secret(self):
        with Site() as site:
            out = nb_import(site, source(site), '--app-dir', app_dir(site, 'app-raw'))
            self.assertEqual(out.returncode, 3, out.stderr)
            self.assertIn('jwt_secret.dat', ''.join(lines(out.stdout, 'changed', 'setting')))
            r = self.check(site, TOKENS['alice_raw_secret'])
            self.assertEqual((r.status, r.data and r.data['username']), (200, 'alice'),
                             diagnose(r))
            r = self.check(site, TOKENS['alice'])
            self.assertEqual((r.status, r.errors[0]['code']), (401, 'INVALID_TOKEN'))

    def test_flowcgi_app_key(self):
        with Site() as site:
            out = nb_import(site, source(site))
            self.assertEqual(out.returncode, 3, out.stderr)
            self.assertIn('FLOWCGI_APP_KEY', out.stdout)
            self.assertIn('TOKEN: a secret NocoBase encrypted',
                          ''.join(lines(out.stdout, 'skipped', 'variable')))
            r = self.check(site, TOKENS['alice'])
            self.assertEqual(r.status, 401, 'the secret did not move')
            env = {'FLOWCGI_APP_KEY': app_key()}
            r = self.check(site, TOKENS['alice'], env)
            self.assertEqual((r.status, r.data and r.data['id']), (200, 3), diagnose(r))
            r = self.check(site, TOKENS['bob_signed_out'], env)
            self.assertEqual((r.status, r.errors[0]['code']), (401, 'BLOCKED_TOKEN'))


class Safety(unittest.TestCase):
    """Dry runs, refusals and one transaction."""

    def tables(self, site):
        """A fingerprint of what the target holds (three statements: each
        is a process of its own)."""
        tables = ('roles', 'users', 'rolesUsers', 'workflows', 'flow_nodes',
                  '_flowcgi_meta', '_flowcgi_collections', 'tokenBlacklist')
        counts = site.sql('SELECT %s' % ', '.join(
            '(SELECT count(*) FROM "%s")' % t for t in tables))[0]
        return (dict(zip(tables, counts)),
                site.sql("SELECT key, value FROM _flowcgi_meta WHERE key LIKE 'app_secret%' "
                         "ORDER BY key"),
                site.sql('SELECT name FROM roles ORDER BY name'))

    def test_dry_run_writes_nothing(self):
        with Site() as site:
            before = self.tables(site)
            # refusals first: not NocoBase, no --from, not nocobase
            out = nb_import(site, site.db)
            self.assertEqual(out.returncode, 1)
            self.assertIn('is not a NocoBase 2.2 database: it has no table "collections"',
                          out.stderr)
            self.assertEqual(site.cli('import', 'nocobase').returncode, 2)
            out = nb_import(site, 'mysql://nocobase:secret@db/nocobase')
            self.assertEqual(out.returncode, 1)
            self.assertIn('not mysql://', out.stderr)
            self.assertNotIn('secret', out.stderr)
            self.assertEqual(site.cli('import', 'strapi', '--from', 'x').returncode, 2)
            out = nb_import(site, source(site), '--rows', '--dry-run', '--app-dir',
                            app_dir(site))
            self.assertEqual(out.returncode, 3, out.stderr)
            self.assertIn('dry run: nothing was written', out.stdout)
            self.assertEqual(lines(out.stdout, 'imported', 'rows')[0], 'samples: 2 row(s)')
            self.assertEqual(totals(out.stdout)['total'][2], 4, out.stdout)
            self.assertEqual(self.tables(site), before)

    def test_merge_and_one_transaction(self):
        """A site that is not empty: refused without --merge; with it, a
        failure late in the import (a user whose email the target's user 99
        has) leaves the target as it was; then it lands, NocoBase's rows
        replacing the target's of the same keys."""
        with Site() as site:
            src = source(site)
            r = site.cli('user', 'add', '--username', 'alice2', '--email',
                         'alice@example.com', '--password', 'pw-123456')
            self.assertEqual(r.returncode, 0, r.stderr)
            site.sql('UPDATE users SET id = 99 WHERE username = \'alice2\'')
            site.sql('UPDATE "rolesUsers" SET "userId" = 99 WHERE "userId" = 2')
            before = self.tables(site)
            out = nb_import(site, src)
            self.assertEqual(out.returncode, 1)
            self.assertIn('the target is not empty: users has 2 row(s)', out.stderr)
            self.assertIn('--merge', out.stderr)
            out = nb_import(site, src, '--merge', '--rows', '--app-dir', app_dir(site))
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn('nothing written', out.stderr)
            self.assertIn('email', out.stderr)
            self.assertEqual(self.tables(site), before)
            site.sql('UPDATE users SET email = \'a2@example.com\' WHERE id = 99')
            out = nb_import(site, src, '--merge', '--rows')
            self.assertEqual(out.returncode, 3, out.stderr)
            self.assertIn("1 nocobase <admin@nocobase.com>: replaces the target's",
                          lines(out.stdout, 'changed', 'user'))
            self.assertEqual(site.sql('SELECT id, username FROM users ORDER BY id'),
                             [[1, 'nocobase'], [2, 'member'], [3, 'alice'], [4, 'bob'],
                              [99, 'alice2']])
            self.assertIn('admin: replaces the target\'s', '\n'.join(
                lines(out.stdout, 'changed', 'role')))

    def test_nothing_skipped_exits_0(self):
        with Site() as site:
            src = source(site, UNSUPPORTED)
            digest = None if site.pg else hashlib.sha256(open(src, 'rb').read()).hexdigest()
            out = nb_import(site, src, '--rows', '--app-dir', app_dir(site))
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertEqual(totals(out.stdout)['total'][2], 0, out.stdout)
            if digest:
                self.assertEqual(hashlib.sha256(open(src, 'rb').read()).hexdigest(), digest,
                                 'the source is only read')


if __name__ == '__main__':
    unittest.main()
