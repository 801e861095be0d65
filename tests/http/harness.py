"""Black-box test harness for flowcgi: temp sites, real web servers, plain CGI.

Python 3 standard library only. Typical use in a tests/http/test_*.py module:

    import unittest
    from harness import Site, start_lighttpd, start_apache, sign_in

    class Samples(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.site = Site()                        # temp dir + init --db ...
            cls.server = start_lighttpd(cls.site)    # or start_apache(cls.site)
            cls.token = sign_in(cls.server)

        @classmethod
        def tearDownClass(cls):
            cls.site.close()                         # stops its servers, removes the dir

        def test_list(self):
            r = self.server.request('GET', 'samples:list?pageSize=5', token=self.token)
            self.assertEqual(r.status, 200, r.text)

The program under test comes from tests/http/run.py (--prog), which sets
harness.PROG and the environment variable FLOWCGI_PROG.

Layout of a site (everything under one temp dir, mode 0755 so that www-data
can traverse it):
    BASE/cgi-bin/flowcgi.fcgi   a copy of the program
    BASE/console/               a copy of the web console (served at /console/)
    BASE/data/flowcgi.db        the database; data/ belongs to www-data
    BASE/logs/requests.log      the request log (FLOWCGI_LOG)
    BASE/run/                   the metrics' shared file (FLOWCGI_RUN_DIR)
    BASE/lighttpd-PORT/         one dir per lighttpd (conf, run/, logs/, tmp/)
    BASE/apache-PORT/           one dir per Apache (httpd.conf, run/, logs/)

When the tests run as root, the servers start as root and drop to www-data as
in a deployment (Apache refuses to run as root), and init/cli/CGI requests run
as www-data, so every file the program creates belongs to www-data.
"""

import atexit
import ctypes
import http.client
import json as _json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The program under test; run.py sets both.
PROG = os.environ.get('FLOWCGI_PROG') or None
SANITIZED = os.environ.get('FLOWCGI_SANITIZED') == '1'
# Keep temp dirs after the run (run.py --keep) for post-mortems.
KEEP = os.environ.get('FLOWCGI_KEEP') == '1'

IS_ROOT = os.geteuid() == 0
WWW_USER = 'www-data'
SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# Environment passed from the harness's own environment to the program.
PASS_ENV = ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS')
# What counts as a sanitizer report in any log or stderr we see.
SANITIZER_RE = re.compile(
    r'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|'
    r'ThreadSanitizer|runtime error:')

APACHE_BIN = shutil.which('apache2', path=SAFE_PATH) or '/usr/sbin/apache2'
LIGHTTPD_BIN = shutil.which('lighttpd', path=SAFE_PATH) or '/usr/sbin/lighttpd'

# (where, excerpt) for every sanitizer report found; run.py --sanitized fails
# the run when this is not empty.
sanitizer_reports = []
# The database every Site gets unless it asks for one: "sqlite" (a file in
# the site) or "pg" (a database in the run's scratch PostgreSQL cluster).
BACKEND = os.environ.get('FLOWCGI_TEST_BACKEND', 'sqlite')

# Every route (as the request log names it, "<collection>:list") that a
# request of this run reached, gathered from each site's request log when
# the site closes; PARTIAL: run.py ran only some tests (-k).
routes_seen = set()
PARTIAL = False
CURRENT_TEST = None          # set by run.py, recorded with reports

_lock = threading.RLock()
_live_servers = []
_live_sites = []


class HarnessError(Exception):
    """The harness could not do what was asked (start a server, init a site)."""


def program():
    """The program under test (harness.PROG or $FLOWCGI_PROG)."""
    p = PROG or os.environ.get('FLOWCGI_PROG')
    if not p:
        raise HarnessError('no program: run through tests/http/run.py --prog '
                           'PATH or set FLOWCGI_PROG')
    if not os.access(p, os.X_OK):
        raise HarnessError('program %s is missing or not executable' % p)
    return os.path.abspath(p)


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _www_ids():
    pw = pwd.getpwnam(WWW_USER)
    return pw.pw_uid, pw.pw_gid


def _as_www():
    """subprocess keyword arguments that run a child as www-data (root only)."""
    if not IS_ROOT:
        return {}
    uid, gid = _www_ids()
    return {'user': uid, 'group': gid, 'extra_groups': []}


def _mkdir(path, www=False, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if www and IS_ROOT:
        uid, gid = _www_ids()
        os.chown(path, uid, gid)
    return path


def scan_sanitizer(where, text):
    """Record sanitizer reports found in text; returns True if any."""
    if not text or not SANITIZER_RE.search(text):
        return False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if SANITIZER_RE.search(line):
            excerpt = '\n'.join(lines[max(0, i - 2):i + 30])
            with _lock:
                sanitizer_reports.append((where, CURRENT_TEST, excerpt))
            break
    return True


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


# ---------------------------------------------------------------- responses

class Headers:
    """Case-insensitive, multi-valued header map."""

    def __init__(self, pairs=()):
        self._pairs = [(str(k), str(v)) for k, v in pairs]

    def get(self, name, default=None):
        n = name.lower()
        for k, v in self._pairs:
            if k.lower() == n:
                return v
        return default

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self._pairs if k.lower() == n]

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name):
        return self.get(name) is not None

    def items(self):
        return list(self._pairs)

    def keys(self):
        return [k for k, _ in self._pairs]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._pairs)

    def __repr__(self):
        return 'Headers(%r)' % self._pairs


