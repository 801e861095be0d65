"""The web console (console/): served at /console/ with a strict CSP by the
shipped lighttpd and Apache configurations, and driven in a real browser.

The browser part runs in /usr/bin/python3 (Debian's python3-selenium lives
there; this runner may be another python3): console_browser.py drives
headless Chromium through signing in, the workflows list, a workflow's
drawing, the trigger form, the new execution and its jobs, the executions
list, a failed execution, enable/disable, a role without permission and
signing out, and saves PNG screenshots in build/console-screenshots/.
"""

import json
import os
import re
import shutil
import subprocess
import unittest

import harness
from harness import Site, diagnose, expect, sign_in, start_apache, start_lighttpd
from console_data import run_some, setup_console_data

SYSTEM_PYTHON = '/usr/bin/python3'
CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
BROWSER_SCRIPT = os.path.join(harness.HERE, 'console_browser.py')

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

CONSOLE_FILES = {
    'index.html': 'text/html',
    'app.js': 'text/javascript',
    'api.js': 'text/javascript',
    'drawing.js': 'text/javascript',
    'config.js': 'text/javascript',
    'app.css': 'text/css',
    'favicon.svg': 'image/svg+xml',
}


# The browser sees static files and the same API on either database: it
# runs in the SQLite passes (plain and sanitized), which keeps make test
# inside CI's time.
browser_pass = unittest.skipUnless(harness.BACKEND == 'sqlite',
                                   'the browser runs in the SQLite passes')


