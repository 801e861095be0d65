"""The make-run demo, made over the HTTP API as a NocoBase script would:

  samples (title, indicator, grade)      "grade"  : computes a grade from the
                                                    indicator; creates the
                                                    sample when there is no id,
                                                    else writes the grade back
                                         "reject" : a too-low indicator is
                                                    refused with a message
  categories (title, postCount)          "count"  : counts a category's posts
  posts (title, category -> categories)             into postCount

Returns the keys and ids the printed curl commands need.
"""

from harness import expect, SetupError


def _post(server, token, path, body, what):
    r = expect(server.request('POST', path, token=token, json=body), what)
    if r.data is None:
        raise SetupError('%s: no data in %s' % (what, r.text[:300]))
    return r.data


def _workflow(server, token, title, collection, nodes):
    """Create a workflow and its nodes (each after the previous one, or in
    the branch named by 'branch': (parent title, index)); enable it."""
    wf = _post(server, token, 'workflows:create', {
        'title': title, 'type': 'custom-action', 'sync': True, 'enabled': False,
        'config': {'type': 1, 'collection': collection}}, 'workflows:create %s' % title)
    made = {}
    last = None
    for n in nodes:
        body = {'type': n['type'], 'title': n['title'], 'config': n['config']}
        if 'branch' in n:
            parent, index = n['branch']
            body['upstreamId'] = made[parent]['id']
            body['branchIndex'] = index
        elif 'after' in n:
            body['upstreamId'] = made[n['after']]['id']
        elif last:
            body['upstreamId'] = last['id']
        node = _post(server, token, 'workflows/%s/nodes:create' % wf['id'], body,
                     'nodes:create %s' % n['title'])
        made[n['title']] = node
        if 'branch' not in n:
            last = node
        if callable(n.get('then')):
            n['then'](made)
    _post(server, token, 'workflows:update?filterByTk=%s' % wf['id'],
          {'enabled': True}, 'enable %s' % title)
    return wf, made


def setup_demo(server, token):
    post = lambda path, body, what: _post(server, token, path, body, what)
    post('collections:create', {'name': 'samples', 'fields': [
        {'name': 'title', 'type': 'string'},
        {'name': 'indicator', 'type': 'integer'},
        {'name': 'grade', 'type': 'string'}]}, 'collections:create samples')
    post('collections:create', {'name': 'categories', 'fields': [
        {'name': 'title', 'type': 'string'},
        {'name': 'postCount', 'type': 'integer'}]}, 'collections:create categories')
    post('collections:create', {'name': 'posts', 'createdBy': True, 'fields': [
        {'name': 'title', 'type': 'string'},
        {'name': 'category', 'type': 'belongsTo', 'target': 'categories',
         'foreignKey': 'categoryId'}]}, 'collections:create posts')
    sample = post('samples:create', {'title': 'Seed A', 'indicator': 72}, 'samples:create')
    news = post('categories:create', {'title': 'News'}, 'categories:create')
    post('posts:create', {'title': 'Hello', 'categoryId': news['id']}, 'posts:create')
    post('posts:create', {'title': 'World', 'category': news['id']}, 'posts:create')

    # grade: A from 90, B from 60, else C; the condition decides between
    # creating the sample (a form without id) and updating the stored row.
    grade_expr = ('{{$context.data.indicator}} >= 90 ? "A" : '
                  '({{$context.data.indicator}} >= 60 ? "B" : "C")')
    wf_grade, nodes = _workflow(server, token, 'grade samples', 'samples', [
        {'type': 'calculation', 'title': 'grade',
         'config': {'engine': 'math.js', 'expression': grade_expr}},
        {'type': 'condition', 'title': 'stored?',
         'config': {'rejectOnFalse': False, 'engine': 'basic', 'calculation': {
             'group': {'type': 'and', 'calculations': [
                 {'calculator': 'notEqual',
                  'operands': ['{{$context.data.id}}', None]}]}}}},
    ])
    gkey = nodes['grade']['key']
    _post(server, token, 'workflows/%s/nodes:create' % wf_grade['id'], {
        'type': 'update', 'title': 'write grade', 'upstreamId': nodes['stored?']['id'],
        'branchIndex': 1, 'config': {'collection': 'samples', 'params': {
            'filter': {'id': '{{$context.data.id}}'},
            'values': {'grade': '{{$jobsMapByNodeKey.%s}}' % gkey,
                       'indicator': '{{$context.data.indicator}}'}}}}, 'nodes:create update')
    _post(server, token, 'workflows/%s/nodes:create' % wf_grade['id'], {
        'type': 'create', 'title': 'create sample', 'upstreamId': nodes['stored?']['id'],
        'branchIndex': 0, 'config': {'collection': 'samples', 'params': {
            'values': {'title': '{{$context.data.title}}',
                       'indicator': '{{$context.data.indicator}}',
                       'grade': '{{$jobsMapByNodeKey.%s}}' % gkey}}}}, 'nodes:create create')
    _post(server, token, 'workflows/%s/nodes:create' % wf_grade['id'], {
        'type': 'response-message', 'title': 'tell', 'upstreamId': nodes['stored?']['id'],
        'config': {'message': 'graded {{$context.data.title}}: {{$jobsMapByNodeKey.%s}}' % gkey}},
        'nodes:create message')

    # reject: an indicator below 10 ends the request with a message.
    wf_reject, nodes = _workflow(server, token, 'reject low indicators', 'samples', [
        {'type': 'condition', 'title': 'too low?',
         'config': {'rejectOnFalse': False, 'engine': 'math.js',
                    'expression': '{{$context.data.indicator}} < 10'}},
    ])
    msg = _post(server, token, 'workflows/%s/nodes:create' % wf_reject['id'], {
        'type': 'response-message', 'title': 'why', 'upstreamId': nodes['too low?']['id'],
        'branchIndex': 1, 'config': {
            'message': 'indicator {{$context.data.indicator}} is below 10'}}, 'nodes:create why')
    _post(server, token, 'workflows/%s/nodes:create' % wf_reject['id'], {
        'type': 'end', 'title': 'refuse', 'upstreamId': msg['id'],
        'config': {'endStatus': -1}}, 'nodes:create end')

    # count: bound to categories; triggered as count!category from a post.
    wf_count, nodes = _workflow(server, token, 'count category posts', 'categories', [
        {'type': 'query', 'title': 'posts', 'config': {
            'collection': 'posts', 'multiple': True,
            'params': {'filter': {'categoryId': '{{$context.data.id}}'}, 'pageSize': 1000}}},
    ])
    qkey = nodes['posts']['key']
    _post(server, token, 'workflows/%s/nodes:create' % wf_count['id'], {
        'type': 'update', 'title': 'store count', 'upstreamId': nodes['posts']['id'],
        'config': {'collection': 'categories', 'params': {
            'filter': {'id': '{{$context.data.id}}'},
            'values': {'postCount': '{{$jobsMapByNodeKey.%s.length}}' % qkey}}}},
        'nodes:create count')
    return {'sample_id': sample['id'], 'category_id': news['id'],
            'grade': wf_grade['key'], 'reject': wf_reject['key'],
            'count': wf_count['key'], 'grade_id': wf_grade['id']}
