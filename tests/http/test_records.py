"""Collections and records through lighttpd: URL forms, filters, pages,
appends of every association type, nested writes, association resources."""

import unittest

from harness import Site, start_lighttpd, sign_in


def create_schema(server, token):
    def post(path, body):
        r = server.request('POST', path, json=body, token=token)
        assert r.status == 200, (path, r.status, r.text)
        return r.json['data']

    post('collections:create', {'name': 'categories', 'fields': [
        {'name': 'title', 'type': 'string'},
        {'name': 'posts', 'type': 'hasMany', 'target': 'posts',
         'foreignKey': 'categoryId'}]})
    post('collections:create', {'name': 'tags', 'fields': [
        {'name': 'name', 'type': 'string'}]})
    post('collections:create', {'name': 'posts', 'createdBy': True, 'fields': [
        {'name': 'title', 'type': 'string'},
        {'name': 'body', 'type': 'text'},
        {'name': 'read', 'type': 'integer'},
        {'name': 'score', 'type': 'double'},
        {'name': 'price', 'type': 'decimal'},
        {'name': 'published', 'type': 'boolean'},
        {'name': 'day', 'type': 'date'},
        {'name': 'meta', 'type': 'json'},
        {'name': 'category', 'type': 'belongsTo', 'target': 'categories',
         'foreignKey': 'categoryId'},
        {'name': 'tags', 'type': 'belongsToMany', 'target': 'tags'},
        {'name': 'detail', 'type': 'hasOne', 'target': 'details',
         'foreignKey': 'postId'}]})
    post('collections:create', {'name': 'details', 'fields': [
        {'name': 'note', 'type': 'string'}]})
    return post