class Response:
    """One HTTP (or CGI) response: status, headers, body, json, text."""

    def __init__(self, status, headers, body, reason='', stderr='',
                 returncode=None):
        self.status = status
        self.reason = reason
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.body = body
        self.stderr = stderr            # CGI mode only: the program's stderr
        self.returncode = returncode    # CGI mode only: its exit status
        self.server = None              # the Server that answered (HTTP mode)
        try:
            self.json = _json.loads(body.decode('utf-8')) if body.strip() else None
        except ValueError:
            self.json = None

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    @property
    def data(self):
        """json['data'] when the body is a success envelope, else None."""
        return self.json.get('data') if isinstance(self.json, dict) else None

    @property
    def errors(self):
        """json['errors'] when the body is an error envelope, else []."""
        if isinstance(self.json, dict) and isinstance(self.json.get('errors'), list):
            return self.json['errors']
        return []

    def __repr__(self):
        t = self.text
        return '<Response %s %s>' % (self.status, t[:200] + ('...' if len(t) > 200 else ''))


# Left as they are in request targets: delimiters and existing %XX escapes.
_URL_SAFE = "/:?&=%[]!,$@+;*'()~"


def _encode_target(prefix, path, params=None):
    """URL path + query for `path` (like 'samples:list?x=1') under prefix.

    Characters that may not appear in a request line (spaces, quotes, braces
    of an inline JSON filter) are percent-encoded; existing %XX escapes and the
    usual delimiters are left alone.
    """
    path = path.lstrip('/')
    target = prefix.rstrip('/') + '/' + path if path else prefix
    target = urllib.parse.quote(target, safe=_URL_SAFE)
    if params:
        q = urllib.parse.urlencode(params, doseq=True)
        target += ('&' if '?' in target else '?') + q
    return target


def _request_parts(json=None, data=None, headers=None, token=None, role=None):
    body = None
    hdrs = {}
    if json is not None:
        body = _json.dumps(json).encode('utf-8')
        hdrs['Content-Type'] = 'application/json'
    elif data is not None:
        body = data.encode('utf-8') if isinstance(data, str) else bytes(data)
        hdrs['Content-Type'] = 'application/json'
    if token:
        hdrs['Authorization'] = 'Bearer ' + token
    if role:
        hdrs['X-Role'] = role
    for k, v in (headers or {}).items():
        for old in [h for h in hdrs if h.lower() == k.lower()]:
            del hdrs[old]
        if v is not None:
            hdrs[k] = v
    return body, hdrs


# ---------------------------------------------------------------- plain CGI

class CGIProtocolError(AssertionError):
    """The program's CGI output was not a CGI response."""


def parse_cgi_output(out):
    """Split CGI output into (status, reason, Headers, body)."""
    cut = [(i, n) for i, n in ((out.find(b'\r\n\r\n'), 4), (out.find(b'\n\n'), 2))
           if i >= 0]
    if not cut:
        raise CGIProtocolError('no blank line after the CGI headers')
    i, n = min(cut)
    head, body = out[:i].decode('latin-1'), out[i + n:]
    pairs = []
    for line in head.replace('\r\n', '\n').split('\n'):
        if ':' not in line:
            raise CGIProtocolError('bad CGI header line %r' % line)
        k, v = line.split(':', 1)
        pairs.append((k.strip(), v.strip()))
    hdrs = Headers(pairs)
    status, reason = 200, 'OK'
    st = hdrs.get('Status')
    if st:
        m = re.match(r'(\d{3})\s*(.*)', st)
        if not m:
            raise CGIProtocolError('bad Status header %r' % st)
        status, reason = int(m.group(1)), m.group(2)
    elif 'Location' in hdrs:
        status, reason = 302, 'Found'
    return status, reason, hdrs, body


