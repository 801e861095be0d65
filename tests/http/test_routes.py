"""The administration routes the other suites do not need, one by one:
users' and workflows' associations, roles and their grants and users,
scopes, API keys, environment variables, nodes, executions and jobs."""

import unittest

from harness import Site, start_lighttpd, sign_in, diagnose
from flows import Api, calc


class AdminRoutes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=1)
        cls.api = Api(cls.server, sign_in(cls.server))
        cls.api.collection('notes', [{'name': 'title', 'type': 'string'}])
        cls.wf = cls.api.workflow('two', {'type': 0}, nodes=[calc('1 + 1'),
                                                          calc('2 * 3')])
        r = cls.api.post('workflows:trigger?triggerWorkflows=%s' % cls.wf['key'], {})
        assert r.status == 200, diagnose(r)
        cls.exec_id = int(r.headers['x-execution-id'])

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def test_sign_up_is_refused(self):
        r = self.server.request('POST', 'auth:signUp', json={'username': 'x'})
        self.assertEqual(r.status, 403, r.text)
        self.assertEqual(r.errors[0]['message'], 'Not allowed to sign up')

    def test_user_associations(self):
        roles = self.api.ok('GET', 'users/1/roles:list', params={'sort': 'name'})
        self.assertEqual(sorted(r['name'] for r in roles), ['admin', 'member', 'root'])
        one = self.api.ok('GET', 'users/1/roles:get/member')
        self.assertEqual(one['name'], 'member')

    def test_roles_crud_and_users(self):
        made = self.api.ok('POST', 'roles:create', {'name': 'editor', 'title': 'Editor'})
        self.assertEqual(made['name'], 'editor')
        self.api.ok('POST', 'roles:update?filterByTk=editor', {'title': 'Editors'})
        self.assertEqual(self.api.ok('GET', 'roles:get/editor')['title'], 'Editors')
        grant = self.api.ok('POST', 'roles/editor/resources:create',
                            {'name': 'notes', 'usingActionsConfig': True,
                             'actions': [{'name': 'view'}]})
        got = self.api.ok('GET', 'roles/editor/resources:get/%d' % grant['id'])
        self.assertEqual(got['name'], 'notes')
        uid = self.api.ok('POST', 'users:create', {'username': 'ed', 'password': 'pw123456',
                                                   'roles': ['member']})['id']
        r = self.api.post('roles/editor/users:add', [uid])
        self.assertEqual(r.status, 200, diagnose(r))
        holders = self.api.ok('GET', 'roles/editor/users:list')
        self.assertEqual([u['id'] for u in holders], [uid])
        self.api.ok('POST', 'roles:destroy?filterByTk=editor')
        r = self.api.get('roles:get/editor')
        self.assertEqual((r.status, r.data), (200, None), r.text)

    def test_scopes(self):
        s = self.api.ok('POST', 'dataSourcesRolesResourcesScopes:create',
                        {'key': 'mine', 'name': 'Mine', 'resourceName': 'notes',
                         'scope': {'title': 'x'}})
        got = self.api.ok('GET', 'dataSourcesRolesResourcesScopes:get/%d' % s['id'])
        self.assertEqual(got['scope'], {'title': 'x'})
        self.api.ok('POST', 'dataSourcesRolesResourcesScopes:update?filterByTk=%d' % s['id'],
                    {'scope': {'title': 'y'}})
        got = self.api.ok('GET', 'dataSourcesRolesResourcesScopes:get/%d' % s['id'])
        self.assertEqual(got['scope'], {'title': 'y'})
        n = self.api.ok('POST', 'dataSourcesRolesResourcesScopes:destroy?filterByTk=%d' % s['id'])
        self.assertEqual(n, 1)

    def test_api_key_get(self):
        self.api.ok('POST', 'apiKeys:create', {'name': 'k', 'role': {'name': 'admin'},
                                               'expiresIn': '1d'})
        keys = self.api.ok('GET', 'apiKeys:list')
        got = self.api.ok('GET', 'apiKeys:get/%d' % keys[-1]['id'])
        self.assertEqual((got['name'], got['roleName']), ('k', 'admin'))
        self.assertNotIn('token', got)

    def test_environment_variables(self):
        v = self.api.ok('POST', 'environmentVariables:create', {'name': 'REGION', 'value': 'eu'})
        self.assertEqual([x['name'] for x in self.api.ok('GET', 'environmentVariables:list')],
                         ['REGION'])
        self.api.ok('POST', 'environmentVariables:update?filterByTk=%d' % v['id'], {'value': 'us'})
        self.assertEqual(self.api.ok('GET', 'environmentVariables:get/%d' % v['id'])['value'],
                         'us')
        self.assertEqual(self.api.ok('POST', 'environmentVariables:destroy?filterByTk=%d'
                                     % v['id']), 1)

    def test_workflow_associations_and_nodes(self):
        wid = self.wf['id']
        execs = self.api.ok('GET', 'workflows/%d/executions:list' % wid)
        self.assertIn(self.exec_id, [e['id'] for e in execs])
        one = self.api.ok('GET', 'workflows/%d/executions:get/%d' % (wid, self.exec_id))
        self.assertEqual(one['status'], 1)
        nodes = self.api.ok('GET', 'flow_nodes:list',
                            params={'filter': '{"workflowId":%d}' % wid, 'sort': 'id'})
        self.assertEqual(len(nodes), 2)
        got = self.api.ok('GET', 'flow_nodes:get/%d' % nodes[0]['id'])
        self.assertEqual(got['type'], 'calculation')

    def test_jobs_list_and_execution_destroy(self):
        r = self.api.post('workflows:trigger?triggerWorkflows=%s' % self.wf['key'], {})
        eid = int(r.headers['x-execution-id'])
        jobs = self.api.ok('GET', 'jobs:list',
                           params={'filter': '{"executionId":%d}' % eid})
        self.assertEqual([j['result'] for j in jobs], [2, 6])
        self.assertEqual(self.api.ok('POST', 'executions:destroy?filterByTk=%d' % eid), 1)
        r = self.api.get('executions:get/%d' % eid)
        self.assertEqual((r.status, r.data), (200, None), r.text)


if __name__ == '__main__':
    unittest.main()