def missing_browser():
    """What the browser test needs and this machine lacks (Debian packages)."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append('chromium (%s)' % CHROMIUM)
    if not os.access(CHROMEDRIVER, os.X_OK):
        missing.append('chromium-driver (%s)' % CHROMEDRIVER)
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        missing.append('python3 (%s)' % SYSTEM_PYTHON)
    else:
        r = subprocess.run([SYSTEM_PYTHON, '-c', 'import selenium'], capture_output=True,
                           text=True)
        if r.returncode != 0:
            missing.append('python3-selenium (for %s)' % SYSTEM_PYTHON)
    return missing


def screenshot_dir():
    d = os.environ.get('FLOWCGI_SCREENSHOTS')
    if d:
        return os.path.abspath(d)
    return os.path.join(harness.REPO, 'build-asan' if harness.SANITIZED else 'build',
                        'console-screenshots')


class _ConsoleServing:
    """/console/ as the shipped configuration serves it."""
    start = None

    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = cls.start(cls.site)
        cls.root = 'http://127.0.0.1:%d' % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def get(self, path):
        return self.server.raw_request('GET', path)

    def test_console_files_with_csp(self):
        for name, ctype in sorted(CONSOLE_FILES.items()):
            r = self.get('/console/' + name)
            self.assertEqual(r.status, 200, '%s: %s' % (name, r.text[:200]))
            self.assertTrue(r.headers.get('Content-Type', '').startswith(ctype),
                            '%s: Content-Type %r' % (name, r.headers.get('Content-Type')))
            self.assertEqual(r.headers.get('Content-Security-Policy'), CSP, name)
            self.assertEqual(r.headers.get('X-Content-Type-Options'), 'nosniff', name)
        with open(os.path.join(harness.REPO, 'console', 'index.html'), 'rb') as f:
            self.assertEqual(self.get('/console/').body, f.read())

    def test_console_without_slash_redirects(self):
        r = self.get('/console')
        self.assertEqual(r.status, 301, r.text[:200])
        self.assertTrue(r.headers.get('Location', '').endswith('/console/'), r.headers)

    def test_index_has_nothing_inline(self):
        html = self.get('/console/').text
        self.assertNotRegex(html, r'<script(?![^>]*\bsrc=)', 'inline script')
        self.assertNotRegex(html, r'<style|\sstyle=|\son[a-z]+=', 'inline style or handler')
        self.assertNotRegex(html, r'(src|href)="(https?:)?//', 'external resource')

    def test_htaccess_not_served(self):
        self.assertIn(self.get('/console/.htaccess').status, (403, 404))

    def test_api_unchanged(self):
        r = self.server.get('auth:check')
        self.assertEqual(r.status, 401, diagnose(r))
        self.assertTrue(r.errors and r.errors[0].get('code'), r.text)
        self.assertIsNone(r.headers.get('Content-Security-Policy'))
        token = sign_in(self.server)
        r = self.server.get('auth:check', token=token)
        self.assertEqual(r.status, 200, diagnose(r))


class LighttpdConsoleServing(_ConsoleServing, unittest.TestCase):
    start = staticmethod(lambda site: start_lighttpd(site, procs=1))


class ApacheConsoleServing(_ConsoleServing, unittest.TestCase):
    start = staticmethod(lambda site: start_apache(site, procs=2))


NGINX = '/usr/sbin/nginx'


class NginxConsoleServing(_ConsoleServing, unittest.TestCase):
    """docs/nginx.conf's /console/ locations, run by nginx itself (skipped
    where nginx is not installed: it is an example, not a dependency)."""

    @classmethod
    def setUpClass(cls):
        if not os.access(NGINX, os.X_OK):
            raise unittest.SkipTest('nginx is not installed (%s)' % NGINX)
        cls.site = Site()
        cls.server = start_nginx(cls.site)
        cls.root = 'http://127.0.0.1:%d' % cls.server.port

    def test_api_unchanged(self):
        # The /api location is unchanged; no FastCGI process runs behind this
        # nginx, so /api answers nginx's 502, without the console's headers.
        r = self.server.raw_request('GET', '/api/auth:check')
        self.assertEqual(r.status, 502, r.text[:200])
        self.assertIsNone(r.headers.get('Content-Security-Policy'))


def start_nginx(site):
    """nginx with docs/nginx.conf, its machine paths moved into the site."""
    port = harness.free_port()
    sdir = harness._mkdir(site.path('nginx-%d' % port))
    harness._mkdir(os.path.join(sdir, 'logs'), www=True)
    with open(os.path.join(harness.REPO, 'docs', 'nginx.conf')) as f:
        conf = f.read()
    subs = [
        (r'^user www-data;', 'user www-data;' if harness.IS_ROOT else ''),
        (r'^pid /run/nginx.pid;', 'pid %s/nginx.pid;' % sdir),
        (r'/var/log/nginx/', sdir + '/logs/'),
        (r'listen 80;', 'listen 127.0.0.1:%d;' % port),
        (r'/opt/flowcgi/console/', site.path('console') + '/'),
        (r'unix:/run/flowcgi/flowcgi.sock', 'unix:%s/flowcgi.sock' % sdir),
    ]
    for pat, rep in subs:
        conf, n = re.subn(pat, rep, conf, flags=re.M)
        if not n:
            raise harness.HarnessError('docs/nginx.conf: no %r to replace' % pat)
    # Temp files in the site too (the built-in /var/lib/nginx is root's).
    temps = ''.join('    %s_temp_path %s/%s;\n' % (t, sdir, t)
                    for t in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'))
    conf = conf.replace('http {\n', 'http {\n' + temps, 1)
    path = os.path.join(sdir, 'nginx.conf')
    with open(path, 'w') as f:
        f.write(conf)
    cmd = [NGINX, '-e', os.path.join(sdir, 'logs', 'error.log'), '-c', path,
           '-g', 'daemon off;']
    t = subprocess.run(cmd + ['-t'], capture_output=True, text=True)
    if t.returncode != 0:
        raise harness.HarnessError('nginx -t refused docs/nginx.conf:\n' + t.stderr)
    return harness._launch('nginx', site, cmd, port, sdir,
                           [os.path.join(sdir, 'logs', 'error.log')], 0, 10, {})


SHARED_HOST_CONF = """\
# A shared host as the README describes it: Apache, plain CGI, .htaccess.
ServerRoot "{dir}"
PidFile run/httpd.pid
ErrorLog logs/error.log
LogLevel warn
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
{user}
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module  /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module         /usr/lib/apache2/modules/mod_dir.so
LoadModule mime_module        /usr/lib/apache2/modules/mod_mime.so
LoadModule headers_module     /usr/lib/apache2/modules/mod_headers.so
LoadModule env_module         /usr/lib/apache2/modules/mod_env.so
LoadModule cgi_module         /usr/lib/apache2/modules/mod_cgi.so
TypesConfig /etc/mime.types
StartServers 2
MaxRequestWorkers 8
DocumentRoot {dir}/htdocs
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory {dir}/htdocs>
    AllowOverride All
    Options None
    Require all granted
