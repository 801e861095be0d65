"""The trigger action through lighttpd (reference §3, contract §4 and §7):
every request path, every row of the §3.6 table, atomicity, async
workflows, permissions, and a smoke run through Apache.  The queue, crash
recovery and concurrency are in test_trigger_queue.py."""

import json
import unittest

from harness import Site, start_lighttpd, start_apache, sign_in, diagnose
from flows import Api, calc, update, create, end, message, db_exec

NO_ACTION = 'No action done, please contact the administrator'
FAILED = 'Workflow on your action failed, please contact the administrator'
REQUIRED = 'parameter "triggerWorkflows" is required'


def make_schema(api):
    """samples, categories -< posts >- tags, comments -> posts, log."""
    api.collection('samples', [{'name': 'title', 'type': 'string'},
                               {'name': 'indicator', 'type': 'integer'}])
    api.collection('categories', [
        {'name': 'title', 'type': 'string'},
        {'name': 'posts', 'type': 'hasMany', 'target': 'posts', 'foreignKey': 'categoryId'}])
    api.collection('tags', [{'name': 'name', 'type': 'string'}])
    api.collection('posts', [
        {'name': 'title', 'type': 'string'},
        {'name': 'category', 'type': 'belongsTo', 'target': 'categories',
         'foreignKey': 'categoryId'},
        {'name': 'tags', 'type': 'belongsToMany', 'target': 'tags'}], createdBy=True)
    api.collection('comments', [
        {'name': 'title', 'type': 'string'},
        {'name': 'post', 'type': 'belongsTo', 'target': 'posts', 'foreignKey': 'postId'}])
    api.collection('log', [{'name': 'tag', 'type': 'string'},
                           {'name': 'n', 'type': 'integer'}])
    api.create('samples', {'title': 'Seed A', 'indicator': 1})
    api.create('samples', {'title': 'Seed B', 'indicator': 2})
    api.create('categories', {'title': 'Cat 1'})
    api.create('categories', {'title': 'Cat 2'})
    api.create('posts', {'title': 'Post 1', 'categoryId': 1})
    api.create('posts', {'title': 'Post 2'})
    api.create('posts', {'title': 'Post 3', 'categoryId': 2})
    api.create('comments', {'title': 'Comment 1', 'postId': 1})


# The seed's update node: copy the context's indicator into the row.
UPD = update('samples', {'$and': [{'id': {'$eq': '{{$context.data.id}}'}}]},
             {'indicator': '{{$context.data.indicator}}'}, title='write indicator')
SAMPLES = {'type': 1, 'collection': 'samples'}


def log_node(tag):
    """A create node that records which workflow ran, in order."""
    return create('log', {'tag': tag}, title='log ' + tag)


class Base(unittest.TestCase):
    procs = 2

    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, procs=cls.procs)
        cls.token = sign_in(cls.server)
        cls.api = Api(cls.server, cls.token)
        make_schema(cls.api)

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    def assertError(self, r, status, code, message=None, reason=()):
        """One error object with NocoBase's message, our code and a reason."""
        self.assertEqual(r.status, status, diagnose(r))
        self.assertEqual(len(r.errors), 1, r.text)
        e = r.errors[0]
        self.assertEqual(e.get('code'), code, r.text)
        if message is not None:
            self.assertEqual(e['message'], message, r.text)
        for word in ([reason] if isinstance(reason, str) else reason):
            self.assertIn(word, e.get('reason', ''), r.text)
        return e

    def assertOk(self, r, body=None):
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual(r.json, {} if body is None else body)

    def log_tags(self):
        return [row['tag'] for row in self.api.rows('log')]

    def clear_log(self):
        self.api.ok('POST', 'log:destroy', params={'filter': '{"id":{"$gt":0}}'})


