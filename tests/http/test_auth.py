"""Authentication through lighttpd: sign-in, tokens and their renewal,
sign-out, API keys, X-Role, users for administrators, and the init / user
add / token commands (reference §8, contract §2, §8).  Forged tokens are
signed here with the FLOWCGI_APP_KEY the server was started with."""

import base64
import hashlib
import hmac
import json
import subprocess
import time
import unittest

import harness
from harness import Site, start_lighttpd, sign_in

KEY = 'test-key-auth-5f1c9e0a7d'
EXPIRED = 'Your session has expired. Please sign in again.'
BAD_LOGIN = 'The username/email or password is incorrect, please re-enter'
# users.password of NocoBase 2.2.15 rows (salt + scrypt), from its
# PostgreSQL: "member" / member123 and "nocobase" / admin123.
NB_MEMBER_HASH = 'c63192e2db93ac4a2e287d73751a7772dcbd5d81dda2bf9b0fc82130e61bfeca'
NB_ROOT_HASH = '44d34f3267fc7fe9240b53cb6dafff4ecde7b5be1ba1f6e1a687adb0b6d06abe'


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()


def jwt(claims, key=KEY, header=None):
    """An HS256 token as jsonwebtoken makes it."""
    h = b64(json.dumps(header or {'alg': 'HS256', 'typ': 'JWT'}).encode())
    p = b64(json.dumps(claims).encode())
    sig = hmac.new(key.encode(), ('%s.%s' % (h, p)).encode(), hashlib.sha256).digest()
    return '%s.%s.%s' % (h, p, b64(sig))


def claims(token):
    p = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))


def session(uid, jti='00000000-0000-4000-8000-000000000000', age=0, ttl=86400,
            signed_in=None):
    """Session-token claims issued `age` seconds ago."""
    now = int(time.time())
    return {'userId': uid, 'temp': True,
            'signInTime': (now - (age if signed_in is None else signed_in)) * 1000,
            'iat': now - age, 'exp': now - age + ttl, 'jti': jti}