def cgi_request(prog, env, method, path, query='', body=b'', headers=None,
                token=None, role=None, json=None, script_name='/api',
                user='auto', timeout=60):
    """Run prog once as plain CGI and return its Response.

    The environment is built from scratch (as `env -i` would): the CGI
    variables for the request, every FLOWCGI_* entry of `env`, and the
    sanitizer options of the harness's own environment. `path` is the part
    after the mount point ('samples:get/1', may carry '?query');
    PATH_INFO='/samples:get/1' and SCRIPT_NAME=script_name. As root the
    program runs as www-data unless user=None.
    """
    if json is not None:
        body = _json.dumps(json).encode('utf-8')
    elif isinstance(body, str):
        body = body.encode('utf-8')
    body = body or b''
    if '?' in path:
        path, q2 = path.split('?', 1)
        query = q2 + ('&' + query if query else '')
    # QUERY_STRING as a web server passes it: still %-encoded, with the same
    # encoding Server.request applies, so one test path works in both modes.
    query = urllib.parse.quote(query, safe=_URL_SAFE)
    path = '/' + path.lstrip('/') if path else ''
    cenv = {
        'PATH': SAFE_PATH,
        'GATEWAY_INTERFACE': 'CGI/1.1',
        'SERVER_PROTOCOL': 'HTTP/1.1',
        'SERVER_SOFTWARE': 'flowcgi-harness',
        'SERVER_NAME': '127.0.0.1',
        'SERVER_ADDR': '127.0.0.1',
        'SERVER_PORT': '80',
        'REMOTE_ADDR': '127.0.0.1',
        'REMOTE_PORT': '40000',
        'REQUEST_METHOD': method,
        'SCRIPT_NAME': script_name,
        'QUERY_STRING': query,
        'REQUEST_URI': _encode_target(script_name or '/', path) +
                       ('?' + query if query else ''),
    }
    if path:
        cenv['PATH_INFO'] = urllib.parse.unquote(path)
    _, hdrs = _request_parts(headers=headers, token=token, role=role)
    if body:
        cenv['CONTENT_LENGTH'] = str(len(body))
        cenv['CONTENT_TYPE'] = 'application/json'
    for k, v in hdrs.items():
        lk = k.lower()
        if lk == 'content-type':
            cenv['CONTENT_TYPE'] = v
        elif lk == 'content-length':
            cenv['CONTENT_LENGTH'] = v
        else:
            cenv['HTTP_' + k.upper().replace('-', '_')] = v
    for k, v in (env or {}).items():
        if k.startswith('FLOWCGI_'):
            cenv[k] = str(v)
    for k in PASS_ENV:
        if k in os.environ:
            cenv[k] = os.environ[k]
    kw = _as_www() if user == 'auto' else {}
    p = subprocess.run([prog], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=cenv, timeout=timeout,
                       cwd=os.path.dirname(prog), **kw)
    err = p.stderr.decode('utf-8', 'replace')
    scan_sanitizer('CGI stderr of %s %s' % (method, path), err)
    try:
        status, reason, rh, rb = parse_cgi_output(p.stdout)
    except CGIProtocolError as e:
        raise CGIProtocolError('%s %s: %s (exit %s)\nstdout: %r\nstderr: %s' % (
            method, path, e, p.returncode, p.stdout[:500], err[-2000:])) from None
    return Response(status, rh, rb, reason, stderr=err, returncode=p.returncode)


class CGIClient:
    """The Server.request interface, served by one plain-CGI run per request."""

    kind = 'cgi'

    def __init__(self, site, extra_env=None):
        self.site = site
        self.extra_env = dict(extra_env or {})
        self.url = 'cgi:' + site.prog

    def request(self, method, path, json=None, data=None, headers=None,
                token=None, role=None, timeout=30, params=None):
        body, hdrs = _request_parts(json, data, headers, token, role)
        if params:
            path += ('&' if '?' in path else '?') + urllib.parse.urlencode(params, doseq=True)
        env = dict(self.site.env)
        env.update(self.extra_env)
        return cgi_request(self.site.prog, env, method, path, body=body or b'',
                           headers=hdrs, timeout=timeout)

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, **kw):
        return self.request('POST', path, **kw)


# ---------------------------------------------------------------- sites

