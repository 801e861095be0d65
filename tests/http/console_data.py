"""The data the console test (and its README screenshots) show, made over the
HTTP API as a NocoBase script would.

    orders (title, amount, state)
    "review order" (sync, custom-action on orders):
        tax (calculation)
        amount positive? (condition, rejectOnFalse: a negative amount fails here)
        large order? (condition)
            yes: mark for review (update)
            no:  size (multi-conditions)
                   small: note small (calculation)
                   medium: note medium (calculation)
                   otherwise: (empty)
        count items (loop, 3 times)
            body: step (calculation)
        notify (parallel)
            branch 1: left (calculation)
            branch 2: right (calculation)
        done (response-message)
    "archive order" (async, custom-action on orders): one update node.
"""

from harness import expect, SetupError


def _post(server, token, path, body, what):
    r = expect(server.request('POST', path, token=token, json=body), what)
    if r.data is None:
        raise SetupError('%s: no data in %s' % (what, r.text[:300]))
    return r.data


def _calc(title, expr):
    return {'type': 'calculation', 'title': title,
            'config': {'engine': 'math.js', 'expression': expr}}


def setup_console_data(server, token):
    post = lambda path, body, what: _post(server, token, path, body, what)
    post('collections:create', {'name': 'orders', 'fields': [
        {'name': 'title', 'type': 'string'},
        {'name': 'amount', 'type': 'integer'},
        {'name': 'state', 'type': 'string'}]}, 'collections:create orders')
    order = post('orders:create', {'title': 'First order', 'amount': 40}, 'orders:create')

    wf = post('workflows:create', {
        'title': 'review order', 'type': 'custom-action', 'sync': True, 'enabled': False,
        'config': {'type': 1, 'collection': 'orders'}}, 'workflows:create review order')
    nodes = {}

    def node(spec, upstream=None, branch=None):
        body = {'type': spec['type'], 'title': spec['title'], 'config': spec['config']}
        if upstream is not None:
            body['upstreamId'] = nodes[upstream]['id']
        if branch is not None:
            body['branchIndex'] = branch
        nodes[spec['title']] = post('workflows/%s/nodes:create' % wf['id'], body,
                                    'nodes:create %s' % spec['title'])
        return nodes[spec['title']]

    node(_calc('tax', 'round({{$context.data.amount}} * 0.2, 2)'))
    node({'type': 'condition', 'title': 'amount positive?', 'config': {
        'rejectOnFalse': True, 'engine': 'math.js',
        'expression': '{{$context.data.amount}} > 0'}}, 'tax')
    node({'type': 'condition', 'title': 'large order?', 'config': {
        'rejectOnFalse': False, 'engine': 'math.js',
        'expression': '{{$context.data.amount}} >= 100'}}, 'amount positive?')
    node({'type': 'update', 'title': 'mark for review', 'config': {
        'collection': 'orders', 'params': {
            'filter': {'id': '{{$context.data.id}}'}, 'values': {'state': 'review'}}}},
        'large order?', 1)
    node({'type': 'multi-conditions', 'title': 'size', 'config': {
        'continueOnNoMatch': True, 'conditions': [
            {'uid': 'c1', 'title': 'small', 'engine': 'math.js',
             'expression': '{{$context.data.amount}} < 10'},
            {'uid': 'c2', 'title': 'medium', 'engine': 'math.js',
             'expression': '{{$context.data.amount}} < 50'}]}}, 'large order?', 0)
    node(_calc('note small', '"small"'), 'size', 1)
    node(_calc('note medium', '"medium"'), 'size', 2)
    node({'type': 'loop', 'title': 'count items', 'config': {'target': 3}}, 'large order?')
    node(_calc('step', '{{$scopes.%s.index}} + 1' % nodes['count items']['key']),
         'count items', 0)
    node({'type': 'parallel', 'title': 'notify', 'config': {'mode': 'all'}}, 'count items')
    node(_calc('left', '1'), 'notify', 0)
    node(_calc('right', '2'), 'notify', 1)
    node({'type': 'response-message', 'title': 'done', 'config': {
        'message': 'order {{$context.data.title}} reviewed'}}, 'notify')
    post('workflows:update?filterByTk=%s' % wf['id'], {'enabled': True}, 'enable review order')

    arch = post('workflows:create', {
        'title': 'archive order', 'type': 'custom-action', 'sync': False, 'enabled': False,
        'config': {'type': 1, 'collection': 'orders'}}, 'workflows:create archive order')
    post('workflows/%s/nodes:create' % arch['id'], {
        'type': 'update', 'title': 'archive', 'config': {
            'collection': 'orders', 'params': {
                'filter': {'id': '{{$context.data.id}}'}, 'values': {'state': 'archived'}}}},
        'nodes:create archive')
    post('workflows:update?filterByTk=%s' % arch['id'], {'enabled': True}, 'enable archive order')
    return {'order_id': order['id'], 'review': wf, 'archive': arch,
            'nodes': {t: n['id'] for t, n in nodes.items()}}


def run_some(server, token, data):
    """A few executions for the lists: resolved, failed (negative amount) and
    an asynchronous one."""
    key = data['review']['key']
    oid = data['order_id']
    out = []
    for body in ({'amount': 120}, {'amount': 30}, {'amount': -5}):
        r = server.request('POST', 'orders:trigger/%s?triggerWorkflows=%s' % (oid, key),
                           token=token, json=body)
        out.append(r)
    r = server.request('POST', 'orders:trigger/%s?triggerWorkflows=%s' % (oid, data['archive']['key']),
                       token=token, json={})
    out.append(r)
    return out