</Directory>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
"""

CGI_HTACCESS = """\
Options +ExecCGI
AddHandler cgi-script .fcgi
CGIPassAuth On
SetEnv FLOWCGI_DB {db}
"""

SHARED_API = '/cgi-bin/flowcgi.fcgi/api'


def start_shared_host(site):
    """Apache as a shared host: the console folder copied under the web root
    with its .htaccess and config.js pointing at the program, the program
    as plain CGI in the host's cgi-bin."""
    port = harness.free_port()
    sdir = harness._mkdir(site.path('shared-%d' % port))
    for d in ('run', 'logs'):
        harness._mkdir(os.path.join(sdir, d), www=True)
    htdocs = harness._mkdir(os.path.join(sdir, 'htdocs'))
    shutil.copytree(site.path('console'), os.path.join(htdocs, 'console'))
    cfg = os.path.join(htdocs, 'console', 'config.js')
    with open(cfg) as f:
        text = f.read()
    text, n = re.subn(r'apiBase: null', "apiBase: '%s'" % SHARED_API, text)
    if n != 1:
        raise harness.HarnessError('console/config.js has no "apiBase: null"')
    with open(cfg, 'w') as f:
        f.write(text)
    cgi = harness._mkdir(os.path.join(htdocs, 'cgi-bin'))
    shutil.copy(site.prog, os.path.join(cgi, 'flowcgi.fcgi'))
    with open(os.path.join(cgi, '.htaccess'), 'w') as f:
        f.write(CGI_HTACCESS.format(db=site.db))
    conf = SHARED_HOST_CONF.format(dir=sdir, port=port,
                                   user='User www-data\nGroup www-data' if harness.IS_ROOT else '')
    path = os.path.join(sdir, 'httpd.conf')
    with open(path, 'w') as f:
        f.write(conf)
    return harness._launch('apache', site, [harness.APACHE_BIN, '-f', path, '-DFOREGROUND'],
                           port, sdir, [os.path.join(sdir, 'logs', 'error.log')], 0, 10, {})


class SharedHostingConsole(_ConsoleServing, unittest.TestCase):
    """console/ copied to a host's web root: its .htaccess sets the headers,
    config.js points it at the program in cgi-bin."""
    start = staticmethod(start_shared_host)

    def test_api_unchanged(self):
        r = self.server.raw_request('GET', SHARED_API + '/auth:check')
        self.assertEqual(r.status, 401, diagnose(r))
        self.assertTrue(r.errors and r.errors[0].get('code'), r.text)
        self.assertIsNone(r.headers.get('Content-Security-Policy'))

    def test_console_files_with_csp(self):
        super().test_console_files_with_csp()
        self.assertIn(SHARED_API, self.get('/console/config.js').text)

    @browser_pass
    def test_console_in_chromium(self):
        missing = missing_browser()
        if missing:
            self.fail('the console browser test needs %s' % ', '.join(missing))
        p = run_browser(self.site, {
            'base': self.root, 'api': self.root + SHARED_API,
            'account': 'admin@nocobase.com', 'password': 'admin123',
            'steps': ['sign_in', 'workflows_any', 'check_log'],
            'shots': os.path.join(screenshot_dir(), 'shared-hosting'),
        })
        self.assertEqual(p.returncode, 0, 'browser test failed:\n%s\n%s\n--- server log:\n%s' % (
            p.stdout, p.stderr[-3000:], self.server.log_tail(1500)))