class Site:
    """A temp directory with a copy of the program and an initialised DB.

    site.base, site.prog (the copy www-data runs), site.db, site.env (the
    FLOWCGI_* environment for servers), site.cli(*args), site.cgi (a
    CGIClient). init=False skips `init` (for programs that are not flowcgi).
    """

    def __init__(self, prog=None, init=True, root_password='admin123',
                 env=None, init_args=(), backend=None, cluster=None):
        self.src = os.path.abspath(prog) if prog else program()
        self.base = tempfile.mkdtemp(prefix='flowcgi-test-', dir='/tmp')
        os.chmod(self.base, 0o755)
        self.servers = []
        self.closed = False
        with _lock:
            _live_sites.append(self)
        try:
            _mkdir(os.path.join(self.base, 'cgi-bin'))
            self.prog = os.path.join(self.base, 'cgi-bin', 'flowcgi.fcgi')
            shutil.copy(self.src, self.prog)
            os.chmod(self.prog, 0o755)
            # The web console, where the shipped server configurations serve
            # it from (<home>/console at /console/).
            console = os.path.join(REPO, 'console')
            if os.path.isdir(console):
                shutil.copytree(console, os.path.join(self.base, 'console'))
            self.data = _mkdir(os.path.join(self.base, 'data'), www=True)
            self.backend = backend or BACKEND
            if self.backend == 'pg':
                import pgcluster
                self.pg = cluster or pgcluster.get()
                self.db = self.pg.create_database()
            else:
                self.pg = None
                self.db = os.path.join(self.data, 'flowcgi.db')
            self.logs = _mkdir(os.path.join(self.base, 'logs'), www=True)
            self.request_log = os.path.join(self.logs, 'requests.log')
            # The metrics' shared file, gone with the site.
            self.run_dir = _mkdir(os.path.join(self.base, 'run'), www=True, mode=0o700)
            self.env = {'FLOWCGI_DB': self.db, 'FLOWCGI_LOG': self.request_log,
                        'FLOWCGI_RUN_DIR': self.run_dir}
            self.env.update(env or {})
            self.cgi = CGIClient(self)
            if init:
                args = ['init', '--root-password', root_password] + list(init_args)
                r = self.cli(*args)
                if r.returncode != 0:
                    raise HarnessError('%s init failed (exit %d)\nstdout: %s\nstderr: %s'
                                       % (self.src, r.returncode, r.stdout, r.stderr))
                self.init_output = r
        except BaseException:
            self.close()
            raise

    def cli(self, *args, env=None, input=None, timeout=120, db=True):
        """Run the program with args (+ --db DB) as a command; CompletedProcess (text)."""
        cmd = [self.prog] + [str(a) for a in args]
        if db:
            cmd += ['--db', self.db]
        cenv = {'PATH': SAFE_PATH, 'HOME': self.base, 'LANG': 'C.UTF-8'}
        cenv.update({k: str(v) for k, v in self.env.items()})
        for k in PASS_ENV:
            if k in os.environ:
                cenv[k] = os.environ[k]
        cenv.update({k: str(v) for k, v in (env or {}).items()})
        r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           errors='replace', env=cenv, timeout=timeout,
                           cwd=self.base, **_as_www())
        scan_sanitizer('stderr of `%s`' % ' '.join(cmd[1:]), r.stderr)
        return r

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def sql(self, statement, params=()):
        """Rows of one SQL statement on the site's database (as its owner:
        www-data's file for SQLite, the superuser for PostgreSQL); `?`
        placeholders take params (test values only)."""
        if self.pg:
            stmt = _inline(statement, params)
            if not stmt.lstrip().lower().startswith('select'):
                return self.pg.sql(self.db, stmt)
            # typed values, in column order, as sqlite3 gives them
            out = self.pg.sql(self.db, "SELECT coalesce(json_agg(row_to_json(q)), '[]') "
                                       'FROM (%s) q' % stmt)
            return [list(r.values()) for r in _json.loads(out[0][0])]
        code = ('import json, sqlite3, sys\n'
                'sql, params = json.loads(sys.stdin.read())\n'
                'c = sqlite3.connect(sys.argv[1], timeout=10)\n'
                'rows = c.execute(sql, params).fetchall()\n'
                'c.commit()\n'
                'print(json.dumps(rows))\n')
        p = subprocess.run(['python3', '-c', code, self.db],
                           input=_json.dumps([statement, list(params)]),
                           capture_output=True, text=True, timeout=30, **_as_www())
        if p.returncode:
            raise HarnessError('sqlite: %s' % p.stderr)
        return _json.loads(p.stdout)

    def request_log_lines(self):
        """The request log so far, one dict per line (every process's)."""
        out = []
        for line in _read(self.request_log).splitlines():
            try:
                out.append(_json.loads(line))
            except ValueError:
                raise HarnessError('request log line is not JSON: %r' % line)
        return out

    def close(self):
        """Stop this site's servers and remove its directory (unless KEEP)."""
        for s in list(self.servers):
            s.stop()
        if not self.closed:
            for line in self.request_log_lines():
                if line.get('route'):
                    routes_seen.add(line['route'])
            self.closed = True
            with _lock:
                if self in _live_sites:
                    _live_sites.remove(self)
            if KEEP:
                sys.stderr.write('harness: kept %s\n' % self.base)
            else:
                shutil.rmtree(self.base, ignore_errors=True)
                if getattr(self, 'pg', None) and self.pg.running:
                    self.pg.drop_database(self.db)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- processes

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper():
    # Orphaned server processes (FastCGI children whose server already
    # exited) are re-parented to us instead of PID 1, so we can reap them.
    try:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:
        pass


_become_subreaper()


