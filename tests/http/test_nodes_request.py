"""The request node against a local HTTP server started by the test, and
the json-query node, through lighttpd; checked in the recorded jobs.  The
expected results are what NocoBase 2.2.15 records for the same nodes."""

import http.server
import json
import threading
import time
import unittest
import urllib.parse

from harness import Site, start_lighttpd, sign_in
from wfspec import build
from test_nodes_flow import NodesCase, calc


class Upstream:
    """127.0.0.1 HTTP/1.1 server: /echo answers what it got as JSON,
    /status/<n> the same with status n, /slow?ms=N waits first, /text is
    text/plain, /raw?b=<text> answers that text."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def answer(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n).decode()
                url = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(url.query)
                if url.path == '/slow':
                    time.sleep(int(q['ms'][0]) / 1000)
                code = int(url.path[8:]) if url.path.startswith('/status/') else 200
                if url.path == '/text':
                    out, ctype = b'plain text', 'text/plain'
                elif url.path == '/raw':
                    out, ctype = q['b'][0].encode(), 'text/plain'
                else:
                    out = json.dumps({'method': self.command, 'path': self.path,
                                      'body': body, 'ct': self.headers.get('Content-Type'),
                                      'x': self.headers.get('X-Test')}).encode()
                    ctype = 'application/json'
                try:
                    self.send_response(code)
                    self.send_header('Content-Type', ctype)
                    self.send_header('Content-Length', str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the caller gave up (timeouts)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def request(id, config, up=None):
    n = {'id': id, 'type': 'request', 'config': config}
    if up:
        n['up'] = up
    return n


class RequestCase(NodesCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.upstream.close()


class Request(RequestCase):
    def test_post_with_variables(self):
        wf = self.build([
            request('R', {'url': '{{$context.data.base}}/echo?a=1', 'method': 'POST',
                          'headers': [{'name': 'X-Test', 'value': ' {{$context.data.title}} '}],
                          'params': [{'name': 'q', 'value': '{{$context.data.v}}'}],
                          'data': {'v': '{{$context.data.v}}'}}),
            calc('next', 'R', '{{$jobsMapByNodeKey.@R@.data.path}}', engine='string'),
        ])
        r, ex = wf.run({'title': 'hi', 'v': 5, 'base': self.upstream.url})
        self.ok(r)
        job = ex.job('R')
        self.assertEqual(job['status'], 1)
        res = job['result']
        self.assertEqual((res['status'], res['statusText']), (200, 'OK'))
        self.assertEqual(res['headers']['content-type'], 'application/json')
        self.assertEqual(res['data'], {'method': 'POST', 'path': '/echo?a=1&q=5',
                                       'body': '{"v":5}', 'ct': 'application/json', 'x': 'hi'})
        self.assertEqual(ex.job('next')['result'], '/echo?a=1&q=5')

    def test_get_only_data(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/echo', 'method': 'GET',
                                       'data': {'ignored': True}, 'onlyData': True})])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('R', 1, {'method': 'GET', 'path': '/echo', 'body': '',
                                                'ct': 'application/json', 'x': None})])

    def test_text_body(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/text', 'method': 'GET',
                                       'onlyData': True})])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('R', 1, 'plain text')])

    def test_body_almost_a_number(self):
        # Found by tests/fuzz/fuzz_http_response (regress-body-number-cut-
        # short): a body "0." passed the strict JSON check, was kept as a
        # number and stored in the job as "data":0., which is not JSON.
        # JSON.parse refuses it, so axios keeps the text.
        for text, want in (('0.', '0.'), ('-1e', '-1e'), ('1.5', 1.5), ('7', 7)):
            wf = self.build([request('R', {'url': self.upstream.url + '/raw?b=' + text,
                                           'method': 'GET', 'onlyData': True})])
            r, ex = wf.run()
            self.ok(r)
            self.assertEqual(ex.trace(), [('R', 1, want)], text)

    def test_4xx_fails(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/status/404',
                                       'method': 'GET'}),
                         calc('next', 'R', '1')])
        r, ex = wf.run()
        reason = self.failed(r)
        self.assertIn('Request failed with status code 404', reason)
        self.assertEqual(ex.status, -1)
        self.assertEqual(ex.trace(), [('R', -1, {
            'message': 'Request failed with status code 404', 'code': 'ERR_BAD_REQUEST',
            'status': 404, 'statusText': 'Not Found',
            'data': {'method': 'GET', 'path': '/status/404', 'body': '',
                     'ct': 'application/json', 'x': None}})])

    def test_5xx_ignore_fail(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/status/500',
                                       'method': 'PUT', 'ignoreFail': True, 'onlyData': True}),
                         calc('next', 'R', '{{$jobsMapByNodeKey.@R@.status}}')])
        r, ex = wf.run()
        self.ok(r)
        job = ex.job('R')
        self.assertEqual(job['status'], 1)
        self.assertEqual(job['result']['code'], 'ERR_BAD_RESPONSE')
        self.assertEqual(job['result']['statusText'], 'Internal Server Error')
        self.assertEqual(job['result']['data']['method'], 'PUT')
        self.assertEqual(ex.job('next')['result'], 500)

    def test_timeout_aborts(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/slow?ms=2000',
                                       'method': 'GET', 'timeout': 300})])
        t0 = time.monotonic()
        r, ex = wf.run()
        self.assertLess(time.monotonic() - t0, 1.8)
        self.assertIn('timeout of 300ms exceeded', self.failed(r))
        self.assertEqual(ex.status, -3)
        self.assertEqual(ex.trace(), [('R', -3, {'message': 'timeout of 300ms exceeded',
                                                 'code': 'ECONNABORTED'})])

    def test_timeout_ignore_fail(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/slow?ms=2000',
                                       'method': 'GET', 'timeout': '300',
                                       'ignoreFail': True})])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('R', 1, {'message': 'timeout of 300ms exceeded',
                                                'code': 'ECONNABORTED'})])

    def test_invalid_urls(self):
        for url in ('ftp://127.0.0.1/x', '{{$context.data.nothing}}', 'not a url'):
            wf = self.build([request('R', {'url': url, 'method': 'GET'})])
            r, ex = wf.run()
            self.assertIn('Invalid URL', self.failed(r))
            self.assertEqual(ex.trace(), [('R', -1, {'message': 'Invalid URL',
                                                     'code': 'ERR_INVALID_URL'})], url)
        wf = self.build([request('R', {'method': 'GET', 'ignoreFail': True})])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.trace(), [('R', 1, {'message': 'Invalid URL',
                                                'code': 'ERR_INVALID_URL'})])

    def test_inside_a_loop(self):
        wf = self.build([
            {'id': 'L', 'type': 'loop', 'config': {'target': '{{$context.data.ids}}'}},
            dict(request('R', {'url': self.upstream.url + '/echo', 'method': 'POST',
                               'data': {'id': '{{$scopes.@L@.item}}'}, 'onlyData': True}),
                 up='L', bi=0),
        ])
        r, ex = wf.run({'title': 'x', 'ids': [7, 8]})
        self.ok(r)
        self.assertEqual([j['result']['body'] for j in ex.jobs_of('R')],
                         ['{"id":7}', '{"id":8}'])

    def test_validation(self):
        wf = build(self.server, self.token, [], enable=False)

        def reject(config, message):
            r = self.server.request('POST', 'workflows/%s/nodes:create' % wf.id,
                                    token=self.token, json={'type': 'request', 'config': config})
            self.assertEqual(r.status, 400, (config, r.text))
            self.assertEqual(r.errors[0]['message'], message, config)

        reject({'method': 'FOO'}, '"method" must be one of [GET, POST, PUT, PATCH, DELETE]')
        reject({'method': 'get'}, '"method" must be one of [GET, POST, PUT, PATCH, DELETE]')
        reject({'url': 5}, '"url" must be a string')
        reject({'url': ''}, '"url" is not allowed to be empty')
        reject({'timeout': -1}, '"timeout" must be a positive number')
        reject({'timeout': 0}, '"timeout" must be a positive number')
        reject({'timeout': 1.5}, '"timeout" must be an integer')
        reject({'timeout': 'abc'}, '"timeout" must be a number')
        reject({'timeout': 1e300}, '"timeout" must be a safe number')
        reject({'contentType': 'a/b'}, '"contentType" must be one of [application/json, '
               'application/x-www-form-urlencoded, multipart/form-data, application/xml, '
               'text/plain]')
        reject({'headers': 'x'}, '"headers" must be an array')
        reject({'headers': [{'name': 1}]}, '"headers[0].name" must be a string')
        reject({'headers': [None]}, '"headers[0]" must be of type object')
        reject({'params': [{'name': 'a', 'value': 1}]}, '"params[0].value" must be a string')
        reject({'data': 5}, '"data" must be one of [object, array, string]')
        reject({'data': ''}, '"data" is not allowed to be empty')
        reject({'ignoreFail': 'x'}, '"ignoreFail" must be a boolean')
        reject({'onlyData': 1}, '"onlyData" must be a boolean')
        for ok in ({'url': 'http://x', 'method': 'GET', 'timeout': '5000',
                    'ignoreFail': 'TRUE', 'onlyData': False, 'params': [{'name': 'a'}],
                    'data': [1], 'contentType': 'text/plain'},):
            r = self.server.request('POST', 'workflows/%s/nodes:create' % wf.id,
                                    token=self.token, json={'type': 'request', 'config': ok})
            self.assertEqual(r.status, 200, r.text)


class SyncTimeout(RequestCase):
    extra_env = {'FLOWCGI_SYNC_TIMEOUT_MS': '700'}

    def test_request_cut_by_the_sync_timeout(self):
        for ignore in (False, True):
            wf = self.build([request('R', {'url': self.upstream.url + '/slow?ms=3000',
                                           'method': 'GET', 'timeout': 5000,
                                           'ignoreFail': ignore}),
                             calc('next', 'R', '1')])
            t0 = time.monotonic()
            r, ex = wf.run()
            self.assertLess(time.monotonic() - t0, 2.5)
            self.assertIn('FLOWCGI_SYNC_TIMEOUT_MS', self.failed(r))
            self.assertEqual(ex.status, -2)
            [(node, st, res)] = ex.trace()
            self.assertEqual((node, st), ('R', -2))
            self.assertIn('FLOWCGI_SYNC_TIMEOUT_MS', res['message'])

    def test_fast_request_within_the_limit(self):
        wf = self.build([request('R', {'url': self.upstream.url + '/slow?ms=100',
                                       'method': 'GET', 'onlyData': True})])
        r, ex = wf.run()
        self.ok(r)
        self.assertEqual(ex.job('R')['status'], 1)


PEOPLE = {'title': 'x', 'people': [{'name': 'a', 'age': 30, 'addr': {'city': 'P'}},
                                   {'name': 'b', 'age': 20, 'addr': {'city': 'Q'}}]}


def jq(id, config, up=None):
    n = {'id': id, 'type': 'json-query', 'config': config}
    if up:
        n['up'] = up
    return n


class JsonQuery(NodesCase):
    def test_queries_and_models(self):
        src = '{{$context.data}}'
        wf = self.build([
            jq('J1', {'source': src, 'expression': 'people[*].name'}),
            jq('J2', {'source': src, 'expression': 'people', 'model': [
                {'path': 'name', 'alias': 'n', 'label': 'N'}, {'path': 'addr.city'}]}, 'J1'),
            jq('J3', {'source': src, 'expression': 'people[0]', 'model': [
                {'path': 'addr.city', 'alias': ''}, {'path': 'nope'}]}, 'J2'),
            jq('J4', {'source': src, 'expression': 'people[?age > `25`].name | [0]',
                      'model': [{'path': 'x'}]}, 'J3'),
            jq('J5', {'source': '{{$context.data.people}}', 'expression': 'length(@)'}, 'J4'),
            jq('J6', {'source': src,
                      'expression': 'people[{{$context.data.people.length}}]'}, 'J5'),
            jq('J7', {'source': '{"a":1}', 'expression': 'a'}, 'J6'),
            jq('J8', {'source': {'a': '{{$context.data.title}}'}, 'expression': 'a'}, 'J7'),
            jq('J9', {'source': src, 'expression': 'people[*].[name, age]',
                      'model': [{'path': '0'}]}, 'J8'),
            jq('J10', {'source': src, 'expression': 'people[*].age',
                       'model': [{'path': '0'}]}, 'J9'),
            jq('J11', {'source': src, 'expression': 'people[1]',
                       'model': [{'path': 'addr["city"]', 'alias': 'c'},
                                 {'path': 'name.length'}]}, 'J10'),
            jq('J12', {'expression': 'length(@)'}, 'J11'),   # source defaults to ""
        ])
        r, ex = wf.run(PEOPLE)
        self.ok(r)
        self.assertEqual(ex.trace(), [
            ('J1', 1, ['a', 'b']),
            ('J2', 1, [{'n': 'a', 'addr_city': 'P'}, {'n': 'b', 'addr_city': 'Q'}]),
            ('J3', 1, {'addr_city': 'P'}),
            ('J4', 1, 'a'),
            ('J5', 1, 2),
            ('J6', 1, None),
            ('J7', 1, None),
            ('J8', 1, 'x'),
            ('J9', 1, [{'0': 'a'}, {'0': 'b'}]),
            ('J10', 1, [{}, {}]),
            ('J11', 1, {'c': 'Q', 'name_length': 1}),
            ('J12', 1, 0),
        ])

    def test_model_paths(self):
        # lodash get(): a key with a dot wins, brackets and quotes, string
        # lengths in UTF-16 units, no projection over arrays.
        wf = self.build([jq('J', {'source': '{{$context.data}}', 'expression': 'p',
                                  'model': [{'path': p} for p in (
                                      'name.length', 'name.1', 'name[0]', 'a.b', 't[1].x',
                                      't.length', 't.x', "addr['city']")]
                                  + [{'path': 't.1.x', 'alias': 'tt'}]})])
        r, ex = wf.run({'title': 'x', 'p': {'name': 'b\u00e9\U0001F600', 'a.b': 1,
                                            't': [{'x': 1}, {'x': 2}], 'addr': {'city': 'P'}}})
        self.ok(r)
        self.assertEqual(ex.trace(), [('J', 1, {
            'name_length': 4, 'name_1': '\u00e9', 'name[0]': 'b', 'a_b': 1, 't[1]_x': 2,
            't_length': 2, "addr['city']": 'P', 'tt': 2})])

    def test_error(self):
        for expr in ('a[?', None):
            config = {'source': '{{$context.data}}'}
            if expr:
                config['expression'] = expr
            wf = self.build([jq('J', config), calc('next', 'J', '1')])
            r, ex = wf.run(PEOPLE)
            self.assertIn('json-query failed', self.failed(r))
            self.assertEqual(ex.status, -2)
            job = ex.job('J')
            self.assertEqual((job['status'], job['result']), (-2, None))
            self.assertTrue(job['log'])

    def test_validation(self):
        wf = build(self.server, self.token, [], enable=False)

        def create(config):
            return self.server.request('POST', 'workflows/%s/nodes:create' % wf.id,
                                       token=self.token,
                                       json={'type': 'json-query', 'config': config})

        for engine in ('jsonata', 'jsonpathplus'):
            r = create({'engine': engine, 'expression': 'a'})
            self.assertEqual(r.status, 400, r.text)
            self.assertEqual(r.errors[0]['message'], 'json-query engine "%s" is not '
                             'supported: flowcgi implements jmespath only' % engine)
        for config, message in (({'expression': 5}, '"expression" must be a string'),
                                ({'model': {}}, '"model" must be an array'),
                                ({'model': [{'alias': 'a'}]}, '"model[0].path" must be a string'),
                                ({'engine': 3}, '"engine" must be a string')):
            r = create(config)
            self.assertEqual(r.status, 400, r.text)
            self.assertEqual(r.errors[0]['message'], message)
        r = create({'engine': 'jmespath', 'source': '{{$context.data}}', 'expression': 'a',
                    'model': [{'path': 'a', 'alias': None, 'label': 'A'}]})
        self.assertEqual(r.status, 200, r.text)


if __name__ == '__main__':
    unittest.main()