def sql(site, statement, params=()):
    """Rows of one statement on the site's database (SQLite or PostgreSQL:
    identifiers in double quotes, booleans compared as TRUE)."""
    return site.sql(statement, params)


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, extra_env={'FLOWCGI_APP_KEY': KEY})
        cls.root = sign_in(cls.server)
        cls.seen = []           # every response body, for the secrets check
        cls.alice = cls.add_user('alice', 'alice-pw-2b7d1', ['member'])
        cls.add_user('adam', 'adam-pw-1', ['admin', 'member'])    # another administrator

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    @classmethod
    def req(cls, method, path, **kw):
        r = cls.server.request(method, path, **kw)
        cls.seen.append(r.text)
        return r

    @classmethod
    def add_user(cls, name, password, roles):
        r = cls.req('POST', 'users:create', token=cls.root, json={
            'username': name, 'email': name + '@example.org', 'nickname': name,
            'password': password, 'roles': roles})
        assert r.status == 200, r.text
        return r.data['id']

    def sign_in(self, account, password, **kw):
        return self.req('POST', 'auth:signIn', json={'account': account, 'password': password},
                        headers={'X-Authenticator': 'basic'}, **kw)

    def token(self, account, password):
        r = self.sign_in(account, password)
        self.assertEqual(r.status, 200, r.text)
        return r.data['token']

    def check(self, token, **kw):
        return self.req('GET', 'auth:check', token=token, **kw)

    def assert_error(self, r, status, code, message=None):
        self.assertEqual(r.status, status, r.text)
        err = r.errors[0]
        self.assertEqual(err['code'], code, r.text)
        if message:
            self.assertEqual(err['message'], message)
        self.assertTrue(err.get('reason'), r.text)

    # ---- sign-in

    def test_sign_in_by_username_or_email(self):
        for account in ('alice', 'alice@example.org'):
            r = self.sign_in(account, 'alice-pw-2b7d1')
            self.assertEqual(r.status, 200, r.text)
            self.assertEqual(r.data['user']['username'], 'alice')
            self.assertNotIn('password', r.data['user'])
            c = claims(r.data['token'])
            self.assertEqual(set(c), {'userId', 'temp', 'signInTime', 'iat', 'exp', 'jti'})
            self.assertEqual((c['userId'], c['temp']), (self.alice, True))
            self.assertEqual(c['exp'] - c['iat'], 86400)
        r = self.req('POST', 'auth:signIn', json={'email': 'alice@example.org',
                                                  'password': 'alice-pw-2b7d1'})
        self.assertEqual(r.status, 200, 'legacy {email} body, no X-Authenticator')

    def test_sign_in_refused(self):
        for account, pw in (('alice', 'wrong'), ('nobody', 'alice-pw-2b7d1'),
                            ('alice', ''), ('alice', None)):
            body = {'account': account} if pw is None else {'account': account, 'password': pw}
            r = self.req('POST', 'auth:signIn', json=body)
            self.assert_error(r, 401, 'INVALID_CREDENTIALS', BAD_LOGIN)
        for body in ({}, {'account': '', 'password': 'x'}, {'password': 'x'}):
            r = self.req('POST', 'auth:signIn', json=body)
            self.assert_error(r, 400, 'INVALID_PARAMETER', 'Please enter your username or email')

    def test_token_in_header_or_query(self):
        tok = self.token('alice', 'alice-pw-2b7d1')
        self.assertEqual(self.check(tok).data['id'], self.alice)
        r = self.req('GET', 'auth:check', params={'token': tok})
        self.assertEqual((r.status, r.data['id']), (200, self.alice), r.text)
        r = self.req('GET', 'auth:check', params={'token': tok},
                     headers={'Authorization': 'Bearer not-a-jwt'})
        self.assert_error(r, 401, 'INVALID_TOKEN', EXPIRED)

    def test_auth_check(self):
        r = self.check(self.root)
        self.assertEqual(r.data['username'], 'nocobase')
        self.assertEqual(sorted(x['name'] for x in r.data['roles']), ['admin', 'member', 'root'])
        self.assertNotIn('password', r.data)
        self.assert_error(self.req('GET', 'auth:check'), 401, 'EMPTY_TOKEN',
                          'Unauthenticated. Please sign in to continue.')

    # ---- tokens

    def test_forged_and_broken_tokens(self):
        good = self.token('alice', 'alice-pw-2b7d1')
        h, p, s = good.split('.')
        c = claims(good)
        other = dict(c, userId=1)
        flipped = s[:-2] + ('A' if s[-2] != 'A' else 'B') + s[-1]
        cases = {
            'garbage': 'not-a-jwt',
            'wrong signature': '%s.%s.%s' % (h, p, flipped),
            'alg none': '%s.%s.' % (b64(b'{"alg":"none","typ":"JWT"}'), p),
            'alg none, signed': jwt(c, header={'alg': 'none', 'typ': 'JWT'}),
            'altered claims': '%s.%s.%s' % (h, b64(json.dumps(other).encode()), s),
            'truncated': good[:-5],
            'no signature': '%s.%s' % (h, p),
            'other key': jwt(c, key='another-key'),
            'stored secret instead of the env key': jwt(c, key=self.stored_secret()),
            'expired API key': jwt({'userId': 1, 'roleName': 'root',
                                    'iat': int(time.time()) - 100,
                                    'exp': int(time.time()) - 10}),
        }
        for name, tok in cases.items():
            with self.subTest(name):
                self.assert_error(self.check(tok), 401, 'INVALID_TOKEN', EXPIRED)
        self.assertEqual(self.check(good).status, 200)

    def stored_secret(self):
        secret = sql(self.site, "select value from _flowcgi_meta where key='app_secret'")[0][0]
        self.assertRegex(secret, '^[0-9a-f]{64}$')
        return secret

    def test_valid_signature_but_refused(self):
        now = int(time.time())
        cases = [
            ('user 999', session(999), 'NOT_EXIST_USER',
             'User not found. Please sign in again to continue.'),
            ('no userId', {'temp': True, 'iat': now, 'exp': now + 60, 'jti': 'x'},
             'NOT_EXIST_USER', 'User not found. Please sign in again to continue.'),
            ('session over 7 days', session(self.alice, signed_in=8 * 86400),
             'EXPIRED_SESSION', EXPIRED),
            ('expired beyond the renew limit', session(self.alice, age=2 * 86400 + 60),
             'EXPIRED_SESSION', EXPIRED),
        ]
        for name, c, code, msg in cases:
            with self.subTest(name):
                self.assert_error(self.check(jwt(c)), 401, code, msg)
        # Accepted as NocoBase does: no temp, no jti; temp without signInTime.
        for c in ({'userId': self.alice, 'iat': now, 'exp': now + 60},
                  {'userId': self.alice, 'temp': True, 'iat': now, 'exp': now + 60,
                   'jti': 'x'}):
            r = self.check(jwt(c))
            self.assertEqual((r.status, r.headers.get('x-new-token')), (200, None), r.text)

    def test_renewal_of_an_expired_session_token(self):
        tok = self.token('alice', 'alice-pw-2b7d1')
        c = claims(tok)
        expired = jwt(dict(c, iat=c['iat'] - 90000, exp=c['exp'] - 90000))
        r = self.check(expired)
        self.assertEqual(r.status, 200, r.text)
        new = r.headers.get('x-new-token')
        self.assertTrue(new, r.headers)
        n = claims(new)
        self.assertEqual((n['userId'], n['temp'], n['signInTime']),
                         (self.alice, True, c['signInTime']))
        self.assertNotEqual(n['jti'], c['jti'])
        self.assertGreater(n['exp'], time.time())
        r = self.check(new)
        self.assertEqual((r.status, r.headers.get('x-new-token')), (200, None))
        row = sql(self.site, 'select renewed, "renewedTo" from "issuedTokens" where jti = ?',
                  [c['jti']])[0]
        self.assertIn(str(row[0]), ('1', 't', 'True'))
        self.assertEqual(row[1], n['jti'])
        # A concurrent renewal of the same jti (within 10 s) gets the same successor.
        r = self.check(expired)
        self.assertEqual(claims(r.headers['x-new-token'])['jti'], n['jti'])
        r = self.check(expired, headers={'Accept': 'text/event-stream'})
        self.assert_error(r, 401, 'SKIP_TOKEN_RENEW', 'Stream api not allow renew token.')

    def test_renewal_of_an_unknown_jti_fails(self):
        c = session(self.alice, jti='11111111-0000-4000-8000-000000000000', age=90000)
        self.assert_error(self.check(jwt(c)), 401, 'TOKEN_RENEW_FAILED', EXPIRED)

    def test_sign_out_blocks_the_token(self):
        t1 = self.token('alice', 'alice-pw-2b7d1')
        t2 = self.token('alice', 'alice-pw-2b7d1')
        r = self.req('POST', 'auth:signOut', token=t1)
        self.assertEqual(r.status, 200, r.text)
        self.assert_error(self.check(t1), 401, 'BLOCKED_TOKEN', EXPIRED)
        self.assertEqual(self.check(t2).status, 200, 'other sessions stay')

    def test_token_of_a_deleted_user(self):
        uid = self.add_user('gone', 'gone-pw-1', ['member'])
        tok = self.token('gone', 'gone-pw-1')
        r = self.req('POST', 'users:destroy?filterByTk=%d' % uid, token=self.root)
        self.assertEqual(r.status, 200, r.text)
        self.assert_error(self.check(tok), 401, 'NOT_EXIST_USER',
                          'User not found. Please sign in again to continue.')
        # Ids are never reused, so the token never names the next user.
        self.assertGreater(self.add_user('next', 'next-pw-1', ['member']), uid)
        self.assertEqual(self.check(tok).status, 401)

    def test_password_change_ends_sessions(self):
        uid = self.add_user('pat', 'pat-pw-1', ['member'])
        old = self.token('pat', 'pat-pw-1')
        r = self.req('POST', 'users:update?filterByTk=%d' % uid, token=self.root,
                     json={'password': 'pat-pw-2'})
        self.assertEqual(r.status, 200, r.text)
        self.assertNotIn('password', r.data[0])
        self.assert_error(self.check(old), 401, 'INVALID_TOKEN',
                          'User password changed, please signin again.')
        self.assertEqual(self.sign_in('pat', 'pat-pw-1').status, 401)
        new = self.token('pat', 'pat-pw-2')      # within the same second too
        self.assertEqual(self.check(new).status, 200, 'a token issued after the change')

    # ---- roles

    def test_x_role(self):
        tok = self.token('alice', 'alice-pw-2b7d1')
        # root's default role is root: collections are for administrators
        self.assertEqual(self.req('GET', 'collections:list', token=self.root).status, 200)
        r = self.req('GET', 'collections:list', token=self.root, role='member')
        self.assert_error(r, 403, 'NO_PERMISSION', 'No permissions')
        r = self.req('GET', 'collections:list', token=self.root, role='anonymous')
        self.assertEqual(r.status, 403, r.text)
        self.assertEqual(self.check(self.root, role='anonymous').status, 200)
        for t, role in ((tok, 'admin'), (tok, 'root'), (self.root, 'ghost')):
            self.assert_error(self.check(t, role=role), 401, 'ROLE_NOT_FOUND_FOR_USER',
                              'The role does not belong to the user')

    def test_first_role_is_the_default(self):
        self.add_user('ann', 'ann-pw-1', ['admin', 'member'])
        self.add_user('mem', 'mem-pw-1', ['member', 'admin'])
        ann, mem = self.token('ann', 'ann-pw-1'), self.token('mem', 'mem-pw-1')
        self.assertEqual(self.req('GET', 'collections:list', token=ann).status, 200)
        self.assertEqual(self.req('GET', 'collections:list', token=mem).status, 403)
        self.assertEqual(self.req('GET', 'collections:list', token=mem, role='admin').status, 200)

    def test_user_without_roles(self):
        uid = self.add_user('norole', 'norole-pw-1', ['member'])
        tok = self.token('norole', 'norole-pw-1')
        r = self.req('POST', 'roles/member/users:remove', token=self.root, json=[uid])
        self.assertEqual(r.status, 200, r.text)
        self.assert_error(self.check(tok), 401, 'USER_HAS_NO_ROLES_ERR',
                          'The current user has no roles. Please try another account.')

    # ---- API keys

    def test_api_key_has_a_fixed_role(self):
        r = self.req('POST', 'apiKeys:create', token=self.root, json={
            'name': 'ci', 'role': {'name': 'member'}, 'expiresIn': '30d'})
        self.assertEqual(r.status, 200, r.text)
        key = r.data['token']
        c = claims(key)
        self.assertEqual(set(c), {'userId', 'roleName', 'iat', 'exp'})
        self.assertEqual((c['userId'], c['roleName']), (1, 'member'))
        self.assertAlmostEqual(c['exp'] - c['iat'], 30 * 86400, delta=1)
        # root holds root, admin and member; the key is member whatever X-Role says
        for role in (None, 'root', 'admin'):
            r = self.req('GET', 'collections:list', token=key, role=role)
            self.assert_error(r, 403, 'NO_PERMISSION', 'No permissions')
        self.assertEqual(self.check(key).data['id'], 1)
        r = self.req('POST', 'apiKeys:create', token=self.root, json={
            'name': 'never', 'role': {'name': 'root'}, 'expiresIn': 'never'})
        forever = r.data['token']
        self.assertGreater(claims(forever)['exp'] - time.time(), 999 * 365 * 86400)
        self.assertEqual(self.req('GET', 'collections:list', token=forever,
                                  role='member').status, 200)

    def test_api_key_of_a_role_taken_away(self):
        uid = self.add_user('kim', 'kim-pw-1', ['admin', 'member'])
        kim = self.token('kim', 'kim-pw-1')
        key = self.req('POST', 'apiKeys:create', token=kim, json={
            'name': 'k', 'role': {'name': 'member'}, 'expiresIn': '1d'}).data['token']
        self.assertEqual(self.check(key).status, 200)
        self.req('POST', 'roles/member/users:remove', token=self.root, json=[uid])
        self.assert_error(self.check(key), 401, 'ROLE_NOT_FOUND_FOR_USER',
                          'The role does not belong to the user')

    def test_api_keys_are_for_administrators(self):
        alice = self.token('alice', 'alice-pw-2b7d1')
        for action in ('create', 'list', 'destroy?filterByTk=1'):
            r = self.req('POST', 'apiKeys:' + action, token=alice, json={
                'name': 'x', 'role': {'name': 'member'}, 'expiresIn': '7d'})
            self.assert_error(r, 403, 'NO_PERMISSION', 'No permissions')
        r = self.req('POST', 'apiKeys:create', token=self.token('adam', 'adam-pw-1'), json={
            'name': 'x', 'role': {'name': 'root'}, 'expiresIn': '7d'})
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['message'], 'Role not found')

    def test_api_keys_list_and_destroy_own_keys_only(self):
        adam = self.token('adam', 'adam-pw-1')
        mine = self.req('POST', 'apiKeys:create', token=adam, json={
            'name': 'adam-key', 'role': {'name': 'member'}, 'expiresIn': '7d'}).data['token']
        roots = self.req('POST', 'apiKeys:create', token=self.root, json={
            'name': 'root-key', 'role': {'name': 'admin'}, 'expiresIn': '7d'}).data['token']
        r = self.req('GET', 'apiKeys:list', token=adam)
        self.assertEqual([k['name'] for k in r.data], ['adam-key'])
        self.assertEqual(r.data[0]['roleName'], 'member')
        self.assertNotIn('token', r.data[0])
        r = self.req('GET', 'apiKeys:list?paginate=false', token=self.root)
        names = [k['name'] for k in r.data]
        self.assertIn('root-key', names)
        self.assertNotIn('adam-key', names)
        self.assertTrue(all('token' not in k for k in r.data))
        root_key_id = [k['id'] for k in r.data if k['name'] == 'root-key'][0]
        r = self.req('POST', 'apiKeys:destroy?filterByTk=%d' % root_key_id, token=adam)
        self.assertEqual(r.data, 0, r.text)
        self.assertEqual(self.check(roots).status, 200, "adam cannot revoke root's key")
        adam_key_id = self.req('GET', 'apiKeys:list', token=adam).data[0]['id']
        r = self.req('POST', 'apiKeys:destroy?filterByTk=%d' % adam_key_id, token=adam)
        self.assertEqual((r.status, r.data), (200, 1), r.text)
        self.assert_error(self.check(mine), 401, 'BLOCKED_TOKEN', EXPIRED)
        self.assertEqual(self.req('GET', 'apiKeys:list', token=adam).data, [])

    def test_token_command(self):
        env = {'FLOWCGI_APP_KEY': KEY}      # as the server's
        r = self.site.cli('token', '--user', 'alice@example.org', env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        key = r.stdout.strip()
        self.assertEqual(claims(key)['roleName'], 'member')
        self.assertEqual(self.check(key).data['username'], 'alice')
        r = self.site.cli('token', '--user', 'nocobase', '--role', 'admin', '--expires', '1d',
                          env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.req('GET', 'collections:list', token=r.stdout.strip()).status, 200)
        for args in (('--user', 'alice', '--role', 'admin'), ('--user', 'nobody'), ()):
            r = self.site.cli('token', *args, env=env)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertEqual(r.stdout, '', args)

    # ---- users

    def test_users_for_administrators(self):
        r = self.req('POST', 'users:create', token=self.root, json={
            'username': 'uma', 'nickname': 'Uma', 'email': 'uma@example.org',
            'password': 'uma-pw-9', 'roles': ['member']})
        self.assertEqual(r.status, 200, r.text)
        uid = r.data['id']
        self.assertNotIn('password', r.data)
        r = self.req('GET', 'users:list?paginate=false', token=self.root)
        self.assertIn('uma', [u['username'] for u in r.data])
        self.assertTrue(all('password' not in u for u in r.data))
        r = self.req('GET', 'users:get/%d?appends=roles' % uid, token=self.root)
        self.assertEqual([x['name'] for x in r.data['roles']], ['member'])
        self.assertNotIn('password', r.data)
        r = self.req('POST', 'users:update?filterByTk=%d' % uid, token=self.root,
                     json={'nickname': 'U.'})
        self.assertEqual(r.data[0]['nickname'], 'U.')
        for bad in ('fields=id,password', 'sort=password',
                    'filter={"password":{"$notEmpty":true}}'):
            r = self.req('GET', 'users:list?' + bad, token=self.root)
            self.assertEqual(r.status, 400, (bad, r.text))
        uma = self.token('uma', 'uma-pw-9')
        for action in ('list', 'get/1', 'create', 'update?filterByTk=1',
                       'destroy?filterByTk=1'):
            r = self.req('POST', 'users:' + action, token=uma, json={'nickname': 'x'})
            self.assert_error(r, 403, 'NO_PERMISSION', 'No permissions')
        r = self.req('POST', 'users:destroy?filterByTk=%d' % uid, token=self.root)
        self.assertEqual((r.status, r.data), (200, 1))
        self.assertIsNone(self.req('GET', 'users:get/%d' % uid, token=self.root).data)

    def test_user_add_command(self):
        r = self.site.cli('user', 'add', '--username', 'cli1', '--email', 'cli1@example.org',
                          '--password', 'cli-pw-1', '--role', 'admin', '--role', 'member')
        self.assertEqual(r.returncode, 0, r.stderr)
        tok = self.token('cli1', 'cli-pw-1')
        self.assertEqual(self.req('GET', 'collections:list', token=tok).status, 200)
        r = self.site.cli('user', 'add', '--username', 'cli1', '--email', 'x@example.org',
                          '--password', 'p')
        self.assertNotEqual(r.returncode, 0, 'a username is unique')
        r = self.site.cli('user', 'add', '--username', 'cli2', '--password', 'p',
                          '--role', 'ghost')
        self.assertNotEqual(r.returncode, 0)

    def test_nocobase_password_rows_sign_in(self):
        sql(self.site, "insert into users (username, email, nickname, password) values "
            "('nbmember', 'nbmember@example.org', 'NB', ?), "
            "('nbroot', 'nbroot@example.org', 'NB', ?)", [NB_MEMBER_HASH, NB_ROOT_HASH])
        sql(self.site, 'insert into "rolesUsers" ("userId", "roleName", "default") '
            "select id, 'member', TRUE from users where username in ('nbmember', 'nbroot')")
        for account, pw in (('nbmember', 'member123'), ('nbroot@example.org', 'admin123')):
            r = self.sign_in(account, pw)
            self.assertEqual(r.status, 200, (account, r.text))
            self.assertEqual(self.check(r.data['token']).status, 200)
        self.assertEqual(self.sign_in('nbmember', 'admin123').status, 401)

    def test_zz_secrets_never_leave(self):
        """Runs after the others (name): no password, hash or key in any
        response seen by this class or in the server's logs."""
        self.sign_in('alice', 'wrong-pw-8c3e5a')
        self.req('POST', 'users:create', token=self.root, json={
            'username': 'alice', 'password': 'dup-pw-6a2f0b'})     # unique violation
        hashes = [r[0] for r in sql(self.site,
                                    'select password from users where password is not null')]
        secrets = ['alice-pw-2b7d1', 'wrong-pw-8c3e5a', 'dup-pw-6a2f0b', 'uma-pw-9',
                   'pat-pw-2', 'cli-pw-1', KEY, self.stored_secret()] + hashes
        logs = self.server.error_log() + self.site.init_output.stdout
        for s in secrets:
            self.assertTrue(s)
            self.assertFalse(any(s in body for body in self.seen), s)
            self.assertNotIn(s, logs)


class Init(unittest.TestCase):
    """`init` creates roles, scopes, the root user and the secret once."""

    def test_init_is_idempotent(self):
        with Site(init_args=('--root-email', 'boss@example.org',
                             '--root-username', 'boss')) as site:
            self.assertIn('ready', site.init_output.stdout)
            def q(site):
                truth = lambda v: '1' if str(v) in ('1', 't', 'True') else '0'
                return [
                    ','.join(r[0] for r in sql(site, 'select name from roles order by name')),
                    '|'.join(sql(site, 'select username, email, password from users')[0]),
                    sql(site, "select value from _flowcgi_meta where key='app_secret'")[0][0],
                    ','.join('%s:%s' % (r[0], truth(r[1])) for r in sql(
                        site, 'select "roleName", "default" from "rolesUsers" '
                              'where "userId" = 1 order by id')),
                    ','.join(r[0] for r in sql(site, 'select key from '
                                               '"dataSourcesRolesResourcesScopes" order by id'))]
            before = q(site)
            lines = before
            self.assertEqual(lines[0], 'admin,member,root')
            self.assertTrue(lines[1].startswith('boss|boss@example.org|'))
            self.assertEqual(lines[3], 'root:1,admin:0,member:0')
            self.assertEqual(lines[4], 'all,own')
            r = site.cli('init', '--root-password', 'other-pw', '--root-username', 'boss')
            self.assertEqual(r.returncode, 0, r.stderr)
            r = site.cli('init')
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(q(site), before, 'init changed an existing user or secret')
            r = site.cgi.request('POST', 'auth:signIn', json={'account': 'boss',
                                                             'password': 'admin123'})
            self.assertEqual(r.status, 200, r.text)

    def test_default_password_is_announced(self):
        with Site(init=False) as site:
            r = site.cli('init')
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('admin123', r.stderr)
            r = site.cli('init', '--root-password', 'x')
            self.assertNotIn('admin123', r.stderr, 'said again on a second init')


if __name__ == '__main__':
    unittest.main()