def _proc_stat(pid):
    """(state, ppid, starttime) of pid, or None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            s = f.read().decode('latin-1')
    except OSError:
        return None
    rest = s[s.rfind(')') + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])


def _what_it_does(pid):
    """A line for a test failure: a process's command, state, parent, wait
    channel and signal masks, read from /proc."""
    out = ['pid %d %s' % (pid, _cmdline0(pid))]
    st = _proc_stat(pid)
    if st:
        out.append('state %s ppid %d' % (st[0], st[1]))
    for name in ('wchan',):
        try:
            with open('/proc/%d/%s' % (pid, name)) as f:
                out.append('%s %s' % (name, f.read().strip()))
        except OSError:
            pass
    try:
        with open('/proc/%d/status' % pid) as f:
            out += [l.strip() for l in f if l.startswith(('SigBlk', 'SigIgn', 'SigCgt'))]
    except OSError:
        pass
    return ', '.join(out)


def _all_pids():
    return [int(d) for d in os.listdir('/proc') if d.isdigit()]


def _descendants(root):
    """{pid: starttime} of every live descendant of root."""
    children = {}
    info = {}
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st:
            info[pid] = st
            children.setdefault(st[1], []).append(pid)
    out = {}
    todo = list(children.get(root, []))
    while todo:
        p = todo.pop()
        if p in out or p not in info:
            continue
        out[p] = info[p][2]
        todo.extend(children.get(p, []))
    return out


def _alive(pid, start):
    st = _proc_stat(pid)
    return bool(st) and st[2] == start and st[0] not in ('Z', 'X')


def _reap(pids):
    """Reap those of pids that are zombies and our children."""
    me = os.getpid()
    for pid in pids:
        st = _proc_stat(pid)
        if st and st[0] == 'Z' and st[1] == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _cmdline0(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')[0].decode('utf-8', 'replace')
    except OSError:
        return None


def _wait_port(port, proc, timeout, log_paths):
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise HarnessError('server exited with %s during startup:\n%s' % (
                proc.returncode, '\n'.join(_read(p)[-3000:] for p in log_paths)))
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1) as s:
                # Answered at the HTTP level: a request outside /api.
                s.sendall(b'GET /__harness_ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
                if s.recv(12).startswith(b'HTTP/'):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise HarnessError('server on port %d did not answer within %ss:\n%s' % (
                port, timeout, '\n'.join(_read(p)[-3000:] for p in log_paths)))
        time.sleep(0.02)


def _server_env():
    return {'PATH': SAFE_PATH, 'LANG': 'C'}


def _setpriv_prefix():
    # The server gets SIGTERM when the harness dies without cleaning up (even
    # by SIGKILL). The kernel sends it when the *thread* that started the
    # server ends, so this is only used from the main thread. It survives
    # exec but not a change of credentials: Apache's master stays root, and
    # lighttpd is started as www-data directly (see start_lighttpd).
    sp = shutil.which('setpriv', path=SAFE_PATH)
    if sp and threading.current_thread() is threading.main_thread():
        return [sp, '--pdeathsig', 'TERM', '--']
    return []


class Server:
    """A running web server serving the site's program at /api."""

    def __init__(self, kind, site, port, sdir, proc, logs, procs):
        self.kind = kind
        self.site = site
        self.port = port
        self.dir = sdir
        self.proc = proc
        self.pid = proc.pid
        self.logs = logs              # files that error_log() returns
        self.procs = procs
        self.url = 'http://127.0.0.1:%d/api' % port
        self.forced_kills = []        # PIDs that needed SIGKILL at stop()
        self.kill_notes = []          # what each of them was doing then
        self._seen = {}               # pid -> starttime of every process seen under us
        self._scanned = {}            # log path -> bytes already scanned for sanitizer reports
        self._local = threading.local()
        self._conns = []
        self._conns_lock = threading.Lock()

    # ---- requests

    def _conn(self, timeout):
        c = getattr(self._local, 'conn', None)
        if c is None:
            c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
            self._local.conn = c
            with self._conns_lock:
                self._conns.append(c)
            return c, False
        c.timeout = timeout
        if c.sock is not None:
            c.sock.settimeout(timeout)
        return c, True

    def _drop_conn(self):
        c = getattr(self._local, 'conn', None)
        if c is not None:
            c.close()
            self._local.conn = None
            with self._conns_lock:
                if c in self._conns:
                    self._conns.remove(c)

    def raw_request(self, method, target, body=None, headers=None, timeout=30):
        """Send target (a full URL path) as is; keep-alive per thread."""
        hdrs = dict(headers or {})
        hdrs.setdefault('Host', '127.0.0.1:%d' % self.port)
        for attempt in (0, 1):
            c, reused = self._conn(timeout)
            try:
                c.request(method, target, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, http.client.CannotSendRequest,
                    http.client.ResponseNotReady):
                self._drop_conn()
                # A kept-alive connection the server closed meanwhile: the
                # request never reached it, so send it again once.
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self._drop_conn()
                raise
            if r.will_close:
                self._drop_conn()
            resp = Response(r.status, Headers(r.getheaders()), data, r.reason)
            resp.server = self
            return resp

    def request(self, method, path, json=None, data=None, headers=None,
                token=None, role=None, timeout=30, params=None):
        """method + path under /api ('samples:list?x=1'); returns a Response.

        json: a value sent as JSON; data: raw body (bytes or str), sent as
        application/json unless headers say otherwise; token: Authorization:
        Bearer; role: X-Role; params: a dict appended as a query string.
        """
        body, hdrs = _request_parts(json, data, headers, token, role)
        return self.raw_request(method, _encode_target('/api', path, params),
                                body=body, headers=hdrs, timeout=timeout)

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, **kw):
        return self.request('POST', path, **kw)

    # ---- processes and logs

    def _snapshot(self):
        if self.proc.poll() is None:
            for pid, start in _descendants(self.pid).items():
                self._seen.setdefault(pid, start)

    def fcgi_pids(self):
        """PIDs of the live FastCGI processes running the site's program.

        (Apache starts them on the first request; lighttpd at startup.)
        """
        self._snapshot()
        out = []
        for pid, start in sorted(self._seen.items()):
            if _alive(pid, start) and _cmdline0(pid) == self.site.prog:
                out.append(pid)
        return out

    def error_log(self):
        """The text of the server's error log(s), FastCGI stderr included."""
        return '\n'.join(_read(p) for p in self.logs if os.path.exists(p))

    def log_tail(self, chars=2000):
        return self.error_log()[-chars:]

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def scan_logs(self):
        """Scan what the logs gained since the last scan for sanitizer reports."""
        for p in self.logs:
            try:
                with open(p, 'rb') as f:
                    f.seek(self._scanned.get(p, 0))
                    data = f.read()
            except OSError:
                continue
            # Only whole lines; the rest is scanned next time.
            cut = data.rfind(b'\n') + 1
            if cut:
                self._scanned[p] = self._scanned.get(p, 0) + cut
                scan_sanitizer('%s %s' % (self.kind, p), data[:cut].decode('utf-8', 'replace'))

    def stop(self, timeout=10):
        """Stop the server and its FastCGI processes, by PID; idempotent."""
        if self.proc is None:
            return
        with self._conns_lock:
            for c in self._conns:
                c.close()
            self._conns = []
        self._snapshot()
        if self.proc.poll() is None:
            try:
                # For Apache this is what `apache2 -k stop` does (SIGTERM to
                # the master in the pid file); lighttpd stops on SIGTERM too.
                # Both stop their FastCGI processes.
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.forced_kills.append(self.pid)
            self.proc.kill()
            self.proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            _reap(self._seen)
            if not any(_alive(p, s) for p, s in self._seen.items()):
                break
            time.sleep(0.05)
        for pid, start in self._seen.items():
            if _alive(pid, start):
                self.forced_kills.append(pid)
                self.kill_notes.append(_what_it_does(pid))
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p, s) for p, s in self._seen.items()):
            time.sleep(0.05)
        _reap(self._seen)
        self.proc = None
        self.scan_logs()
        for p in self.logs:     # a last line without a newline
            rest = _read(p)[self._scanned.get(p, 0):] if os.path.exists(p) else ''
            scan_sanitizer('%s %s' % (self.kind, p), rest)
        with _lock:
            if self in _live_servers:
                _live_servers.remove(self)
        if self in self.site.servers:
            self.site.servers.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return '<%s %s>' % (self.kind, self.url)