class Trigger(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        api = cls.api
        cls.w_sync = api.workflow('samples sync update', SAMPLES, nodes=[UPD])
        cls.w_trivial = api.workflow('samples trivial', SAMPLES)
        cls.w_cat = api.workflow('categories', {'type': 1, 'collection': 'categories',
                                                'appends': ['posts']})
        cls.w_posts = api.workflow('posts', {'type': 1, 'collection': 'posts',
                                             'appends': ['category']})
        cls.w_global = api.workflow('global', {'type': 0})

    # ---- the seed's three calls

    def test_seed_no_id_with_body(self):
        body = {'title': 'Sample 1', 'indicator': 91}
        r = self.api.trigger('samples:trigger', self.w_sync, body=body)
        self.assertOk(r)
        ex = self.api.last_execution(self.w_sync)
        self.assertEqual(ex['status'], 1)
        self.assertEqual(ex['context']['data'], body)
        self.assertEqual(ex['context']['roleName'], 'root')
        self.assertEqual(ex['context']['user']['id'], 1)
        self.assertNotIn('password', ex['context']['user'])
        # No id in the form: the update node's filter matches nothing.
        self.assertEqual([(j['status'], j['result']) for j in ex['jobs']], [(1, 0)])
        self.assertEqual(ex['jobs'][0]['nodeKey'], self.w_sync['nodes'][0]['key'])

    def test_seed_id(self):
        row = self.api.create('samples', {'title': 'by id', 'indicator': 5})
        r = self.api.trigger('samples:trigger/%d' % row['id'], self.w_sync)
        self.assertOk(r)
        ex = self.api.last_execution(self.w_sync)
        self.assertEqual(ex['context']['data'], row)
        self.assertEqual(ex['jobs'][0]['result'], 1)
        self.assertEqual(self.api.row('samples', row['id'])['indicator'], 5)

    def test_seed_id_with_body(self):
        row = self.api.create('samples', {'title': 'kept', 'indicator': 5})
        r = self.api.trigger('samples:trigger/%d' % row['id'], self.w_sync,
                             body={'title': 'ignored', 'indicator': 77})
        self.assertOk(r)
        ex = self.api.last_execution(self.w_sync)
        self.assertEqual(ex['context']['data'], dict(row, title='ignored', indicator=77))
        after = self.api.row('samples', row['id'])
        self.assertEqual((after['title'], after['indicator']), ('kept', 77))

    # ---- filterByTk

    def test_filter_by_tk_in_query(self):
        row = self.api.create('samples', {'title': 'q', 'indicator': 1})
        r = self.api.trigger('samples:trigger?filterByTk=%d' % row['id'], self.w_sync,
                             body={'indicator': 22})
        self.assertOk(r)
        self.assertEqual(self.api.row('samples', row['id'])['indicator'], 22)
        # The query's filterByTk wins over the path's (reference §1.3).
        r = self.api.trigger('samples:trigger/1?filterByTk=%d' % row['id'], self.w_trivial)
        self.assertOk(r)
        self.assertEqual(self.api.last_execution(self.w_trivial)['context']['data']['id'],
                         row['id'])

    def test_filter_by_tk_array(self):
        r = self.api.trigger('samples:trigger?filterByTk[]=2&filterByTk[]=999&filterByTk[]=1',
                             self.w_trivial, body={'title': 'form'})
        self.assertOk(r)
        data = self.api.last_execution(self.w_trivial)['context']['data']
        self.assertEqual([d['id'] for d in data], [1, 2], 'PK order, missing ids dropped')
        self.assertEqual({d['title'] for d in data}, {'form'})
        self.assertIn('indicator', data[0])
        r = self.api.trigger('samples:trigger?filterByTk[0]=2&filterByTk[1]=1', self.w_trivial)
        self.assertOk(r)
        data = self.api.last_execution(self.w_trivial)['context']['data']
        self.assertEqual([d['id'] for d in data], [1, 2])
        r = self.api.trigger('samples:trigger?filterByTk=%5B2%2C1%5D', self.w_trivial)
        self.assertOk(r)
        data = self.api.last_execution(self.w_trivial)['context']['data']
        self.assertEqual([d['id'] for d in data], [1, 2], 'filterByTk as JSON')
        # Nothing found: the workflow still runs, with an empty array.
        r = self.api.trigger('samples:trigger?filterByTk[]=998&filterByTk[]=999', self.w_trivial)
        self.assertOk(r)
        self.assertEqual(self.api.last_execution(self.w_trivial)['context']['data'], [])

    # ---- several keys

    def test_keys_run_in_order(self):
        a = self.api.workflow('log a', SAMPLES, nodes=[log_node('a')])
        b = self.api.workflow('log b', SAMPLES, nodes=[log_node('b')])
        self.clear_log()
        self.assertOk(self.api.trigger('samples:trigger/1', a, b))
        self.assertOk(self.api.trigger('samples:trigger/1', b, a))
        self.assertEqual(self.log_tags(), ['a', 'b', 'b', 'a'])
        ea, eb = self.api.executions(a), self.api.executions(b)
        self.assertLess(ea[0]['id'], eb[0]['id'])
        self.assertGreater(ea[1]['id'], eb[1]['id'])
        # NocoBase 2.2.15 leaves "manually" null on a triggered execution
        # (true only for workflows:execute): seen against the real server.
        self.assertIsNone(ea[0]['manually'])

    def test_duplicate_key_runs_twice(self):
        w = self.api.workflow('log dup', SAMPLES, nodes=[log_node('dup')])
        self.clear_log()
        self.assertOk(self.api.trigger('samples:trigger/1', w, w))
        self.assertEqual(self.log_tags(), ['dup', 'dup'])
        self.assertEqual(len(self.api.executions(w)), 2)
        self.assertEqual(self.api.ok('GET', 'workflows:get/%d' % w['id'])['executed'], 2)

    def test_blank_items_and_a_known_key_among_unknown(self):
        r = self.api.trigger('samples:trigger/1', spec=' ,%s,,nosuchkey,' % self.w_trivial['key'])
        self.assertOk(r)

    # ---- nothing matched: 500 No action done, with the reason

    def test_unknown_key(self):
        r = self.api.trigger('samples:trigger/1', spec='nosuchkey')
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, ['nosuchkey', 'unknown'])

    def test_disabled_key(self):
        w = self.api.workflow('disabled', SAMPLES, enabled=False)
        r = self.api.trigger('samples:trigger/1', w)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, [w['key'], 'disabled'])

    def test_key_of_another_collection(self):
        r = self.api.trigger('samples:trigger/1', self.w_cat)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION,
                         [self.w_cat['key'], '"categories"'])
        r = self.api.trigger('samples:trigger/1', self.w_global)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, self.w_global['key'])
        # All the reasons, when several keys were dropped.
        r = self.api.trigger('samples:trigger/1', spec='nosuchkey,' + self.w_cat['key'])
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION,
                         ['nosuchkey', self.w_cat['key']])

    def test_main_prefix(self):
        # Accepted and stored bare (contract §7), so it matches.
        w = self.api.workflow('main prefix', {'type': 1, 'collection': 'main:samples'})
        self.assertEqual(self.api.ok('GET', 'workflows:get/%d' % w['id'])['config'],
                         {'type': 1, 'collection': 'samples'})
        self.assertOk(self.api.trigger('samples:trigger/1', w))
        # A row written behind the API's back keeps the prefix: never matches,
        # as in NocoBase.  So does a trigger type other than custom-action.
        raw = self.api.workflow('raw prefix', SAMPLES)
        db_exec(self.site, 'UPDATE workflows SET config = ? WHERE id = ?',
                [json.dumps({'type': 1, 'collection': 'main:samples'}), raw['id']])
        other = self.api.workflow('other type', SAMPLES)
        db_exec(self.site, "UPDATE workflows SET type = 'collection' WHERE id = ?", [other['id']])
        # Any change through the API moves the workflow counter: caches reload.
        self.api.ok('POST', 'workflows:update?filterByTk=%d' % w['id'], {'title': 'bump'})
        r = self.api.trigger('samples:trigger/1', raw)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, 'main:samples')
        r = self.api.trigger('samples:trigger/1', other)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, ['"collection"'])

    def test_trigger_workflows_parameter(self):
        for path in ('samples:trigger/1', 'samples:trigger/1?triggerWorkflows=',
                     'workflows:trigger'):
            r = self.api.post(path)
            self.assertError(r, 400, 'TRIGGER_WORKFLOWS_REQUIRED', REQUIRED)
        r = self.api.trigger('samples:trigger/1', spec=',,')
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION)

    def test_request_shapes(self):
        key = self.w_trivial['key']
        # The colon form takes any method; the token may be in the query.
        self.assertOk(self.server.request('GET', 'samples:trigger/1?triggerWorkflows=%s&token=%s'
                                          % (key, self.token)))
        self.assertOk(self.api.trigger('samples:trigger/1', self.w_trivial, body=[1, 2]))
        r = self.server.request('POST', 'samples:trigger/1?triggerWorkflows=' + key,
                                data='indicator=8', token=self.token,
                                headers={'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertOk(r)
        self.assertEqual(self.api.last_execution(self.w_trivial)['context']['data']['indicator'],
                         '8')
        r = self.api.trigger('samples:trigger/1', self.w_trivial,
                             headers={'X-Data-Source': 'nosuch'})
        self.assertError(r, 400, 'DATA_SOURCE_NOT_FOUND', 'data source nosuch does not exist')
        self.assertOk(self.api.trigger('samples:trigger/1', self.w_trivial,
                                       headers={'X-Data-Source': 'main'}))
        r = self.api.trigger('samples:trigger/1', self.w_trivial, body=None,
                             headers={'Content-Type': 'application/json'}, data='{"title": "x",')
        self.assertError(r, 400, 'INVALID_JSON')

    def test_missing_and_bad_record(self):
        n = len(self.api.executions(self.w_sync))
        r = self.api.trigger('samples:trigger/999999', self.w_sync)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, ['999999', 'not found'])
        r = self.api.trigger('samples:trigger/abc', self.w_sync)
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.errors[0]['code'], 'INVALID_ID')
        self.assertEqual(len(self.api.executions(self.w_sync)), n)

    # ---- key!path (contract §4.1 and §7)

    def test_key_path_workflow_of_the_target(self):
        r = self.api.trigger('posts:trigger/1', spec=self.w_cat['key'] + '!category',
                             body={'title': 'P', 'category': {'title': 'from form'}})
        self.assertOk(r)
        data = self.api.last_execution(self.w_cat)['context']['data']
        self.assertEqual((data['id'], data['title']), (1, 'from form'))
        self.assertEqual([p['id'] for p in data['posts']], [1], "the workflow's appends")
        # Without an id: the body's sub-object.
        r = self.api.trigger('posts:trigger', spec=self.w_cat['key'] + '!category',
                             body={'title': 'P', 'category': {'title': 'c1'}})
        self.assertOk(r)
        self.assertEqual(self.api.last_execution(self.w_cat)['context']['data'],
                         {'title': 'c1'})

    def test_key_path_workflow_of_the_request(self):
        r = self.api.trigger('posts:trigger/1', spec=self.w_posts['key'] + '!category',
                             body={'title': 'P', 'category': {'title': 'from form'}})
        self.assertOk(r)
        data = self.api.last_execution(self.w_posts)['context']['data']
        self.assertEqual((data['id'], data['title']), (1, 'from form'))
        self.assertEqual(data['category']['title'], 'Cat 1')
        self.assertEqual(data['categoryId'], 1)

    def test_stale_appends_are_ignored(self):
        # As NocoBase: appends naming no association load nothing more.
        w = self.api.workflow('stale appends', {'type': 1, 'collection': 'posts',
                                                'appends': ['nosuch', 'title', 'category']})
        self.assertOk(self.api.trigger('posts:trigger/1', w))
        data = self.api.last_execution(w)['context']['data']
        self.assertEqual((data['title'], data['category']['title']), ('Post 1', 'Cat 1'))
        self.assertOk(self.api.trigger('comments:trigger/1', spec=w['key'] + '!post'))
        self.assertEqual(self.api.last_execution(w)['context']['data']['category']['id'], 1)

    def test_key_path_dotted(self):
        r = self.api.trigger('comments:trigger/1', spec=self.w_cat['key'] + '!post.category')
        self.assertOk(r)
        data = self.api.last_execution(self.w_cat)['context']['data']
        self.assertEqual((data['id'], data['title']), (1, 'Cat 1'))

    def test_key_path_errors(self):
        for key in (self.w_cat['key'], self.w_posts['key'], 'nosuchkey'):
            r = self.api.trigger('categories:trigger/1', spec=key + '!posts')
            self.assertError(r, 400, 'ASSOCIATION_NOT_TO_ONE', reason=['posts', 'to-many'])
        r = self.api.trigger('posts:trigger/1', spec=self.w_posts['key'] + '!tags')
        self.assertError(r, 400, 'ASSOCIATION_NOT_TO_ONE', reason='tags')
        for path in ('title', 'nosuch', 'category.title'):
            r = self.api.trigger('posts:trigger/1', spec=self.w_cat['key'] + '!' + path)
            self.assertError(r, 400, 'INVALID_ASSOCIATION_PATH', reason=path.split('.')[-1])

    def test_key_path_missing_row_or_empty_association(self):
        n = len(self.api.executions(self.w_cat))
        r = self.api.trigger('posts:trigger/999', spec=self.w_cat['key'] + '!category')
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, '999')
        r = self.api.trigger('posts:trigger/2', spec=self.w_cat['key'] + '!category')
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, ['category', 'empty'])
        self.assertEqual(len(self.api.executions(self.w_cat)), n)
        # Skipped alone: another workflow of the request still runs.
        r = self.api.trigger('posts:trigger/2', spec='%s!category,%s' % (
            self.w_cat['key'], self.w_posts['key']))
        self.assertOk(r)
        self.assertEqual(len(self.api.executions(self.w_cat)), n)

    def test_key_path_array_of_ids(self):
        r = self.api.trigger('posts:trigger?filterByTk[]=3&filterByTk[]=1',
                             spec=self.w_cat['key'] + '!category',
                             body={'category': {'title': 'form'}})
        self.assertOk(r)
        data = self.api.last_execution(self.w_cat)['context']['data']
        self.assertEqual([(d['id'], d['title']) for d in data], [(1, 'form'), (2, 'form')])

    # ---- association resources

    def test_association_resources(self):
        r = self.api.trigger('posts/1/category:trigger', self.w_cat, body={'title': 'c'})
        self.assertOk(r)
        self.assertEqual(self.api.last_execution(self.w_cat)['context']['data'], {'title': 'c'})
        r = self.api.trigger('categories/1/posts:trigger?filterByTk=1', self.w_posts)
        self.assertOk(r)
        data = self.api.last_execution(self.w_posts)['context']['data']
        self.assertEqual((data['id'], data['category']['id']), (1, 1))
        # Post 3 is not one of category 1's posts: not found.
        r = self.api.trigger('categories/1/posts:trigger?filterByTk=3', self.w_posts)
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, '3')
        r = self.api.trigger('posts/1/category:trigger', self.w_posts, body={})
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, '"posts"')

    # ---- workflows:trigger (global context)

    def test_global_trigger(self):
        r = self.api.trigger('workflows:trigger', spec=self.w_global['key'] + '!foo',
                             body={'foo': 'bar'})
        self.assertOk(r)
        ex = self.api.last_execution(self.w_global)
        self.assertEqual(ex['context']['data'], {'foo': 'bar'}, 'the !path is ignored')
        self.assertEqual(ex['context']['roleName'], 'root')
        r = self.api.trigger('workflows:trigger', self.w_trivial, body={'foo': 'bar'})
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, self.w_trivial['key'])
        r = self.api.trigger('workflows:trigger', spec='nosuchkey')
        self.assertError(r, 500, 'NO_WORKFLOW_MATCHED', NO_ACTION, 'nosuchkey')
        # A legacy config without a type counts as global (reference §3.4).
        legacy = self.api.workflow('legacy', {'type': 0})
        db_exec(self.site, "UPDATE workflows SET config = '{}' WHERE id = ?", [legacy['id']])
        self.api.ok('POST', 'workflows:update?filterByTk=%d' % legacy['id'], {'title': 'bump'})
        self.assertOk(self.api.trigger('workflows:trigger', legacy, body={'x': 1}))
        self.assertEqual(self.api.last_execution(legacy)['context']['data'], {'x': 1})

    # ---- workflows:execute (manual run)

    def test_execute(self):
        w = self.api.workflow('manual', {'type': 1, 'collection': 'posts',
                                         'appends': ['category']},
                              nodes=[calc('{{$context.data.category.id}} * 10')],
                              enabled=False)
        r = self.api.post('workflows:execute?filterByTk=%d' % w['id'],
                          {'data': {'id': 1}, 'userId': 1})
        self.assertEqual(r.status, 200, diagnose(r))
        eid = r.data['execution']['id']
        self.assertEqual(r.data['execution']['status'], 1)
        self.assertNotIn('newVersionId', r.data)
        ex = self.api.execution(eid)
        self.assertIs(ex['manually'], True)
        self.assertEqual(ex['context']['data']['category']['title'], 'Cat 1', 'reloaded')
        self.assertEqual(ex['context']['user']['id'], 1)
        self.assertEqual(ex['jobs'][0]['result'], 10)
        # A scalar is the record's key.
        r = self.api.post('workflows:execute?filterByTk=%d' % w['id'], {'data': 3, 'userId': 1})
        self.assertEqual(r.status, 200, diagnose(r))
        self.assertEqual(self.api.execution(r.data['execution']['id'])['jobs'][0]['result'], 20)

    def test_execute_errors(self):
        wid = self.w_trivial['id']
        cases = [
            ('workflows:execute', {'data': 1, 'userId': 1}, 400, 'filterByTk is required'),
            ('workflows:execute?filterByTk=abc', {'data': 1, 'userId': 1}, 400,
             'filterByTk is invalid'),
            ('workflows:execute?filterByTk=999999', {'data': 1, 'userId': 1}, 404,
             'workflow not found'),
            ('workflows:execute?filterByTk=%d' % wid, {'data': 1}, 400, 'user is not provided'),
            ('workflows:execute?filterByTk=%d' % wid, {}, 400, 'user is not provided'),
            ('workflows:execute?filterByTk=%d' % wid, {'data': 1, 'userId': 999}, 400,
             'user not found'),
        ]
        for path, body, status, msg in cases:
            r = self.api.post(path, body)
            self.assertEqual((r.status, r.errors[0]['message'] if r.errors else r.text),
                             (status, msg), (path, body))
            self.assertTrue(r.errors[0].get('code') and r.errors[0].get('reason'), r.text)

    def test_execute_auto_revision(self):
        w = self.api.workflow('auto revision', {'type': 0}, nodes=[calc('1 + 1')])
        r = self.api.post('workflows:execute?filterByTk=%d&autoRevision=1' % w['id'],
                          {'data': {}, 'userId': 1})
        self.assertEqual(r.status, 200, diagnose(r))
        nid = r.data['newVersionId']
        new = self.api.ok('GET', 'workflows:get/%d' % nid)
        self.assertEqual((new['key'], new['enabled'], new['executed']), (w['key'], False, 0))
        self.assertEqual(len(self.api.nodes(nid)), 1)
        # Executed once already: no new version the second time.
        r = self.api.post('workflows:execute?filterByTk=%d&autoRevision=1' % w['id'],
                          {'data': {}, 'userId': 1})
        self.assertNotIn('newVersionId', r.data)

    # ---- how sync workflows end

    def test_end_success_skips_the_rest(self):
        w_end = self.api.workflow('end ok', SAMPLES, nodes=[end(1), log_node('after end')])
        w_log = self.api.workflow('log later', SAMPLES, nodes=[log_node('later')])
        w_async = self.api.workflow('async later', SAMPLES, sync=False,
                                    nodes=[log_node('async')])
        row = self.api.create('samples', {'title': 'end', 'indicator': 1})
        self.clear_log()
        r = self.api.trigger('samples:trigger/%d' % row['id'], w_end, self.w_sync, w_log,
                             w_async, body={'indicator': 123})
        self.assertOk(r)
        self.assertEqual(self.api.row('samples', row['id'])['indicator'], 1)
        self.assertEqual(self.api.executions(w_log), [])
        self.assertEqual(self.api.executions(w_async), [])
        ex = self.api.last_execution(w_end)
        self.assertEqual((ex['status'], len(ex['jobs'])), (1, 1))
        # Messages collected before a successful end are answered.
        w_msg_end = self.api.workflow('message then end', SAMPLES,
                                      nodes=[message('done {{$context.data.id}}'), end(1)])
        r = self.api.trigger('samples:trigger/1', w_msg_end, w_log)
        self.assertOk(r, {'messages': [{'message': 'done 1'}]})
        # A later request runs the queue: still nothing of w_async.
        self.api.get('samples:get/1')
        self.assertEqual(self.log_tags(), [])

    def test_interception_with_messages(self):
        w_msg = self.api.workflow('message', SAMPLES,
                                  nodes=[message('Rejected: {{$context.data.title}}')])
        w_stop = self.api.workflow('intercept', SAMPLES, nodes=[
            UPD, message('Rejected: {{$context.data.title}}'), end(-1)])
        row = self.api.create('samples', {'title': 'Seed X', 'indicator': 1})
        path = 'samples:trigger/%d' % row['id']
        r = self.api.trigger(path, w_msg)
        self.assertOk(r, {'messages': [{'message': 'Rejected: Seed X'}]})
        r = self.api.trigger(path, w_msg, w_stop, body={'indicator': 50})
        self.assertEqual(r.status, 400, diagnose(r))
        self.assertEqual([(e['message'], e['code']) for e in r.errors],
                         [('Rejected: Seed X', 'WORKFLOW_MESSAGE')] * 2)
        for e in r.errors:
            self.assertIn(w_stop['key'], e['reason'])
            self.assertIn('end -1', e['reason'])
        self.assertEqual(self.api.row('samples', row['id'])['indicator'], 1, 'rolled back')
        ex = self.api.last_execution(w_stop)
        self.assertEqual(ex['status'], -1)
        self.assertEqual([j['status'] for j in ex['jobs']], [1, 1, -1])

    def test_interception_without_messages(self):
        w = self.api.workflow('end failed', SAMPLES, nodes=[end(-1, title='stop here')])
        r = self.api.trigger('samples:trigger/1', w)
        self.assertError(r, 400, 'WORKFLOW_INTERCEPTED', 'Request is intercepted by workflow',
                         [w['key'], 'stop here'])

    def test_failure_in_second_workflow_rolls_back_the_first(self):
        w_fail = self.api.workflow('failing', SAMPLES, nodes=[
            log_node('before failure'), calc('1 +', title='broken')])
        w_async = self.api.workflow('async after failure', SAMPLES, sync=False,
                                    nodes=[log_node('async')])
        row = self.api.create('samples', {'title': 'atomic', 'indicator': 1})
        self.clear_log()
        n_sync = len(self.api.executions(self.w_sync))
        r = self.api.trigger('samples:trigger/%d' % row['id'], self.w_sync, w_fail, w_async,
                             body={'indicator': 9})
        e = self.assertError(r, 500, 'WORKFLOW_FAILED', FAILED, [w_fail['key'], 'broken'])
        self.assertNotIn('messages', r.json)
        self.assertIn('calculation', e['reason'])
        self.assertEqual(self.api.row('samples', row['id'])['indicator'], 1)
        self.assertEqual(self.log_tags(), [])
        # Both executions are history; the async one was never queued.
        exs = self.api.executions(self.w_sync)
        self.assertEqual(len(exs), n_sync + 1)
        self.assertEqual(exs[-1]['status'], 1)
        ex = self.api.last_execution(w_fail)
        self.assertEqual(ex['status'], -2)
        self.assertEqual([j['status'] for j in ex['jobs']], [1, -2])
        self.assertIn('Error', json.dumps(ex['jobs'][1]['result']))
        self.assertEqual(self.api.executions(w_async), [])

    def test_reject_on_false_fails(self):
        w = self.api.workflow('reject', SAMPLES, nodes=[{
            'type': 'condition', 'title': 'big enough', 'config': {
                'rejectOnFalse': True, 'engine': 'math.js',
                'expression': '{{$context.data.indicator}} > 10'}}])
        r = self.api.trigger('samples:trigger', w, body={'indicator': 3})
        self.assertError(r, 500, 'WORKFLOW_FAILED', FAILED, 'big enough')
        self.assertEqual(self.api.last_execution(w)['status'], -1)
        self.assertOk(self.api.trigger('samples:trigger', w, body={'indicator': 30}))

    # ---- asynchronous workflows

    def test_async_runs_after_the_response(self):
        w = self.api.workflow('async write', SAMPLES, sync=False, nodes=[
            update('samples', {'id': '{{$context.data.id}}'},
                   {'title': 'async {{$context.data.indicator}}'})])
        row = self.api.create('samples', {'title': 'before', 'indicator': 4})
        r = self.api.trigger('samples:trigger/%d' % row['id'], w)
        self.assertOk(r)
        ex = self.api.wait_execution(w)
        self.assertEqual(ex['context']['data']['id'], row['id'])
        self.assertIs(ex['dispatched'], True)
        self.assertEqual(ex['jobs'][0]['result'], 1)
        self.assertEqual(self.api.row('samples', row['id'])['title'], 'async 4')
        # Only async: still a success, and sync + async both run.
        self.assertOk(self.api.trigger('samples:trigger/%d' % row['id'], self.w_sync, w,
                                       body={'indicator': 8}))
        self.api.wait_execution(w, count=2)
        self.assertEqual(self.api.row('samples', row['id'])['title'], 'async 8')


