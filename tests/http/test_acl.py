"""Permissions through lighttpd (reference §9, §3.2): role strategies,
per-collection grants and their revocation, the scopes all / own / custom,
aliases, trigger and triggerNew, root, and the administrators' resources."""

import json
import unittest

from harness import Site, start_lighttpd, sign_in

# Every record action and how to ask for it, on row `{id}`.
ACTIONS = {
    'list': ('GET', 'notes:list'),
    'get': ('GET', 'notes:get/{id}'),
    'create': ('POST', 'notes:create'),
    'update': ('POST', 'notes:update?filterByTk={id}'),
    'destroy': ('POST', 'notes:destroy?filterByTk={id}'),
    'trigger': ('POST', 'notes:trigger/{id}?triggerWorkflows={key}'),
    'triggerNew': ('POST', 'notes:trigger?triggerWorkflows={key}'),
}
# The ACL action each request action is checked as.
ACL_NAME = {'list': 'view', 'get': 'view', 'create': 'create', 'update': 'update',
            'destroy': 'destroy', 'trigger': 'trigger', 'triggerNew': 'triggerNew'}


class Acl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site)
        cls.root = sign_in(cls.server)
        for name, created_by in (('notes', True), ('plain', False)):
            cls.ok('POST', 'collections:create', json={
                'name': name, 'createdBy': created_by, 'fields': [
                    {'name': 'title', 'type': 'string'},
                    {'name': 'priority', 'type': 'integer'},
                    {'name': 'owner', 'type': 'belongsTo', 'target': 'users',
                     'foreignKey': 'ownerId'}]})
        wf = cls.ok('POST', 'workflows:create', json={
            'title': 'noop', 'type': 'custom-action', 'sync': True, 'enabled': True,
            'config': {'type': 1, 'collection': 'notes'}})
        cls.key = wf['key']
        # Roles without any strategy, so that only the grants below count.
        for role in ('clerk', 'writer', 'viewer', 'custom'):
            cls.ok('POST', 'roles:create', json={'name': role, 'title': role,
                                                  'strategy': {'actions': []}})
        cls.ok('POST', 'roles:create', json={
            'name': 'ownstrat', 'title': 'Own', 'strategy': {'actions': [
                'create', 'view:own', 'update:own', 'destroy:own', 'trigger:own',
                'triggerNew']}})
        cls.tokens = {}
        for user, roles in (('carol', ['clerk']), ('alice', ['writer', 'ownstrat']),
                            ('bob', ['writer', 'ownstrat']), ('vic', ['viewer', 'custom']),
                            ('mia', ['member'])):
            cls.ok('POST', 'users:create', json={
                'username': user, 'password': user + '-pw', 'roles': roles})
            cls.tokens[user] = sign_in(cls.server, user, user + '-pw')
        cls.root_note = cls.ok('POST', 'notes:create', json={'title': 'root', 'priority': 9})

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    @classmethod
    def ok(cls, method, path, token=None, **kw):
        r = cls.server.request(method, path, token=token or cls.root, **kw)
        assert r.status == 200, (path, r.text)
        return r.data

    def as_user(self, user, action, role=None, row=None, body=None):
        method, path = ACTIONS[action]
        path = path.format(id=row or self.root_note['id'], key=self.key)
        if method == 'POST' and body is None:
            body = {'title': 'by ' + user}
        return self.server.request(method, path, token=self.tokens[user], role=role,
                                   json=body)

    def assert_denied(self, r, action):
        self.assertEqual(r.status, 403, (action, r.text))
        err = r.errors[0]
        self.assertEqual((err['message'], err['code']), ('No permissions', 'NO_PERMISSION'))
        self.assertIn('"%s"' % ACL_NAME[action], err['reason'])

    def grant(self, role, actions, collection='notes'):
        """roles/<role>/resources:create, or :update when one exists."""
        body = {'name': collection, 'usingActionsConfig': True, 'actions': actions}
        have = self.ok('GET', 'roles/%s/resources:list' % role,
                       params={'filter': json.dumps({'name': collection})})
        if have:
            return self.ok('POST', 'roles/%s/resources:update?filterByTk=%d'
                           % (role, have[0]['id']), json=body)
        return self.ok('POST', 'roles/%s/resources:create' % role, json=body)

    def user_id(self, user):
        return self.ok('GET', 'users:get', params={'filter': json.dumps({'username': user})})['id']

    def titles(self, user, role=None, **params):
        r = self.server.request('GET', 'notes:list', token=self.tokens[user], role=role,
                                params=dict(params, sort='id', paginate='false'))
        self.assertEqual(r.status, 200, r.text)
        return [n['title'] for n in r.data]

    # ----

    def test_grant_and_revoke_each_action(self):
        for action in ACTIONS:
            self.assert_denied(self.as_user('carol', action), action)
        res = self.grant('clerk', [{'name': n} for n in
                                   ('view', 'create', 'update', 'destroy', 'trigger',
                                    'triggerNew')])
        self.assertEqual(len(res['actions']), 6)
        for action in ACTIONS:
            row = self.ok('POST', 'notes:create', json={'title': 'for carol'})
            r = self.as_user('carol', action, row=row['id'])
            self.assertEqual(r.status, 200, (action, r.text))
        self.grant('clerk', [])
        for action in ACTIONS:
            self.assert_denied(self.as_user('carol', action), action)

    def test_configured_collection_ignores_the_strategy(self):
        # member's strategy view:own would allow listing; a configuration
        # for the collection that lacks view decides alone.
        self.assertEqual(self.as_user('mia', 'list').status, 200)
        res = self.grant('member', [{'name': 'create'}], collection='plain')
        r = self.server.request('GET', 'plain:list', token=self.tokens['mia'])
        self.assertEqual(r.status, 403, r.text)
        self.assertEqual(self.as_user('mia', 'list').status, 200)
        self.ok('POST', 'roles/member/resources:destroy?filterByTk=%d' % res['id'])
        r = self.server.request('GET', 'plain:list', token=self.tokens['mia'])
        self.assertEqual(r.status, 200, r.text)

    def check_own(self, role):
        """alice and bob, each limited to their own rows through role."""
        a = self.as_user('alice', 'create', role, body={'title': 'a-' + role})
        b = self.as_user('bob', 'create', role, body={'title': 'b-' + role})
        self.assertEqual((a.status, b.status), (200, 200), a.text + b.text)
        a, b = a.data, b.data
        self.assertEqual(a['createdById'], self.user_id('alice'))
        self.assertEqual(self.titles('alice', role), ['a-' + role])
        self.assertEqual(self.titles('bob', role), ['b-' + role])
        self.assertIsNone(self.as_user('alice', 'get', role, row=b['id']).data)
        self.assertEqual(self.as_user('alice', 'get', role, row=a['id']).data['id'], a['id'])
        r = self.as_user('alice', 'update', role, row=b['id'], body={'title': 'x'})
        self.assertEqual((r.status, r.data), (200, []), r.text)
        r = self.as_user('alice', 'destroy', role, row=b['id'])
        self.assertEqual(r.status, 403, r.text)
        self.assertEqual(self.ok('GET', 'notes:get/%d' % b['id'])['title'], 'b-' + role)
        r = self.as_user('alice', 'update', role, row=a['id'], body={'title': 'a2-' + role})
        self.assertEqual(r.data[0]['title'], 'a2-' + role)
        r = self.server.request('POST', 'notes:update', token=self.tokens['alice'], role=role,
                                params={'filter': '{"title":{"$notEmpty":true}}'},
                                json={'priority': 1})
        self.assertEqual([n['id'] for n in r.data], [a['id']], 'a filter is and-merged')
        for user, row in (('alice', a), ('bob', b)):
            r = self.as_user(user, 'destroy', role, row=row['id'])
            self.assertEqual((r.status, r.data), (200, 1), r.text)
        self.assertEqual(self.ok('GET', 'notes:get/%d' % self.root_note['id'])['title'], 'root')

    def test_own_scope_of_a_grant(self):
        own = self.ok('GET', 'dataSourcesRolesResourcesScopes:list?filter={"key":"own"}')
        self.assertEqual(len(own), 1)
        own = own[0]['id']
        self.grant('writer', [{'name': 'create'}, {'name': 'view', 'scope': own},
                              {'name': 'update', 'scope': own},
                              {'name': 'destroy', 'scope': own}])
        self.check_own('writer')

    def test_own_in_the_strategy(self):
        self.check_own('ownstrat')
        r = self.as_user('alice', 'trigger', 'ownstrat')
        self.assertEqual(r.status, 403, "trigger:own: root's row is out of scope")
        r = self.as_user('alice', 'triggerNew', 'ownstrat')
        self.assertEqual(r.status, 200, r.text)

    def test_own_scope_without_created_by_matches_nothing(self):
        self.ok('POST', 'plain:create', json={'title': 'p'})
        r = self.server.request('GET', 'plain:list', token=self.tokens['alice'],
                                role='ownstrat')
        self.assertEqual((r.status, r.data), (200, []), r.text)

    def test_custom_scope(self):
        scope = self.ok('POST', 'dataSourcesRolesResourcesScopes:create', json={
            'name': 'urgent', 'resourceName': 'notes',
            'scope': {'priority': {'$gte': 5}}})
        self.ok('POST', 'notes:create', json={'title': 'low', 'priority': 1})
        self.grant('custom', [{'name': 'view', 'scope': scope['id']},
                              {'name': 'update', 'scope': scope['id']}])
        titles = self.titles('vic', 'custom')
        self.assertIn('root', titles)
        self.assertNotIn('low', titles)
        r = self.server.request('POST', 'notes:update', token=self.tokens['vic'], role='custom',
                                params={'filter': '{"title":"low"}'}, json={'priority': 2})
        self.assertEqual((r.status, r.data), (200, []), r.text)

    def test_view_grants_get_and_list_only(self):
        self.grant('viewer', [{'name': 'view'}])
        row = self.root_note['id']
        self.assertIn('root', self.titles('vic', 'viewer'))
        self.assertEqual(self.as_user('vic', 'get', 'viewer').data['id'], row)
        for action in ('create', 'update', 'destroy', 'trigger', 'triggerNew'):
            self.assert_denied(self.as_user('vic', action, 'viewer'), action)

    def test_root_bypasses(self):
        res = self.grant('admin', [{'name': 'create'}])
        r = self.server.request('GET', 'notes:list', token=self.root, role='admin')
        self.assertEqual(r.status, 403, 'the admin role is limited')
        for action, (method, path) in ACTIONS.items():
            row = self.ok('POST', 'notes:create', json={'title': 'root ' + action})
            r = self.server.request(method, path.format(id=row['id'], key=self.key),
                                    token=self.root, role='root',
                                    json={} if method == 'POST' else None)
            self.assertEqual(r.status, 200, (action, r.text))
        self.ok('POST', 'roles/admin/resources:destroy?filterByTk=%d' % res['id'])

    def test_workflows_trigger_is_open_to_signed_in_users(self):
        r = self.server.request('POST', 'workflows:trigger?triggerWorkflows=nosuch',
                                token=self.tokens['carol'])
        self.assertEqual((r.status, r.errors[0]['code']), (500, 'NO_WORKFLOW_MATCHED'), r.text)
        r = self.server.request('POST', 'workflows:trigger?triggerWorkflows=nosuch')
        self.assertEqual(r.status, 401)

    def test_administration_needs_an_administrator(self):
        cases = [('GET', 'collections:list'), ('POST', 'collections:create'),
                 ('GET', 'workflows:list'), ('GET', 'users:list'), ('GET', 'roles:list'),
                 ('POST', 'roles:create'), ('POST', 'roles/clerk/resources:create'),
                 ('GET', 'dataSourcesRolesResourcesScopes:list'), ('GET', 'executions:list')]
        for method, path in cases:
            r = self.server.request(method, path, token=self.tokens['mia'],
                                    json={'name': 'x'} if method == 'POST' else None)
            self.assertEqual(r.status, 403, (path, r.text))
            self.assertEqual(r.errors[0]['code'], 'NO_PERMISSION')

    def test_users_are_not_written_through_notes(self):
        # ownstrat may create and update its notes, never users or roles
        def post(path, body):
            return self.server.request('POST', path, token=self.tokens['alice'],
                                       role='ownstrat', json=body)
        mine = post('notes:create', {'title': 'owned', 'owner': 1}).data
        self.assertEqual(mine['ownerId'], 1, 'a key still links')
        evil = {'username': 'evil', 'password': 'evil-pw', 'roles': ['root']}
        for path, body in (('notes/%d/owner:create' % mine['id'], evil),
                           ('notes/%d/owner:update?filterByTk=1' % mine['id'],
                            {'password': 'pwned'}),
                           ('notes/%d/createdBy:update?filterByTk=1' % mine['id'],
                            {'password': 'pwned'}),
                           ('notes/%d/owner:destroy?filterByTk=1' % mine['id'], None)):
            r = post(path, body)
            self.assertEqual((r.status, r.errors[0]['code']), (403, 'NO_PERMISSION'),
                             (path, r.text))
        r = post('notes:create', {'title': 'nested', 'owner': evil})
        self.assertEqual((r.status, r.data['ownerId']), (200, None), r.text)
        r = post('notes:update?filterByTk=%d' % mine['id'],
                 {'owner': {'id': 1, 'password': 'pwned', 'roles': ['member']}})
        self.assertEqual(r.data[0]['ownerId'], 1, r.text)
        r = post('notes:create', [{'title': 'n2', 'owner': evil}])
        self.assertEqual(r.status, 200, r.text)
        self.assertIsNone(self.ok('GET', 'users:get?filter={"username":"evil"}'))
        self.assertEqual(self.server.request('POST', 'auth:signIn', json={
            'account': 'nocobase', 'password': 'pwned'}).status, 401)
        root = self.ok('GET', 'users:get/1?appends=roles')
        self.assertEqual(sorted(x['name'] for x in root['roles']), ['admin', 'member', 'root'])
        r = self.server.request('GET', 'notes/%d/owner:get' % mine['id'],
                                token=self.tokens['alice'], role='ownstrat')
        self.assertEqual(r.status, 200, 'reading is the ACL of users (view:own): ' + r.text)

    def test_variables_name_the_current_user(self):
        a = self.as_user('alice', 'create', 'ownstrat',
                         body={'title': 'mine', 'createdById': 1}).data
        self.assertEqual(a['createdById'], self.user_id('alice'), 'set by the server')
        self.assertEqual(a['updatedById'], a['createdById'])
        self.ok('POST', 'notes:update?filterByTk=%d' % a['id'], json={'priority': 3})
        self.assertEqual(self.ok('GET', 'notes:get/%d' % a['id'])['updatedById'], 1)
        for var in ('{{$user.id}}', '{{ ctx.state.currentUser.id }}'):
            flt = json.dumps({'createdById': var})
            self.assertIn('mine', self.titles('alice', 'ownstrat', filter=flt))
            self.assertNotIn('mine', self.titles('bob', 'ownstrat', filter=flt))
        r = self.server.request('GET', 'notes:list', token=self.tokens['alice'], role='ownstrat',
                                params={'filter': '{"createdBy.password":{"$notEmpty":true}}'})
        self.assertEqual(r.status, 400, 'a hidden field is no filter: ' + r.text)
        self.ok('POST', 'notes:destroy?filterByTk=%d' % a['id'])


if __name__ == '__main__':
    unittest.main()