def run_browser(site, spec, timeout=150):
    """console_browser.py under /usr/bin/python3 with spec; CompletedProcess."""
    spec_path = site.path('console-spec-%d.json' % len(os.listdir(site.base)))
    with open(spec_path, 'w') as f:
        json.dump(spec, f)
    env = {'PATH': harness.SAFE_PATH, 'HOME': site.base, 'LANG': 'C.UTF-8'}
    try:
        return subprocess.run([SYSTEM_PYTHON, BROWSER_SCRIPT, '--spec', spec_path],
                              capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=site.base)
    except subprocess.TimeoutExpired as e:
        raise AssertionError('the browser test did not finish in %d s:\n%s' % (
            timeout, e.stdout or ''))


@browser_pass
class ConsoleBrowser(unittest.TestCase):
    """The console in headless Chromium against lighttpd with the shipped config."""

    @classmethod
    def setUpClass(cls):
        cls.missing = missing_browser()
        if cls.missing:
            return
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=2)
        cls.token = sign_in(cls.server)
        cls.data = setup_console_data(cls.server, cls.token)
        answers = run_some(cls.server, cls.token, cls.data)
        statuses = [r.status for r in answers]
        if statuses != [200, 200, 500, 200]:
            raise AssertionError('setup triggers answered %s: %s' % (
                statuses, [r.text[:200] for r in answers]))

    @classmethod
    def tearDownClass(cls):
        if not cls.missing:
            cls.site.close()

    def test_console_in_chromium(self):
        if self.missing:
            self.fail('the console browser test needs %s; install them with '
                      '`apt-get install chromium chromium-driver python3-selenium` '
                      '(scripts/deps.sh does as root)' % ', '.join(self.missing))
        wf = self.data['review']
        r = expect(self.server.get('executions:list?sort=-id&pageSize=1&fields=id',
                                   token=self.token), 'last execution')
        last = r.data[0]['id']
        shots = screenshot_dir()
        os.makedirs(shots, exist_ok=True)
        for old in os.listdir(shots):
            if old.endswith('.png'):
                os.unlink(os.path.join(shots, old))
        spec = {
            'base': 'http://127.0.0.1:%d' % self.server.port,
            'account': 'admin@nocobase.com', 'password': 'admin123',
            'workflow': {'id': wf['id'], 'key': wf['key'], 'title': wf['title']},
            'node_titles': sorted(self.data['nodes']),
            'branch_labels': ['yes', 'no', 'small', 'medium', 'otherwise', 'each item',
                              'branch 1', 'branch 2'],
            'expect_counts': {'resolved': '2', 'failed': '1'},
            'expect_counts_total': 3,
            'order_id': self.data['order_id'],
            'trigger_body': {'amount': 150},
            'expect_message': 'order First order reviewed',
            'expect_jobs': ['tax', 'amount positive?', 'large order?', 'mark for review',
                            'count items', 'step', 'step', 'step', 'notify', 'left', 'right',
                            'done'],
            'failed_node': 'amount positive?',
            'last_execution_id': last,
            'shots': shots,
        }
        p = run_browser(self.site, spec)
        self.assertEqual(p.returncode, 0, 'browser test failed:\n%s\n%s\n--- server log:\n%s' % (
            p.stdout, p.stderr[-3000:], self.server.log_tail(1500)))
        # What the browser did, seen from the API: a new resolved execution
        # with the body's amount, the workflow enabled again.
        r = expect(self.server.get('executions:list?sort=-id&pageSize=1', token=self.token),
                   'executions after')
        ex = r.data[0]
        self.assertGreater(ex['id'], last)
        self.assertEqual(ex['status'], 1, r.text[:500])
        self.assertEqual(ex['context']['data']['amount'], 150)
        r = expect(self.server.get('workflows:get/%s' % wf['id'], token=self.token), 'workflow')
        self.assertIs(r.data['enabled'], True)
        r = expect(self.server.get('orders:get/%s' % self.data['order_id'], token=self.token),
                   'order')
        self.assertEqual(r.data['state'], 'review')
        for name in ('03-workflow-drawing.png', '05-execution.png'):
            path = os.path.join(shots, name)
            self.assertTrue(os.path.getsize(path) > 10000, '%s missing or empty' % path)
        self.assertTrue(re.search(r'all steps passed', p.stdout), p.stdout)
