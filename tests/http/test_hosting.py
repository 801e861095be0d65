"""Hosting: the real program behind lighttpd, Apache (the shipped configs) and plain CGI.

Only what the hosting layer must get right, checked through the program's
contract: the Authorization header and the process environment reach it, the
/api mount splits SCRIPT_NAME/PATH_INFO as it expects, a body over 8 MiB
reaches it so that it answers its own 413, and its processes stop cleanly.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import (SAFE_PATH, CGIClient, Site, _as_www, cgi_request, diagnose,
                     sign_in, start_server)

ROOT_EMAIL = 'admin@nocobase.com'
APP_KEY = 'hosting-test-key-0123456789'
SMALL_BODY_LIMIT = 1000


def _b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


class _Hosting:
    kind = None          # 'lighttpd' | 'apache' | 'cgi'
    procs = 2

    @classmethod
    def client(cls, site, extra_env=None):
        if cls.kind == 'cgi':
            return CGIClient(site, extra_env=extra_env)
        return start_server(cls.kind, site, procs=cls.procs, extra_env=extra_env)

    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.c = cls.client(cls.site)
        cls.env_c = cls.client(cls.site, {'FLOWCGI_MAX_BODY': str(SMALL_BODY_LIMIT),
                                          'FLOWCGI_APP_KEY': APP_KEY})

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def test_bearer_token_reaches_program(self):
        token = sign_in(self.c)
        r = self.c.get('auth:check', token=token)
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertIsInstance(r.data, dict, r.text)
        self.assertEqual(r.data.get('email'), ROOT_EMAIL, r.text)

    def test_forged_token_is_refused(self):
        token = sign_in(self.c)
        head, payload, sig = token.split('.')
        forged = '%s.%s.%s' % (head, payload, ('A' if sig[0] != 'A' else 'B') + sig[1:])
        r = self.c.get('auth:check', token=forged)
        self.assertEqual(r.status, 401, diagnose(r))
        self.assertTrue(r.errors and r.errors[0].get('code'), r.text)

    def test_unknown_collection_is_404_json(self):
        token = sign_in(self.c)
        r = self.c.get('no_such_collection:list', token=token)
        self.assertEqual(r.status, 404, diagnose(r))
        self.assertTrue(r.errors, r.text)
        self.assertTrue(r.headers.get('Content-Type', '').startswith('application/json'),
                        r.headers)

    def test_body_over_8mib_reaches_program(self):
        # The server must pass it on (Apache FcgidMaxRequestLen, lighttpd
        # server.max-request-size), so the 413 comes from the program, as JSON.
        body = b'{"account":"' + b'a' * (8 * 1024 * 1024) + b'","password":"x"}'
        r = self.c.request('POST', 'auth:signIn', data=body,
                           headers={'X-Authenticator': 'basic'}, timeout=60)
        self.assertEqual(r.status, 413, diagnose(r))
        self.assertEqual(r.errors[0].get('code'), 'BODY_TOO_LARGE', r.text[:500])

    def test_environment_reaches_program(self):
        # FLOWCGI_MAX_BODY
        small = json.dumps({'account': 'x' * 100, 'password': 'y'})
        big = json.dumps({'account': 'x' * SMALL_BODY_LIMIT, 'password': 'y'})
        hdr = {'X-Authenticator': 'basic'}
        r = self.env_c.request('POST', 'auth:signIn', data=big, headers=hdr)
        self.assertEqual(r.status, 413, diagnose(r))
        r = self.env_c.request('POST', 'auth:signIn', data=small, headers=hdr)
        self.assertNotEqual(r.status, 413, r.text)
        # FLOWCGI_APP_KEY signs the tokens
        token = sign_in(self.env_c)
        head, payload, sig = token.split('.')
        want = hmac.new(APP_KEY.encode(), ('%s.%s' % (head, payload)).encode(),
                        hashlib.sha256).digest()
        self.assertEqual(_b64url_decode(sig), want, 'token not signed with FLOWCGI_APP_KEY')

    def test_concurrent_requests(self):
        token = sign_in(self.c)
        results = []

        def worker():
            for _ in range(5):
                results.append(self.c.get('auth:check', token=token).status)
        threads = [threading.Thread(target=worker) for _ in range(self.procs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * (5 * self.procs))


class LighttpdHosting(_Hosting, unittest.TestCase):
    kind = 'lighttpd'
    procs = 4

    def test_processes_stop_cleanly(self):
        s = start_server(self.kind, self.site, procs=2)
        self.assertIn(s.get("auth:check").status // 100, (2, 4))
        pids = s.fcgi_pids()
        self.assertEqual(len(pids), 2, pids)
        s.stop()
        self.assertEqual(s.forced_kills, [], 'needed SIGKILL: %s' % s.kill_notes)


class ApacheHosting(_Hosting, unittest.TestCase):
    kind = 'apache'
    procs = 2

    def test_processes_stop_cleanly(self):
        s = start_server(self.kind, self.site, procs=2)
        self.assertIn(s.get('auth:check').status // 100, (2, 4))
        self.assertTrue(s.fcgi_pids())
        s.stop()
        self.assertEqual(s.forced_kills, [], 'needed SIGKILL: %s' % s.kill_notes)


class CGIHosting(_Hosting, unittest.TestCase):
    kind = 'cgi'
    procs = 2

    def test_whole_path_in_path_info(self):
        # Some servers put the whole path in PATH_INFO; the program tolerates
        # a leading /api there.
        token = sign_in(self.c)
        r = cgi_request(self.site.prog, self.site.env, 'GET', '/api/auth:check',
                        script_name='', token=token)
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual((r.data or {}).get('email'), ROOT_EMAIL, r.text)

    def test_missing_database_is_503(self):
        env = dict(self.site.env, FLOWCGI_DB=self.site.path('data', 'missing.db'))
        r = cgi_request(self.site.prog, env, 'GET', 'auth:check')
        self.assertEqual(r.status, 503, diagnose(r))
        self.assertEqual(r.errors[0].get('code'), 'DATABASE_NOT_INITIALIZED', r.text)


class StopSignal(unittest.TestCase):
    """A FastCGI process handed SIGTERM blocked and ignored by whatever
    spawned it still stops at once when told to."""

    def test_sigterm_stops_despite_the_inherited_state(self):
        with Site() as site:
            sock_path = site.path('fcgi.sock')
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(sock_path)
            os.chmod(sock_path, 0o777)
            listener.listen(8)

            def inherit():
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
                signal.signal(signal.SIGTERM, signal.SIG_IGN)

            env = {'PATH': SAFE_PATH}
            env.update({k: str(v) for k, v in site.env.items()})
            proc = subprocess.Popen([site.prog], stdin=listener.fileno(), env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    preexec_fn=inherit, **_as_www())
            listener.close()
            try:
                time.sleep(0.5)     # past start-up, waiting in accept
                self.assertIsNone(proc.poll(), 'the process did not start')
                proc.send_signal(signal.SIGTERM)
                proc.wait(5)
                self.assertEqual(proc.returncode, -signal.SIGTERM)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stderr.close()


if __name__ == '__main__':
    unittest.main()