class Records(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site)
        cls.token = sign_in(cls.server)
        post = create_schema(cls.server, cls.token)
        cls.p1 = post('posts:create', {
            'title': 'Hello world', 'read': 3, 'score': 1.5, 'price': '12.50',
            'published': True, 'day': '2026-01-02T10:00:00Z',
            'meta': {'a': [1, 2]}, 'category': {'title': 'news'},
            'tags': [{'name': 't1'}, {'name': 't2'}],
            'detail': {'note': 'd1'}})
        cls.p2 = post('posts:create', {'title': 'second', 'read': '7',
                                       'category': 1, 'published': False})
        cls.p3 = post('posts:create', {'title': 'Third_%', 'read': 10})

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def get(self, path, **kw):
        return self.server.request('GET', path, token=self.token, **kw)

    def ids(self, r):
        self.assertEqual(r.status, 200, r.text)
        return [row['id'] for row in r.json['data']]

    def test_value_types(self):
        p = self.p1
        self.assertEqual(p['read'], 3)
        self.assertEqual(p['score'], 1.5)
        self.assertEqual(p['price'], '12.50')
        self.assertIs(p['published'], True)
        self.assertEqual(p['day'], '2026-01-02T10:00:00.000Z')
        self.assertEqual(p['meta'], {'a': [1, 2]})
        self.assertEqual(p['createdById'], 1)
        self.assertRegex(p['createdAt'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
        self.assertEqual(self.p2['read'], 7)

    def test_nested_belongs_to_create(self):
        self.assertEqual(self.p1['category']['title'], 'news')
        self.assertEqual(self.p1['categoryId'], self.p1['category']['id'])
        self.assertEqual(self.p2['categoryId'], 1)
        self.assertNotIn('category', self.p2)

    def test_url_forms(self):
        pid = self.p1['id']
        for path in ('posts:get/%d' % pid, 'posts:get?filterByTk=%d' % pid,
                     'posts/%d' % pid, '/api/posts:get/%d' % pid):
            r = self.get(path)
            self.assertEqual(r.status, 200, (path, r.text))
            self.assertEqual(r.json['data']['id'], pid, path)
        self.assertEqual(self.ids(self.get('posts')), self.ids(self.get('posts:list')))
        r = self.server.request('POST', 'posts:list', token=self.token)
        self.assertEqual(r.status, 200, 'colon form takes any method')
        r = self.server.request('PUT', 'posts', token=self.token)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.json['errors'][0]['code'], 'METHOD_NOT_ALLOWED')

    def test_get_missing_is_null(self):
        r = self.get('posts:get/999999')
        self.assertEqual((r.status, r.json), (200, {'data': None}))

    def test_filters(self):
        cases = [
            ({'title': 'second'}, [2]),
            ({'title': {'$eq': 'second'}}, [2]),
            ({'title': {'$ne': 'second'}}, [1, 3]),
            ({'read': {'$gt': 3}}, [2, 3]),
            ({'read': {'$gte': 3}}, [1, 2, 3]),
            ({'read': {'$lt': 7}}, [1]),
            ({'read': {'$lte': 7}}, [1, 2]),
            ({'id': {'$in': [1, 3]}}, [1, 3]),
            ({'id': {'$notIn': [1, 3]}}, [2]),
            ({'title': {'$includes': 'WORLD'}}, [1]),
            ({'title': {'$notIncludes': 'o'}}, [3]),
            ({'title': {'$startsWith': 'sec'}}, [2]),
            ({'title': {'$notStartsWith': 'sec'}}, [1, 3]),
            ({'title': {'$endWith': '_%'}}, [3]),
            ({'title': {'$notEndWith': 'd'}}, [3]),
            ({'price': {'$empty': True}}, [2, 3]),
            ({'price': {'$notEmpty': True}}, [1]),
            ({'published': {'$isTruly': True}}, [1]),
            ({'published': {'$isFalsy': True}}, [2, 3]),
            ({'$and': [{'read': {'$gt': 1}}, {'read': {'$lt': 10}}]}, [1, 2]),
            ({'$or': [{'id': 1}, {'title': 'Third_%'}]}, [1, 3]),
            ({'category.title': 'news'}, [1, 2]),
            ({'tags.name': {'$in': ['t2']}}, [1]),
            ({'detail.note': 'd1'}, [1]),
            ({'read.$gt': 5}, [2, 3]),
            ({'createdById': '{{$user.id}}'}, [1, 2, 3]),
            ({'createdById': '{{ ctx.state.currentUser.id }}'}, [1, 2, 3]),
        ]
        import json
        for flt, want in cases:
            r = self.get('posts:list', params={'filter': json.dumps(flt)})
            self.assertEqual(self.ids(r), want, flt)
        # qs bracket form
        self.assertEqual(self.ids(self.get('posts:list?filter[title]=second')), [2])

    def test_sort_and_pages(self):
        self.assertEqual(self.ids(self.get('posts:list?sort=-read')), [3, 2, 1])
        self.assertEqual(self.ids(self.get('posts:list?sort=category.title,-id')),
                         [2, 1, 3])
        r = self.get('posts:list?pageSize=2&page=2&sort=id')
        self.assertEqual(self.ids(r), [3])
        self.assertEqual(r.json['meta'], {'count': 3, 'page': 2, 'pageSize': 2,
                                          'totalPage': 2})
        r = self.get('posts:list?paginate=false')
        self.assertNotIn('meta', r.json)
        self.assertEqual(len(r.json['data']), 3)

    def test_fields_and_except(self):
        r = self.get('posts:list?fields=id,title&sort=id')
        self.assertEqual(r.json['data'][0], {'id': 1, 'title': 'Hello world'})
        r = self.get('posts:get/1?except=body,meta')
        self.assertNotIn('meta', r.json['data'])
        self.assertIn('title', r.json['data'])

    def test_appends_each_association_type(self):
        r = self.get('posts:get/1?appends=category,tags,detail')
        d = r.json['data']
        self.assertEqual(d['category']['title'], 'news')
        self.assertEqual(sorted(t['name'] for t in d['tags']), ['t1', 't2'])
        self.assertEqual(d['detail']['note'], 'd1')
        r = self.get('categories:get/1?appends[]=posts')
        self.assertEqual(sorted(p['id'] for p in r.json['data']['posts']), [1, 2])
        r = self.get('posts:get/3?appends=category,tags,detail')
        d = r.json['data']
        self.assertIsNone(d['category'])
        self.assertEqual(d['tags'], [])
        self.assertIsNone(d['detail'])
        r = self.get('posts:get/1?appends=category.posts')
        self.assertEqual(len(r.json['data']['category']['posts']), 2)
        r = self.get('posts:get/1?fields=title&appends=createdBy')
        self.assertEqual(r.json['data']['createdBy']['username'], 'nocobase')
        self.assertNotIn('password', r.json['data']['createdBy'])

    def test_association_resources(self):
        self.assertEqual(self.ids(self.get('categories/1/posts:list')), [1, 2])
        r = self.get('posts/1/category:get')
        self.assertEqual(r.json['data']['title'], 'news')
        self.assertEqual(sorted(t['name'] for t in
                                self.get('posts/1/tags:list').json['data']),
                         ['t1', 't2'])
        self.assertEqual(self.get('posts/1/detail:get').json['data']['note'], 'd1')
        r = self.server.request('POST', 'categories/1/posts:create',
                                json={'title': 'via assoc'}, token=self.token)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.json['data']['categoryId'], 1)
        r = self.server.request('POST', 'posts/2/tags:create',
                                json={'name': 't3'}, token=self.token)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual([t['name'] for t in self.get('posts/2/tags:list').json['data']],
                         ['t3'])
        # REST association form
        self.assertEqual(self.get('categories/1/posts').status, 200)
        self.server.request('POST', 'posts:destroy', token=self.token,
                            params={'filter': '{"title":"via assoc"}'})

    def test_update_and_destroy(self):
        post = self.server.request('POST', 'posts:create', json={'title': 'tmp', 'read': 1},
                                   token=self.token).json['data']
        r = self.server.request('POST', 'posts:update?filterByTk=%d' % post['id'],
                                json={'read': 5, 'unknownKey': 1}, token=self.token)
        self.assertEqual(r.status, 200, r.text)
        self.assertIsInstance(r.json['data'], list)
        self.assertEqual(r.json['data'][0]['read'], 5)
        self.assertGreaterEqual(r.json['data'][0]['updatedAt'], post['updatedAt'])
        r = self.server.request('PATCH', 'posts/%d' % post['id'], json={'read': 6},
                                token=self.token)
        self.assertEqual(r.json['data'][0]['read'], 6)
        r = self.server.request('POST', 'posts:destroy?filterByTk=%d' % post['id'],
                                token=self.token)
        self.assertEqual((r.status, r.json), (200, {'data': 1}))
        self.assertIsNone(self.get('posts:get/%d' % post['id']).json['data'])

    def test_filter_by_tk_array_and_order(self):
        r = self.get('posts:list?filterByTk[]=3&filterByTk[]=1')
        self.assertEqual(self.ids(r), [1, 3])
        r = self.get('posts:list?filterByTk[0]=2&filterByTk[1]=1')
        self.assertEqual(self.ids(r), [1, 2])

    def test_collections_api(self):
        r = self.get('collections:list?paginate=false')
        names = [c['name'] for c in r.json['data']]
        for n in ('posts', 'categories', 'tags', 'details'):
            self.assertIn(n, names)
        self.assertNotIn('users', names)
        r = self.get('collections:get?filterByTk=posts')
        self.assertEqual(r.json['data']['name'], 'posts')
        self.assertTrue(all('key' in f for f in r.json['data']['fields']))
        r = self.server.request('POST', 'collections:create', token=self.token, json={
            'name': 'throwaway', 'title': 'T', 'autoGenId': True, 'createdBy': True,
            'fields': [
                {'name': 'id', 'type': 'bigInt', 'autoIncrement': True,
                 'primaryKey': True, 'allowNull': False, 'interface': 'integer',
                 'uiSchema': {'type': 'number', 'title': 'ID'}},
                {'name': 'createdAt', 'type': 'date', 'field': 'createdAt',
                 'interface': 'createdAt'},
                {'name': 'updatedAt', 'type': 'date', 'interface': 'updatedAt'},
                {'name': 'title', 'type': 'string', 'interface': 'input',
                 'uiSchema': {'title': 'Title', 'x-component': 'Input'}}]})
        self.assertEqual(r.status, 200, r.text)
        row = self.server.request('POST', 'throwaway:create', json={'title': 'x'},
                                  token=self.token).json['data']
        self.assertEqual(set(row), {'id', 'createdAt', 'updatedAt', 'title',
                                    'createdById', 'updatedById'})
        r = self.server.request('POST', 'collections:destroy?filterByTk=throwaway',
                                token=self.token)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.get('throwaway:list').status, 404)


class CgiMode(unittest.TestCase):
    """The same program as plain CGI, with no web server."""

    def test_cgi_round_trip(self):
        from harness import CGIClient
        with Site() as site:
            c = CGIClient(site)
            r = c.post('auth:signIn', json={'account': 'nocobase',
                                            'password': 'admin123'},
                       headers={'X-Authenticator': 'basic'})
            self.assertEqual(r.status, 200, r.text)
            tok = r.json['data']['token']
            r = c.post('collections:create', token=tok,
                       json={'name': 'notes', 'fields': [{'name': 'n', 'type': 'integer'}]})
            self.assertEqual(r.status, 200, r.text)
            r = c.post('notes:create', token=tok, json={'n': 4})
            self.assertEqual(r.json['data']['n'], 4)
            r = c.get('notes:list', token=tok)
            self.assertEqual(r.json['meta']['count'], 1)
            r = c.get('notes:list')
            self.assertEqual(r.status, 401)


if __name__ == '__main__':
    unittest.main()