class Permissions(Base):
    """trigger / triggerNew grants and the `own` scope (reference §3.2, §9)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        api = cls.api
        api.ok('POST', 'users:create', {'username': 'm1', 'nickname': 'M', 'email': 'm1@x.org',
                                        'password': 'member123', 'roles': ['member']})
        own = api.ok('GET', 'dataSourcesRolesResourcesScopes:list',
                     params={'filter': '{"key":"own"}'})[0]['id']
        api.ok('POST', 'roles/member/resources:create', {
            'name': 'posts', 'usingActionsConfig': True,
            'actions': [{'name': 'trigger', 'scope': own}, {'name': 'triggerNew'},
                        {'name': 'create'}]})
        cls.member = sign_in(cls.server, 'm1@x.org', 'member123')
        cls.w_posts = api.workflow('posts', {'type': 1, 'collection': 'posts'})
        cls.w_global = api.workflow('global', {'type': 0})
        r = api.post('posts:create', {'title': 'mine'}, token=cls.member)
        assert r.status == 200, r.text
        cls.mine = r.data['id']

    def test_own_scope(self):
        r = self.api.trigger('posts:trigger/%d' % self.mine, self.w_posts, token=self.member)
        self.assertOk(r)
        ex = self.api.last_execution(self.w_posts)
        self.assertEqual(ex['context']['roleName'], 'member')
        self.assertEqual(ex['context']['data']['title'], 'mine')
        n = len(self.api.executions(self.w_posts))
        r = self.api.trigger('posts:trigger/1', self.w_posts, token=self.member)
        self.assertError(r, 403, 'NO_PERMISSION', 'No permissions', ['1', 'scope'])
        # Also through key!path: the request's collection is what is checked.
        r = self.api.trigger('posts:trigger/1', spec=self.w_posts['key'] + '!category',
                             token=self.member)
        self.assertError(r, 403, 'NO_PERMISSION', 'No permissions')
        self.assertEqual(len(self.api.executions(self.w_posts)), n)
        # An array keeps the rows in scope only.
        r = self.api.trigger('posts:trigger?filterByTk[]=1&filterByTk[]=%d' % self.mine,
                             self.w_posts, token=self.member)
        self.assertOk(r)
        self.assertEqual([d['id'] for d in self.api.last_execution(self.w_posts)
                          ['context']['data']], [self.mine])

    def test_trigger_new_and_ungranted(self):
        r = self.api.trigger('posts:trigger', self.w_posts, body={'title': 'new'},
                             token=self.member)
        self.assertOk(r)
        r = self.api.trigger('samples:trigger/1', spec='nosuchkey', token=self.member)
        self.assertError(r, 403, 'NO_PERMISSION', 'No permissions')
        r = self.api.trigger('samples:trigger', spec='nosuchkey', body={}, token=self.member)
        self.assertError(r, 403, 'NO_PERMISSION', 'No permissions')
        # workflows:trigger: any signed-in user; workflows:execute: admins only.
        self.assertOk(self.api.trigger('workflows:trigger', self.w_global, body={'a': 1},
                                       token=self.member))
        r = self.api.post('workflows:execute?filterByTk=%d' % self.w_global['id'],
                          {'data': {}, 'userId': 1}, token=self.member)
        self.assertError(r, 403, 'NO_PERMISSION', 'No permissions')
        r = self.api.post('nosuch:trigger/1?triggerWorkflows=x')
        self.assertError(r, 404, 'NOT_FOUND')
        r = self.server.request('POST', 'posts:trigger/1?triggerWorkflows=%s' % self.w_posts['key'])
        self.assertError(r, 401, 'EMPTY_TOKEN')


class ApacheSmoke(unittest.TestCase):
    """The seed's three calls through Apache + mod_fcgid."""

    def test_seed_calls(self):
        with Site() as site:
            server = start_apache(site, procs=2)
            api = Api(server, sign_in(server))
            api.collection('samples', [{'name': 'title', 'type': 'string'},
                                       {'name': 'indicator', 'type': 'integer'}])
            api.create('samples', {'title': 'Seed A', 'indicator': 1})
            w = api.workflow('sync update', SAMPLES, nodes=[UPD])
            self.assertEqual(api.trigger('samples:trigger', w,
                                         body={'title': 'Sample 1', 'indicator': 91}).json, {})
            self.assertEqual(api.last_execution(w)['context']['data']['indicator'], 91)
            self.assertEqual(api.trigger('samples:trigger/1', w).json, {})
            self.assertEqual(api.last_execution(w)['context']['data']['title'], 'Seed A')
            r = api.trigger('samples:trigger/1', w, body={'title': 'ignored', 'indicator': 77})
            self.assertEqual((r.status, r.json), (200, {}))
            self.assertEqual(api.row('samples', 1)['indicator'], 77)
            r = api.trigger('samples:trigger/1', spec='nosuchkey')
            self.assertEqual((r.status, r.errors[0]['code']), (500, 'NO_WORKFLOW_MATCHED'))


if __name__ == '__main__':
    unittest.main()