def _inline(statement, params):
    """statement with each ? replaced by a SQL literal of the next param."""
    out, it = [], iter(params)
    for part in statement.split('?'):
        out.append(part)
        out.append(None)
    out.pop()
    text = []
    for piece in out:
        if piece is not None:
            text.append(piece)
            continue
        v = next(it)
        if v is None:
            text.append('NULL')
        elif isinstance(v, bool):
            text.append('TRUE' if v else 'FALSE')
        elif isinstance(v, (int, float)):
            text.append(repr(v))
        else:
            text.append("'%s'" % str(v).replace("'", "''"))
    return ''.join(text)


def _program_env(site, extra_env):
    env = dict(site.env)
    for k in PASS_ENV:
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra_env or {})
    return {k: str(v) for k, v in env.items()}


def _launch(kind, site, cmd, port, sdir, logs, procs, startup_timeout, user_kw):
    out_log = os.path.join(sdir, 'logs', 'stdout.log')
    with open(out_log, 'ab') as out:
        proc = subprocess.Popen(_setpriv_prefix() + cmd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                env=_server_env(), cwd=sdir,
                                start_new_session=True, **user_kw)
    server = Server(kind, site, port, sdir, proc, logs + [out_log], procs)
    with _lock:
        _live_servers.append(server)
    site.servers.append(server)
    try:
        _wait_port(port, proc, startup_timeout, server.logs)
        if kind == 'lighttpd':
            # lighttpd spawns its FastCGI processes at startup: make sure they
            # stay up (a program that exits at once shows here, clearly).
            deadline = time.monotonic() + startup_timeout
            stable = 0
            while True:
                n = len(server.fcgi_pids())
                stable = stable + 1 if n == procs else 0
                if stable >= 3:
                    break
                if time.monotonic() > deadline or proc.poll() is not None or \
                        (n < procs and 'gw-backend failed to start' in server.error_log()):
                    raise HarnessError(
                        'lighttpd started, but %d of its %d FastCGI processes are running '
                        '(does the program exit at once?):\n%s' % (n, procs, server.log_tail()))
                time.sleep(0.03)
    except BaseException:
        server.stop()
        raise
    server._snapshot()
    return server


