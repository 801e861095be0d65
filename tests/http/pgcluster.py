"""A scratch PostgreSQL 15 cluster for the tests: initdb + pg_ctl from
Debian's postgresql-15, in a temporary directory, listening on a free
loopback port, run as the `postgres` user when the tests run as root.

    cluster = pgcluster.get()          # started once per test run, stopped at exit
    uri = cluster.create_database()    # a fresh database: postgresql://flowcgi:...@127.0.0.1:PORT/db_N
    rows = cluster.sql(uri, 'SELECT 1')   # psql -At, as the superuser
    cluster.stop()

Connections from the program use a password (scram-sha-256), so the tests
also see that it never leaks a URI's password.
"""

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

PG_BIN = '/usr/lib/postgresql/15/bin'
USER = 'flowcgi'
PASSWORD = 'pg-test-secret-7f3a'
IS_ROOT = os.geteuid() == 0

_lock = threading.Lock()
_cluster = None


class ClusterError(Exception):
    pass


def available():
    return os.access(os.path.join(PG_BIN, 'initdb'), os.X_OK)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _as_postgres():
    if not IS_ROOT:
        return {}
    pw = pwd.getpwnam('postgres')
    return {'user': pw.pw_uid, 'group': pw.pw_gid, 'extra_groups': []}


class Cluster:
    def __init__(self):
        if not available():
            raise ClusterError('PostgreSQL 15 is missing: install postgresql-15 '
                               '(scripts/deps.sh does)')
        self.base = tempfile.mkdtemp(prefix='flowcgi-pg-', dir='/tmp')
        os.chmod(self.base, 0o755)
        self.data = os.path.join(self.base, 'data')
        self.sock = os.path.join(self.base, 'sock')
        os.mkdir(self.sock)
        os.chmod(self.sock, 0o777)
        if IS_ROOT:
            pw = pwd.getpwnam('postgres')
            for p in (self.base, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self.port = _free_port()
        self.count = 0
        self.proc_env = {'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'HOME': self.base}
        self._run([os.path.join(PG_BIN, 'initdb'), '-D', self.data, '-U', 'postgres',
                   '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8',
                   '--locale=C.UTF-8', '--no-instructions'])
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write("\nlisten_addresses = '127.0.0.1'\nport = %d\n"
                    "unix_socket_directories = '%s'\nmax_connections = 300\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "shared_buffers = 64MB\nlog_min_messages = warning\n"
                    "logging_collector = off\n" % (self.port, self.sock))
        self.log = os.path.join(self.base, 'postgres.log')
        self._run([os.path.join(PG_BIN, 'pg_ctl'), '-D', self.data, '-l', self.log,
                   '-w', '-t', '60', 'start'])
        self.running = True
        self.sql(None, "CREATE ROLE %s LOGIN PASSWORD '%s' CREATEDB" % (USER, PASSWORD))

    def _run(self, cmd, input=None, check=True):
        r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           env=self.proc_env, cwd=self.base, timeout=120,
                           **_as_postgres())
        if check and r.returncode:
            raise ClusterError('%s failed (%d): %s%s' % (' '.join(cmd), r.returncode,
                                                          r.stdout, r.stderr))
        return r

    def uri(self, dbname, password=True):
        auth = '%s:%s' % (USER, PASSWORD) if password else USER
        return 'postgresql://%s@127.0.0.1:%d/%s' % (auth, self.port, dbname)

    def create_database(self):
        with _lock:
            self.count += 1
            name = 'flowcgi_%d_%d' % (os.getpid(), self.count)
        self.sql(None, 'CREATE DATABASE %s OWNER %s' % (name, USER))
        return self.uri(name)

    def drop_database(self, uri):
        name = urllib.parse.urlsplit(uri).path.lstrip('/')
        self.sql(None, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name, check=False)

    def sql(self, uri, statement, check=True):
        """Rows (lists of strings) of one statement, run by the superuser
        over the unix socket in uri's database (None: postgres)."""
        db = urllib.parse.urlsplit(uri).path.lstrip('/') if uri else 'postgres'
        r = self._run([os.path.join(PG_BIN, 'psql'), '-h', self.sock, '-p', str(self.port),
                       '-U', 'postgres', '-d', db, '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1',
                       '-c', statement], check=check)
        return [line.split('\t') for line in r.stdout.splitlines() if line]

    def load(self, uri, path):
        """Run the SQL script at path in uri's database as the superuser,
        then let the program's user read its tables, and only read them
        (they belong to the superuser): a source never written to."""
        with open(path, encoding='utf-8') as fh:
            script = fh.read()
        db = urllib.parse.urlsplit(uri).path.lstrip('/')
        self._run([os.path.join(PG_BIN, 'psql'), '-h', self.sock, '-p', str(self.port),
                   '-U', 'postgres', '-d', db, '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'],
                  input=script)
        self.sql(uri, 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s' % USER)

    def pause(self):
        """Stop the server, keeping its data (a database that went away)."""
        self._run([os.path.join(PG_BIN, 'pg_ctl'), '-D', self.data, '-m', 'fast',
                   '-w', 'stop'])

    def resume(self):
        self._run([os.path.join(PG_BIN, 'pg_ctl'), '-D', self.data, '-l', self.log,
                   '-w', '-t', '60', 'start'])

    def session(self, uri):
        """An interactive psql (text pipes) as the superuser in uri's
        database, for a test that holds a lock while it acts."""
        db = urllib.parse.urlsplit(uri).path.lstrip('/')
        return subprocess.Popen([os.path.join(PG_BIN, 'psql'), '-h', self.sock, '-p',
                                 str(self.port), '-U', 'postgres', '-d', db, '-At'],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.proc_env,
                                cwd=self.base, **_as_postgres())

    def stop(self):
        if not self.running:
            return
        self.running = False
        self._run([os.path.join(PG_BIN, 'pg_ctl'), '-D', self.data, '-m', 'immediate',
                   '-w', 'stop'], check=False)
        if not os.environ.get('FLOWCGI_KEEP'):
            shutil.rmtree(self.base, ignore_errors=True)


def get():
    """The run's cluster, started on first use."""
    global _cluster
    with _lock:
        if _cluster is None:
            _cluster = Cluster()
            atexit.register(_cluster.stop)
        return _cluster


def stop():
    with _lock:
        c = _cluster
    if c:
        c.stop()
