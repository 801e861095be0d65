"""Bad input through lighttpd: every case gets its 4xx JSON error with the
right code, and nothing is written."""

import json
import unittest

from harness import Site, start_lighttpd, sign_in, cgi_request


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site()
        cls.server = start_lighttpd(cls.site, extra_env={'FLOWCGI_MAX_BODY': '4096'})
        cls.token = sign_in(cls.server)
        r = cls.req('POST', 'collections:create', json={'name': 'items', 'fields': [
            {'name': 'title', 'type': 'string'},
            {'name': 'qty', 'type': 'integer'},
            {'name': 'day', 'type': 'date'},
            {'name': 'owner', 'type': 'belongsTo', 'target': 'users',
             'foreignKey': 'ownerId'}]})
        assert r.status == 200, r.text
        r = cls.req('POST', 'items:create', json={'title': 'keep', 'qty': 1})
        assert r.status == 200, r.text

    @classmethod
    def tearDownClass(cls):
        cls.site.close()

    @classmethod
    def req(cls, method, path, **kw):
        kw.setdefault('token', cls.token)
        return cls.server.request(method, path, **kw)

    def snapshot(self):
        r = self.req('GET', 'items:list?paginate=false')
        c = self.req('GET', 'collections:list?paginate=false')
        return json.dumps(r.json['data']), len(c.json['data'])

    def check(self, status, code, method, path, **kw):
        before = self.snapshot()
        r = self.req(method, path, **kw)
        self.assertEqual(r.status, status, (method, path[:200], r.text[:500]))
        self.assertTrue(r.headers.get('Content-Type', '').startswith('application/json'),
                        (path[:200], r.headers))
        errs = r.json['errors']
        self.assertEqual(len(errs), 1, r.text)
        self.assertEqual(errs[0]['code'], code, (path[:200], r.text[:500]))
        self.assertTrue(errs[0]['message'], r.text)
        self.assertEqual(self.snapshot(), before, 'something was written: %s' % path[:200])
        return errs[0]

    def test_malformed_json(self):
        # NocoBase answers with Node's JSON.parse message for the same bytes.
        e = self.check(400, 'INVALID_JSON', 'POST', 'items:create',
                       data=b'{"title": "x",', headers={'Content-Type': 'application/json'})
        self.assertEqual(e['message'],
                         'Expected double-quoted property name in JSON at position 14')
        e = self.check(400, 'INVALID_JSON', 'POST', 'items:create',
                       data=b'{"title":x}', headers={'Content-Type': 'application/json'})
        self.assertEqual(e['message'], 'Unexpected token \'x\', "{"title":x}" is not valid JSON')

    def test_trailing_garbage(self):
        self.check(400, 'INVALID_JSON', 'POST', 'items:create',
                   data=b'{"title":"x"} extra', headers={'Content-Type': 'application/json'})

    def test_scalar_body(self):
        e = self.check(400, 'INVALID_JSON', 'POST', 'items:create', data=b'"abc"',
                       headers={'Content-Type': 'application/json'})
        self.assertEqual(e['message'], 'invalid JSON, only supports object and array')

    def test_too_deep(self):
        deep = '[' * 65 + ']' * 65
        self.check(400, 'INVALID_JSON', 'POST', 'items:create', data=deep.encode(),
                   headers={'Content-Type': 'application/json'})
        ok = '{"title":"deep","meta":' + '[' * 60 + ']' * 60 + '}'
        r = self.req('POST', 'items:create', data=ok.encode(),
                     headers={'Content-Type': 'application/json'})
        self.assertEqual(r.status, 200, r.text)
        self.req('POST', 'items:destroy', params={'filter': '{"title":"deep"}'})

    def test_body_too_large(self):
        big = json.dumps({'title': 'x' * 5000}).encode()
        self.check(413, 'BODY_TOO_LARGE', 'POST', 'items:create', data=big,
                   headers={'Content-Type': 'application/json'})

    def test_invalid_utf8_body(self):
        self.check(400, 'INVALID_JSON', 'POST', 'items:create',
                   data=b'{"title":"\xff\xfe"}', headers={'Content-Type': 'application/json'})

    def test_invalid_utf8_query(self):
        # lighttpd itself refuses %FF in a URL, so ask the program directly.
        r = cgi_request(self.site.prog, self.site.env, 'GET', '/api/items:list',
                        query='filter=%7B%22title%22%3A%22%FF%22%7D', token=self.token)
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(r.json['errors'][0]['code'], 'INVALID_PARAMETER')

    def test_unknown_collection(self):
        e = self.check(404, 'NOT_FOUND', 'GET', 'nosuch:list')
        self.assertIn('nosuch', e['reason'])

    def test_unknown_action(self):
        self.check(404, 'NOT_FOUND', 'POST', 'items:frobnicate')

    def test_unknown_filter_field(self):
        self.check(400, 'UNKNOWN_FIELD', 'GET', 'items:list',
                   params={'filter': '{"nope":1}'})

    def test_unknown_operator(self):
        self.check(400, 'UNKNOWN_OPERATOR', 'GET', 'items:list',
                   params={'filter': '{"qty":{"$frob":1}}'})

    def test_unknown_top_operator(self):
        self.check(400, 'UNKNOWN_OPERATOR', 'GET', 'items:list',
                   params={'filter': '{"$xor":[]}'})

    def test_unknown_sort_field(self):
        self.check(400, 'UNKNOWN_FIELD', 'GET', 'items:list?sort=-nope')

    def test_unknown_fields_param(self):
        self.check(400, 'UNKNOWN_FIELD', 'GET', 'items:list?fields=title,nope')

    def test_unknown_append(self):
        self.check(400, 'UNKNOWN_FIELD', 'GET', 'items:list?appends=nope')

    def test_sql_looking_collection(self):
        self.check(404, 'NOT_FOUND', 'GET', 'items%3BDROP%20TABLE%20items:list')

    def test_sql_looking_field(self):
        self.check(400, 'UNKNOWN_FIELD', 'GET', 'items:list',
                   params={'filter': json.dumps({'title" OR 1=1 --': 'x'})})

    def test_sql_looking_value_is_data(self):
        r = self.req('GET', 'items:list', params={'filter': json.dumps(
            {'title': "x' OR '1'='1"})})
        self.assertEqual((r.status, r.json['data']), (200, []))

    def test_sql_looking_sort(self):
        self.check(400, 'UNKNOWN_FIELD', 'GET', 'items:list',
                   params={'sort': 'title;DELETE FROM items'})

    def test_bad_collection_name(self):
        for name in ('1abc', 'a b', 'x"; DROP TABLE users; --', '_internal',
                     'sqlite_master', 'a' * 64):
            self.check(400, 'VALIDATION_ERROR', 'POST', 'collections:create',
                       json={'name': name})

    def test_duplicate_collection(self):
        self.check(400, 'VALIDATION_ERROR', 'POST', 'collections:create',
                   json={'name': 'items'})
        self.check(400, 'VALIDATION_ERROR', 'POST', 'collections:create',
                   json={'name': 'users'})

    def test_unknown_field_type(self):
        self.check(400, 'VALIDATION_ERROR', 'POST', 'collections:create',
                   json={'name': 'zz', 'fields': [{'name': 'a', 'type': 'geometry'}]})

    def test_duplicate_field(self):
        self.check(400, 'VALIDATION_ERROR', 'POST', 'collections:create',
                   json={'name': 'zz', 'fields': [{'name': 'a', 'type': 'string'},
                                                  {'name': 'A', 'type': 'integer'}]})

    def test_non_numeric_id(self):
        e = self.check(400, 'INVALID_ID', 'GET', 'items:get/abc')
        self.assertEqual(e['message'], 'invalid input syntax for type bigint: "abc"')

    def test_out_of_range_id(self):
        self.check(400, 'INVALID_ID', 'GET', 'items:get/99999999999999999999')
        self.check(400, 'INVALID_ID', 'POST', 'items:update?filterByTk=1e3',
                   json={'qty': 2})

    def test_rest_method_without_action(self):
        self.check(405, 'METHOD_NOT_ALLOWED', 'PUT', 'items')
        self.check(405, 'METHOD_NOT_ALLOWED', 'POST', 'items/1')

    def test_over_long_query(self):
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list?x=' + 'a' * 20000)

    def test_update_without_filter(self):
        e = self.check(400, 'INVALID_PARAMETER', 'POST', 'items:update', json={'qty': 9})
        self.assertEqual(e['message'], 'to do update action, filter or filterByTk is required')

    def test_destroy_without_filter(self):
        e = self.check(400, 'INVALID_PARAMETER', 'POST', 'items:destroy')
        self.assertEqual(e['message'], 'to do destroy action, filter or filterByTk is required')
        self.check(400, 'INVALID_PARAMETER', 'DELETE', 'items')

    def test_wrong_value_types(self):
        for body in ({'qty': 'abc'}, {'qty': 1.5}, {'qty': True}, {'qty': 2 ** 40},
                     {'title': {'a': 1}}, {'day': 'not a date'}, {'day': '2026-13-01'},
                     {'owner': 'abc'},
                     # beyond the years 0-9999 (a cast out of int64's range)
                     {'day': 1e300}, {'day': -9223372036854775808},
                     {'day': 253402300800000}):
            self.check(400, 'VALIDATION_ERROR', 'POST', 'items:create', json=body)

    def test_bad_filter_shapes(self):
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list?filter=%7Bbad')
        e = self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list?filter=[1,2]')
        self.assertIn('it is a JSON array', e['reason'])
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list',
                   params={'filter': '{"qty":{"$gt":{"a":1}}}'})
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list',
                   params={'filter': '{"qty":{"$gt":"abc"}}'})
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list',
                   params={'filter': '{"$and":{"a":1}}'.replace('{"a":1}', '"x"')})

    def test_date_numbers_out_of_range(self):
        # Found by tests/fuzz/fuzz_filter (regress-date-number-out-of-range):
        # a number for a date field beyond the years 0-9999 was cast to a
        # 64-bit integer (undefined behaviour, and a garbage date string).
        for v in (1e300, -1e300, -9223372036854775808, 253402300800000):
            self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list',
                       params={'filter': json.dumps({'day': {'$in': [v]}})})
            self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list',
                       params={'filter': json.dumps({'day': v})})
        r = self.req('GET', 'items:list', params={'filter': json.dumps({'day': 253402300799999})})
        self.assertEqual(r.status, 200, r.text)

    def test_bad_pages(self):
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list?page=abc')
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list?pageSize=0')
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list?page=-1')

    def test_other_data_source(self):
        e = self.check(400, 'DATA_SOURCE_NOT_FOUND', 'GET', 'items:list',
                       headers={'X-Data-Source': 'other'})
        self.assertEqual(e['message'], 'data source other does not exist')

    def test_bad_escape_in_path(self):
        self.check(404, 'NOT_FOUND', 'GET', 'items%ZZ:list')

    def test_deep_filter(self):
        f = {'qty': 1}
        for _ in range(40):
            f = {'$and': [f]}
        self.check(400, 'INVALID_PARAMETER', 'GET', 'items:list',
                   params={'filter': json.dumps(f)})

    def test_scalar_then_brackets_in_query(self):
        # Found by tests/fuzz/fuzz_query (corpus regress-qs-scalar-then-
        # brackets): six bytes of query string, "a=&a[]", made json-c abort
        # the FastCGI process on an assertion, before the token was looked
        # at.  Now they parse as qs does ({"a": ["", null]}); an anonymous
        # caller gets its JSON 4xx and every process lives on.
        pids = self.server.fcgi_pids()
        for q in ('a=&a[]', 'a=1&a[b]=2', 'a[0]=1&a[0][b]=2', 'a[b]=1&a[b][]=2'):
            for _ in range(4):  # reach each of the FastCGI processes
                r = self.server.raw_request('GET', '/api/items:list?' + q)
                self.assertTrue(400 <= r.status < 500, (q, r.status, r.text))
                self.assertTrue(r.json['errors'][0]['code'], r.text)
            r = self.req('GET', 'items:list?' + q)
            self.assertEqual(r.status, 200, (q, r.text))
        # the same shapes in a form body
        r = self.req('POST', 'items:create', data=b'title=form&title[]=x',
                     headers={'Content-Type': 'application/x-www-form-urlencoded'})
        self.assertTrue(r.status < 500, r.text)
        self.assertEqual(self.server.fcgi_pids(), pids)
        self.req('POST', 'items:destroy', params={'filter': '{"title":{"$ne":"keep"}}'})

    def test_no_database(self):
        r = cgi_request(self.site.prog, {'FLOWCGI_DB': '/nonexistent/dir/x.db'},
                        'GET', '/api/items:list')
        self.assertEqual(r.status, 503, r.text)
        e = r.json['errors'][0]
        self.assertEqual(e['code'], 'DATABASE_NOT_INITIALIZED')
        self.assertIn('/nonexistent/dir/x.db', e['reason'])


if __name__ == '__main__':
    unittest.main()