def _lighttpd_quote(v):
    return '"%s"' % str(v).replace('\\', '\\\\').replace('"', '\\"')


def _shipped_lighttpd_conf(values):
    """lighttpd-conf/flowcgi.conf with its var.flowcgi_* values replaced."""
    src = _read(os.path.join(REPO, 'lighttpd-conf', 'flowcgi.conf'))
    found = set()

    def sub(m):
        name = m.group(2)
        if name not in values:
            return m.group(0)
        found.add(name)
        return m.group(1) + values[name]
    out = re.sub(r'^(var\.flowcgi_(\w+)\s*=\s*)(.*)$', sub, src, flags=re.M)
    missing = set(values) - found
    if missing:
        raise HarnessError('lighttpd-conf/flowcgi.conf has no var.flowcgi_%s line'
                           % ', var.flowcgi_'.join(sorted(missing)))
    return out


def start_lighttpd(site, procs=2, extra_env=None, startup_timeout=10, port=None):
    """lighttpd + mod_fastcgi with `procs` FastCGI processes, on a free port."""
    port = port or free_port()
    sdir = _mkdir(os.path.join(site.base, 'lighttpd-%d' % port))
    _mkdir(os.path.join(sdir, 'htdocs'))
    for d in ('run', 'logs', 'tmp'):
        _mkdir(os.path.join(sdir, d), www=True)
    env = _program_env(site, extra_env)
    values = {
        'home': _lighttpd_quote(site.base),
        'db': _lighttpd_quote(site.db),
        'env': '( %s )' % ', '.join('%s => %s' % (_lighttpd_quote(k), _lighttpd_quote(v))
                                    for k, v in sorted(env.items())),
        'socket': _lighttpd_quote(os.path.join(sdir, 'run', 'flowcgi.sock')),
        'procs': str(int(procs)),
    }
    with open(os.path.join(sdir, 'flowcgi.conf'), 'w') as f:
        f.write(_shipped_lighttpd_conf(values))
    # As root, lighttpd is started as www-data rather than letting it drop
    # privileges itself (server.username): the processes end up the same
    # (master and FastCGI children as www-data), and the parent-death signal
    # survives, so a killed harness leaves no lighttpd behind.
    conf = _read(os.path.join(REPO, 'lighttpd-conf', 'lighttpd-test.conf.in'))
    conf = (conf.replace('@BASE@', site.base).replace('@DIR@', sdir)
            .replace('@PORT@', str(port)))
    conf_path = os.path.join(sdir, 'lighttpd.conf')
    with open(conf_path, 'w') as f:
        f.write(conf)
    logs = [os.path.join(sdir, 'logs', 'error.log'),
            os.path.join(sdir, 'logs', 'breakage.log')]
    return _launch('lighttpd', site, [LIGHTTPD_BIN, '-D', '-f', conf_path],
                   port, sdir, logs, procs, startup_timeout, _as_www())


def _apache_quote(v):
    return '"%s"' % str(v).replace('\\', '\\\\').replace('"', '\\"')


def start_apache(site, procs=4, extra_env=None, startup_timeout=10, port=None):
    """Apache 2.4 (event MPM) + mod_fcgid, at most `procs` FastCGI processes.

    mod_fcgid starts the processes on demand, one request at a time each, and
    a request that finds them all busy waits 1 s before a new one is spawned
    (hosting.md, gotcha 1): keep a test's concurrency at or below `procs`.
    """
    port = port or free_port()
    sdir = _mkdir(os.path.join(site.base, 'apache-%d' % port))
    _mkdir(os.path.join(sdir, 'htdocs'))
    for d in ('run', 'logs'):
        _mkdir(os.path.join(sdir, d), www=True)
    env = _program_env(site, extra_env)
    env_lines = '\n'.join('    FcgidInitialEnv %s %s' % (k, _apache_quote(v))
                          for k, v in sorted(env.items()) if k != 'FLOWCGI_DB')
    if 'FLOWCGI_DB' in env and env['FLOWCGI_DB'] != site.db:
        env_lines += '\n    FcgidInitialEnv FLOWCGI_DB %s' % _apache_quote(env['FLOWCGI_DB'])
    user = 'User www-data\nGroup www-data' if IS_ROOT else ''
    conf = _read(os.path.join(REPO, 'apache-conf', 'httpd-test.conf.in'))
    conf = (conf.replace('@BASE@', site.base).replace('@DIR@', sdir)
            .replace('@REPO@', REPO).replace('@PORT@', str(port))
            .replace('@USER@', user).replace('@PROCS@', str(int(procs)))
            .replace('@DB@', site.db).replace('@ENV@', env_lines))
    conf_path = os.path.join(sdir, 'httpd.conf')
    with open(conf_path, 'w') as f:
        f.write(conf)
    logs = [os.path.join(sdir, 'logs', 'error.log')]
    return _launch('apache', site, [APACHE_BIN, '-f', conf_path, '-DFOREGROUND'],
                   port, sdir, logs, procs, startup_timeout, {})


