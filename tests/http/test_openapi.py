"""GET /api/openapi.json (issue 14, point 5): an OpenAPI 3.1 document made
from the route table and the live schema.

It must validate (@apidevtools/swagger-parser: the official 3.1 JSON
Schema and every $ref resolved; installed by scripts/deps.sh in
tests/http/openapi) and list every route of `flowcgi.fcgi routes`.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from flows import Api, calc
from harness import HERE, Site, sign_in, start_lighttpd

VALIDATOR = os.path.join(HERE, 'openapi', 'validate.mjs')
NODE = shutil.which('node', path='/usr/local/bin:/usr/bin:/bin')


def validate(doc):
    """(ok, message) from the validator."""
    if not NODE or not os.path.isdir(os.path.join(HERE, 'openapi', 'node_modules',
                                                  '@apidevtools')):
        raise AssertionError('the OpenAPI validator is not installed: run '
                             'scripts/deps.sh (npm ci in tests/http/openapi)')
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(doc, f)
    try:
        p = subprocess.run([NODE, VALIDATOR, f.name], capture_output=True, text=True,
                           timeout=120, cwd=os.path.dirname(VALIDATOR))
    finally:
        os.unlink(f.name)
    return p.returncode == 0 and p.stdout.strip() == 'valid', p.stdout + p.stderr


def route_names(site):
    r = site.cli('routes', db=False)
    assert r.returncode == 0, r.stderr
    return {'%s:%s' % tuple(line.split('\t')[:2]) for line in r.stdout.splitlines()}


def operations(doc):
    """(path, method, operation) of every operation."""
    for path, item in doc['paths'].items():
        for method, op in item.items():
            if method in ('get', 'post', 'put', 'patch', 'delete'):
                yield path, method, op


def deref(doc, node):
    if isinstance(node, dict) and '$ref' in node:
        target = doc
        for part in node['$ref'][2:].split('/'):
            target = target[part]
        return deref(doc, target)
    return node


class OpenAPI(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.srv = start_lighttpd(cls.site, procs=2)
        cls.token = sign_in(cls.srv)
        api = cls.api = Api(cls.srv, cls.token)
        api.collection('categories', [{'name': 'title', 'type': 'string'}])
        api.collection('tags', [{'name': 'name', 'type': 'string'}])
        api.collection('posts', [
            {'name': 'title', 'type': 'string'}, {'name': 'body', 'type': 'text'},
            {'name': 'views', 'type': 'integer'}, {'name': 'big', 'type': 'bigInt'},
            {'name': 'score', 'type': 'float'}, {'name': 'ratio', 'type': 'double'},
            {'name': 'price', 'type': 'decimal'}, {'name': 'published', 'type': 'boolean'},
            {'name': 'at', 'type': 'date'}, {'name': 'extra', 'type': 'json'},
            {'name': 'category', 'type': 'belongsTo', 'target': 'categories',
             'foreignKey': 'categoryId'},
            {'name': 'comments', 'type': 'hasMany', 'target': 'comments',
             'foreignKey': 'postId'},
            {'name': 'tags', 'type': 'belongsToMany', 'target': 'tags'}],
            createdBy=True)
        api.collection('comments', [{'name': 'text', 'type': 'string'}])
        cls.on_posts = api.workflow('posts wf', {'type': 1, 'collection': 'posts'},
                                    nodes=[calc('1')])
        cls.disabled = api.workflow('off', {'type': 1, 'collection': 'posts'},
                                    nodes=[calc('1')], enabled=False)
        cls.on_categories = api.workflow('cat wf', {'type': 1, 'collection': 'categories'},
                                         nodes=[calc('1')])
        cls.global_wf = api.workflow('global', {'type': 0}, nodes=[calc('1')])
        cls.hook = api.ok('POST', 'workflows:create', {
            'title': 'hook', 'type': 'webhook', 'sync': True, 'enabled': True,
            'config': {'secret': 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
                       'scheme': 'standard'}})
        r = cls.srv.get('openapi.json', token=cls.token)
        assert r.status == 200, r.text[:500]
        cls.response = r
        cls.doc = r.json

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def op(self, path, method):
        self.assertIn(path, self.doc['paths'], sorted(self.doc['paths'])[:50])
        return self.doc['paths'][path][method]

    def params(self, op):
        return {p['name']: p for p in (deref(self.doc, x) for x in op['parameters'])}

    def test_validates(self):
        self.assertEqual(self.doc['openapi'], '3.1.0')
        self.assertTrue(self.response.headers['content-type'].startswith('application/json'))
        ok, msg = validate(self.doc)
        self.assertTrue(ok, msg[:3000])

    def test_every_route_listed(self):
        listed = {op['x-flowcgi-route'] for _, _, op in operations(self.doc)}
        self.assertEqual(route_names(self.site) - listed, set(), 'routes missing')
        self.assertEqual(listed - route_names(self.site), set(), 'not routes')

    def test_paths_and_ids_consistent(self):
        ids = [op['operationId'] for _, _, op in operations(self.doc)]
        self.assertEqual(len(ids), len(set(ids)))
        for path, method, op in operations(self.doc):
            declared = {p['name'] for p in self.params(op).values() if p['in'] == 'path'}
            self.assertEqual(declared, set(re.findall(r'\{(\w+)\}', path)), (path, method))

    def test_collections_and_their_schemas(self):
        for path in ('/posts:list', '/posts:get/{filterByTk}', '/posts:create',
                     '/posts:update/{filterByTk}', '/posts:destroy', '/posts:trigger',
                     '/posts:trigger/{filterByTk}', '/posts/{id}/comments:list',
                     '/posts/{id}/category:get', '/posts/{id}/tags:create',
                     '/comments:list', '/categories:trigger'):
            self.assertIn(path, self.doc['paths'])
        props = self.doc['components']['schemas']['posts']['properties']
        want = {'title': ['string', 'null'], 'body': ['string', 'null'],
                'views': ['integer', 'null'], 'big': ['integer', 'null'],
                'score': ['number', 'null'], 'ratio': ['number', 'null'],
                'price': ['string', 'null'], 'published': ['boolean', 'null'],
                'at': ['string', 'null']}
        for name, t in want.items():
            self.assertEqual(props[name]['type'], t, name)
        self.assertEqual(props['at']['format'], 'date-time')
        self.assertEqual(props['extra'], {})
        self.assertEqual(props['id']['type'], 'integer')
        self.assertEqual(props['category']['anyOf'][0], {'$ref': '#/components/schemas/categories'})
        self.assertEqual(props['comments'], {'type': 'array', 'items': {
            '$ref': '#/components/schemas/comments'}})
        self.assertEqual(props['createdBy']['anyOf'][0], {'$ref': '#/components/schemas/users'})
        self.assertIn('users', self.doc['components']['schemas'])
        self.assertNotIn('password', self.doc['components']['schemas']['users']['properties'])
        values = self.doc['components']['schemas']['posts.values']['properties']
        self.assertIn('title', values)
        self.assertNotIn('createdAt', values)
        self.assertNotIn('id', values)
        lst = self.op('/posts:list', 'get')
        data = lst['responses']['200']['content']['application/json']['schema']
        self.assertEqual(data['properties']['data']['items'], {'$ref': '#/components/schemas/posts'})
        self.assertIn('filter', self.params(lst))
        create = self.op('/posts:create', 'post')
        self.assertEqual(create['requestBody']['content']['application/json']['schema'],
                         {'$ref': '#/components/schemas/posts.values'})
        self.assertEqual(create['responses']['default'], {'$ref': '#/components/responses/Error'})
        err = self.doc['components']['schemas']['flowcgi.Errors']
        self.assertEqual(err['properties']['errors']['items']['required'], ['message', 'code'])

    def test_trigger_keys_dry_run_idempotency(self):
        for path in ('/posts:trigger', '/posts:trigger/{filterByTk}'):
            op = self.op(path, 'post')
            p = self.params(op)
            enum = p['triggerWorkflows']['schema']['items']['anyOf'][0]['enum']
            self.assertEqual(enum, [self.on_posts['key']])
            for name in ('dryRun', 'trace', 'Idempotency-Key', 'X-Role', 'X-Request-Id'):
                self.assertIn(name, p, path)
            self.assertIn('X-Execution-Id', op['responses']['200']['headers'])
            self.assertEqual(op['x-flowcgi-route'], '<collection>:trigger')
        p = self.params(self.op('/categories:trigger/{filterByTk}', 'post'))
        self.assertEqual(p['triggerWorkflows']['schema']['items']['anyOf'][0]['enum'],
                         [self.on_categories['key']])
        p = self.params(self.op('/workflows:trigger', 'post'))
        self.assertEqual(p['triggerWorkflows']['schema']['items']['anyOf'][0]['enum'],
                         [self.global_wf['key']])
        self.assertNotIn('Idempotency-Key', self.params(self.op('/posts:list', 'get')))
        self.assertIn('Idempotency-Key', self.params(self.op('/posts:create', 'post')))
        # The console offers dry runs when the document names dryRun.
        self.assertIn('"dryRun"', self.response.text)

    def test_auth_workflows_executions_webhooks(self):
        schemes = self.doc['components']['securitySchemes']
        self.assertEqual((schemes['bearer']['scheme'], schemes['bearer']['bearerFormat']),
                         ('bearer', 'JWT'))
        self.assertEqual(self.op('/auth:signIn', 'post')['security'], [])
        self.assertEqual(self.op('/auth:signIn', 'post')['requestBody']['content']
                         ['application/json']['schema'],
                         {'$ref': '#/components/schemas/flowcgi.SignIn'})
        for path, method in (('/auth:check', 'get'), ('/workflows:list', 'get'),
                             ('/workflows/{id}/nodes:create', 'post'),
                             ('/executions:get/{filterByTk}', 'get'),
                             ('/executions:retry/{filterByTk}', 'post'),
                             ('/roles/{name}/resources:list', 'get'),
                             ('/metrics', 'get'), ('/openapi.json', 'get')):
            self.op(path, method)
        hook = self.op('/webhooks:trigger/{workflowKey}', 'post')
        p = self.params(hook)
        self.assertEqual(p['workflowKey']['schema']['enum'], [self.hook['key']])
        for h in ('webhook-id', 'webhook-timestamp', 'webhook-signature',
                  'X-Hub-Signature-256', 'X-GitHub-Delivery'):
            self.assertEqual(p[h]['in'], 'header')
        self.assertEqual(hook['security'], [])
        self.assertIn('202', hook['responses'])

    def test_signed_in_users_only_and_both_forms(self):
        self.assertEqual(self.srv.get('openapi.json').status, 401)
        self.api.ok('POST', 'users:create', {'username': 'o1', 'email': 'o1@x.org',
                                             'password': 'pw123456', 'roles': ['member']})
        member = sign_in(self.srv, 'o1@x.org', 'pw123456')
        r = self.srv.get('openapi.json', token=member)
        self.assertEqual(r.status, 200, r.text[:300])
        r = self.srv.get('openapi:get', token=self.token)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json['servers'], [{'url': '/api'}])
        self.assertEqual(self.doc['servers'], [{'url': '/api'}])


class EmptySchema(unittest.TestCase):
    """Before any collection exists the templated paths stand in."""

    def test_templated_paths_validate(self):
        with Site() as site:
            srv = start_lighttpd(site, procs=1)
            token = sign_in(srv)
            r = srv.get('openapi.json', token=token)
            self.assertEqual(r.status, 200, r.text[:300])
            doc = r.json
            self.assertIn('/{collection}:trigger/{filterByTk}', doc['paths'])
            self.assertIn('/{collection}/{id}/{association}:list', doc['paths'])
            listed = {op['x-flowcgi-route'] for _, _, op in operations(doc)}
            self.assertEqual(route_names(site) - listed, set())
            ok, msg = validate(doc)
            self.assertTrue(ok, msg[:3000])


if __name__ == '__main__':
    unittest.main()