def start_server(kind, site, **kw):
    """start_lighttpd or start_apache by name ('lighttpd' | 'apache')."""
    return {'lighttpd': start_lighttpd, 'apache': start_apache}[kind](site, **kw)


def scan_live_logs():
    """Scan the new log output of every running server (run.py, after each test)."""
    with _lock:
        servers = list(_live_servers)
    for s in servers:
        s.scan_logs()


def cleanup_all():
    """Stop every server and remove every site still alive (atexit too)."""
    with _lock:
        servers = list(_live_servers)
        sites = list(_live_sites)
    for s in servers:
        try:
            s.stop()
        except Exception as e:  # keep going: the others must stop too
            sys.stderr.write('harness: stopping %r: %s\n' % (s, e))
    for s in sites:
        s.close()


atexit.register(cleanup_all)


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


if threading.current_thread() is threading.main_thread() and \
        signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _on_sigterm)


# ---------------------------------------------------------------- API helpers

class SetupError(AssertionError):
    """An API call needed to set up a test answered something unexpected."""


def diagnose(r):
    """Text for an assertion message: the response, plus the server's log
    tail (or the CGI stderr) when the answer was a 5xx."""
    msg = '%s %s' % (r.status, r.text[:500])
    if r.status >= 500:
        if r.server is not None:
            msg += '\n--- %s log tail:\n%s' % (r.server.kind, r.server.log_tail(1500))
        elif r.stderr:
            msg += '\n--- stderr:\n%s' % r.stderr[-1500:]
    return msg


def expect(r, what, status=200):
    """r if r.status == status, else SetupError naming the step and the answer."""
    if r.status != status:
        raise SetupError('%s: expected %d, got %s' % (what, status, diagnose(r)))
    return r


def sign_in(server, account='admin@nocobase.com', password='admin123'):
    """POST auth:signIn (basic authenticator); returns data.token."""
    r = server.request('POST', 'auth:signIn', json={'account': account, 'password': password},
                       headers={'X-Authenticator': 'basic'})
    expect(r, 'auth:signIn as %s' % account)
    tok = (r.data or {}).get('token') if isinstance(r.data, dict) else None
    if not tok:
        raise SetupError('auth:signIn: no data.token in %s' % r.text[:500])
    return tok


def setup_samples(server, token, collection='samples'):
    """The demo used by bench and memcheck, made over the HTTP API.

    A collection `samples` (title string, indicator integer), one row, and an
    enabled synchronous custom-action workflow with one update node that
    copies $context.data.indicator into the row. Returns
    {'collection', 'row_id', 'workflow_id', 'key'}; raises SetupError naming
    the step that failed.
    """
    expect(server.request('POST', 'collections:create', token=token, json={
        'name': collection,
        'fields': [{'name': 'title', 'type': 'string'},
                   {'name': 'indicator', 'type': 'integer'}]}),
        'collections:create %s' % collection)
    r = expect(server.request('POST', '%s:create' % collection, token=token,
                              json={'title': 'first', 'indicator': 1}),
               '%s:create' % collection)
    row_id = (r.data or {}).get('id')
    if row_id is None:
        raise SetupError('%s:create: no data.id in %s' % (collection, r.text[:300]))
    r = expect(server.request('POST', 'workflows:create', token=token, json={
        'title': 'bench', 'type': 'custom-action', 'sync': True, 'enabled': False,
        'config': {'type': 1, 'collection': collection}}), 'workflows:create')
    wf = r.data or {}
    if 'id' not in wf or 'key' not in wf:
        raise SetupError('workflows:create: no data.id/data.key in %s' % r.text[:300])
    expect(server.request('POST', 'workflows/%s/nodes:create' % wf['id'], token=token, json={
        'type': 'update', 'title': 'u', 'config': {
            'collection': collection,
            'params': {'filter': {'id': '{{$context.data.id}}'},
                       'values': {'indicator': '{{$context.data.indicator}}'}}}}),
        'workflows/%s/nodes:create' % wf['id'])
    expect(server.request('POST', 'workflows:update?filterByTk=%s' % wf['id'], token=token,
                          json={'enabled': True}), 'workflows:update enabled')
    r = expect(server.request('POST', '%s:trigger/%s?triggerWorkflows=%s'
                              % (collection, row_id, wf['key']), token=token,
                              json={'indicator': 2}), 'first trigger')
    return {'collection': collection, 'row_id': row_id,
            'workflow_id': wf['id'], 'key': wf['key']}
