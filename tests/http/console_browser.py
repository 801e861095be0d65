#!/usr/bin/python3
"""Drives the flowcgi web console in headless Chromium (Selenium).

Run by test_console.py with /usr/bin/python3, where Debian's python3-selenium
lives (the harness itself may run under another python3):

    /usr/bin/python3 tests/http/console_browser.py --spec spec.json

spec.json (written by test_console.py): {"base": "http://127.0.0.1:PORT",
"api" (default base + "/api"), "steps" (default: all), "account", "password", "workflow": {id, key, title}, "node_titles": [...],
"branch_labels": [...], "order_id", "trigger_body", "expect_jobs": [...],
"failed_node": "...", "shots": "DIR"}.

Signs in (a wrong password first: the API's message is shown), lists the
workflows, opens the drawing, triggers the workflow through the form, opens
the new execution and checks its jobs, lists executions, opens a failed one
(the failed node highlighted), disables and enables the workflow, switches to
a role without the permission (the API's 403 message is shown), signs out.
Saves a PNG screenshot of each view in spec["shots"]. Fails on any JavaScript
error, CSP violation, or failed load of a console file in the browser log.
Prints one line per step; exit status 0 when everything passed.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:  # pragma: no cover - reported by test_console.py too
    print('console_browser: selenium is missing (%s): apt-get install python3-selenium '
          'and run with /usr/bin/python3' % e)
    sys.exit(3)

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
WIDTH, HEIGHT = 1280, 860


class StepFailed(AssertionError):
    pass


class Console:
    def __init__(self, spec):
        self.spec = spec
        self.base = spec['base'].rstrip('/')
        self.api = spec.get('api', self.base + '/api').rstrip('/')
        self.shots = spec['shots']
        os.makedirs(self.shots, exist_ok=True)
        self.profile = tempfile.mkdtemp(prefix='flowcgi-chromium-')
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                  '--disable-quic', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--disable-extensions',
                  '--disable-default-apps', '--hide-scrollbars', '--force-device-scale-factor=1',
                  '--window-size=%d,%d' % (WIDTH, HEIGHT), '--user-data-dir=' + self.profile):
            opts.add_argument(a)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        log = os.path.join(self.shots, 'chromedriver.log')
        self.d = webdriver.Chrome(service=Service(CHROMEDRIVER, log_path=log), options=opts)
        self.d.set_page_load_timeout(20)
        self.log = []

    def close(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # ---- helpers

    def wait(self, cond, what, timeout=10):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.05).until(lambda d: cond())
        except TimeoutException:
            raise StepFailed('timed out waiting for %s' % what)

    def find(self, css, root=None):
        return (root or self.d).find_elements(By.CSS_SELECTOR, css)

    def one(self, css, what=None):
        return self.wait(lambda: (self.find(css) or [None])[0], what or css)

    def ready(self, view):
        """The view finished rendering (main[data-ready] is set after it)."""
        self.wait(lambda: self.d.find_element(By.ID, 'main').get_attribute('data-ready') == view,
                  'the %s view' % view)

    def go(self, hash_, view):
        self.d.get(self.base + '/console/' + hash_)
        self.ready(view)

    def text(self, css):
        return ' '.join(e.text for e in self.find(css))

    def shot(self, name, height=None):
        if height:
            self.d.set_window_size(WIDTH, height)
            time.sleep(0.15)
        self.d.save_screenshot(os.path.join(self.shots, name + '.png'))
        if height:
            self.d.set_window_size(WIDTH, HEIGHT)

    def full_height(self):
        return min(3000, max(HEIGHT, self.d.execute_script(
            'return document.documentElement.scrollHeight') + 20))

    def drain_log(self):
        try:
            self.log += self.d.get_log('browser')
        except WebDriverException:
            pass

    def expect(self, cond, msg):
        if not cond:
            raise StepFailed(msg)

    def check_error_box(self, *needles):
        box = self.one('.error-box', 'an error box')
        t = box.text
        for n in needles:
            self.expect(n in t, 'error box lacks %r: %r' % (n, t))
        return t

    # ---- the steps

    def sign_in(self):
        s = self.spec
        self.d.get(self.base + '/console/')
        self.ready('signin')
        self.expect('#/signin' in self.d.current_url, 'not sent to #/signin: ' + self.d.current_url)
        self.expect(self.d.title == 'flowcgi console', 'title %r' % self.d.title)
        self.shot('01-signin')
        self.one('#account').send_keys(s['account'])
        self.one('#password').send_keys(s['password'] + '-wrong')
        self.one('#sign-in').click()
        self.check_error_box('The username/email or password is incorrect', 'INVALID_CREDENTIALS')
        pw = self.one('#password')
        pw.clear()
        pw.send_keys(s['password'])
        self.one('#sign-in').click()
        self.ready('workflows')
        role = Select(self.one('#role-select')).first_selected_option.get_attribute('value')
        self.expect(role == 'root', 'preselected role %r, not root' % role)
        token = self.d.execute_script(
            'return JSON.parse(sessionStorage.getItem("flowcgi-console")).token')
        self.expect(token and token.count('.') == 2, 'no token in sessionStorage')

    def workflows(self):
        wf = self.spec['workflow']
        row = self.one('#workflows-table tr[data-workflow-id="%s"]' % wf['id'], 'the workflow row')
        t = row.text
        for part in (wf['title'], wf['key'], 'custom-action', 'orders', 'sync', 'enabled'):
            self.expect(part in t, 'workflow row lacks %r: %r' % (part, t))
        # Executions by status are counted after the table is shown.
        cell = row.find_element(By.CSS_SELECTOR, '.exec-counts')
        self.wait(lambda: '…' not in cell.text, 'execution counts')
        counts = {b.text: b.find_element(By.XPATH, '..').text.split()[-1]
                  for b in cell.find_elements(By.CSS_SELECTOR, '.badge')}
        self.expect(counts == self.spec['expect_counts'],
                    'execution counts %r, expected %r' % (counts, self.spec['expect_counts']))
        self.shot('02-workflows')

    def workflows_any(self):
        """The workflows view shows what the API answered (a table or none)."""
        self.expect(self.find('#workflows-table') or 'No workflows yet' in self.text('#main'),
                    'workflows view: ' + self.text('#main')[:300])
        self.expect(not self.find('.error-box'), 'error: ' + self.text('.error-box'))
        self.shot('02-workflows')

    def drawing(self):
        wf = self.spec['workflow']
        self.one('#workflows-table a.wf-link[href="#/workflows/%s"]' % wf['id']).click()
        self.ready('workflows')
        svg = self.one('#workflow-drawing svg.drawing', 'the drawing')
        titles = [e.text for e in svg.find_elements(By.CSS_SELECTOR, 'text.node-title')]
        for t in self.spec['node_titles']:
            self.expect(t in titles, 'node %r not in the drawing: %r' % (t, titles))
        types = {e.text.lower() for e in svg.find_elements(By.CSS_SELECTOR, 'text.node-type')}
        for t in ('condition', 'multi-conditions', 'loop', 'parallel', 'calculation'):
            self.expect(t in types, 'node type %r not in the drawing: %r' % (t, types))
        labels = [e.text for e in svg.find_elements(By.CSS_SELECTOR, 'text.branch-label')]
        for label in self.spec['branch_labels']:
            self.expect(label in labels, 'branch %r not in the drawing: %r' % (label, labels))
        # Branches stand side by side: "yes" left of "no", both below the condition.
        node = svg.find_element(By.XPATH, './/*[local-name()="g"][.//*[text()="large order?"]]')
        yes = svg.find_element(By.XPATH, './/*[local-name()="g"][.//*[text()="mark for review"]]')
        no = svg.find_element(By.XPATH, './/*[local-name()="g"][.//*[text()="size"]]')
        self.expect(yes.rect['x'] < no.rect['x'] and yes.rect['y'] > node.rect['y'] and
                    abs(yes.rect['y'] - no.rect['y']) < 2, 'branches not side by side')
        # A node's configuration on click.
        node.click()
        self.wait(lambda: 'Configuration' in self.text('#node-detail'), 'the node detail')
        self.expect('amount' in self.text('#node-detail'), 'node config not shown')
        self.shot('03-workflow-drawing', 1650)   # the drawing box is 75vh high

    def trigger(self):
        s = self.spec
        self.one('#trigger-this').click()
        self.ready('trigger')
        coll = self.one('#trigger-collection')
        self.expect(coll.get_attribute('value') == 'orders', 'collection not preset')
        self.expect(self.one('#trigger-keys').get_attribute('value') == s['workflow']['key'],
                    'keys not preset')
        self.one('#trigger-id').send_keys(str(s['order_id']))
        self.one('#trigger-body').send_keys(json.dumps(s['trigger_body']))
        self.one('#trigger-submit').click()
        status = self.one('#trigger-status', 'the trigger answer')
        self.expect(status.text.startswith('HTTP 200'), 'trigger answered %r: %s' % (
            status.text, self.text('#trigger-result')))
        self.expect(s['expect_message'] in self.text('#trigger-messages'), 'message missing')
        link = self.one('#trigger-executions a.exec-link', 'a link to the new execution')
        self.new_execution = int(link.get_attribute('data-execution-id'))
        self.expect(self.new_execution > s['last_execution_id'],
                    'execution %s is not new' % self.new_execution)
        self.expect(len(self.find('#trigger-executions a.exec-link')) == 1,
                    'more than one execution listed')
        self.shot('04-trigger', self.full_height())

    def execution(self):
        self.one('#trigger-executions a.exec-link').click()
        self.ready('executions')
        self.expect(self.d.current_url.endswith('#/executions/%d' % self.new_execution),
                    'not on the execution page: ' + self.d.current_url)
        rows = self.wait(lambda: self.find('#jobs-table tr.job-row'), 'the jobs')
        got = [(r.find_elements(By.CSS_SELECTOR, 'td')[1].text, r.get_attribute('data-status'))
               for r in rows]
        want = [(t, 'resolved') for t in self.spec['expect_jobs']]
        self.expect(got == want, 'jobs %r, expected %r' % (got, want))
        self.expect('resolved' in self.text('.view-head .badge'), 'execution not resolved')
        self.expect('"amount": 150' in self.text('#execution-context'), 'context not shown')
        drawn = self.find('#execution-drawing g.node.status-resolved')
        self.expect(len(drawn) >= 8, 'resolved nodes not coloured in the drawing')
        self.expect(not self.find('#execution-drawing g.failed-node'), 'a failed node highlighted')
        self.shot('05-execution', min(1000, self.full_height()))

    def executions(self):
        wf = self.spec['workflow']
        self.one('#nav-executions').click()
        self.ready('executions')
        Select(self.one('#filter-workflow')).select_by_value(wf['key'])
        self.wait(lambda: 'workflow=' in self.d.current_url, 'the workflow filter in the URL')
        self.ready('executions')
        rows = self.find('#executions-table tbody tr')
        self.expect(rows and rows[0].get_attribute('data-execution-id') == str(self.new_execution),
                    'newest execution not first')
        self.expect(len(rows) == self.spec['expect_counts_total'] + 1, 'rows: %d' % len(rows))
        self.shot('06-executions')
        Select(self.one('#filter-status')).select_by_value('failed')
        self.wait(lambda: 'status=failed' in self.d.current_url, 'the status filter in the URL')
        self.ready('executions')
        rows = self.find('#executions-table tbody tr')
        self.expect(len(rows) == 1 and 'failed' in rows[0].text, 'failed filter: %r' %
                    [r.text for r in rows])
        self.expect('1 execution' in self.text('#page-info'), 'page info: ' + self.text('#page-info'))
        # Pages: two per page.
        self.go('#/executions?pageSize=2', 'executions')
        self.expect('page 1 of' in self.text('#page-info'), 'page info')
        self.one('#page-next').click()
        self.wait(lambda: 'page=2' in self.d.current_url, 'page 2')
        self.ready('executions')
        self.expect('page 2 of' in self.text('#page-info'), 'page 2 info: ' + self.text('#page-info'))
        self.go('#/executions?workflow=%s&status=failed' % wf['key'], 'executions')
        self.one('#executions-table a.exec-link').click()
        self.ready('executions')
        failed = self.one('#execution-drawing g.failed-node', 'the failed node highlighted')
        self.expect(self.spec['failed_node'] in failed.text, 'failed node %r' % failed.text)
        self.expect(self.spec['failed_node'] in self.text('#failed-at'), 'failed-at line')
        self.expect(self.find('#execution-drawing g.node.not-run'), 'nodes not run not dimmed')
        self.shot('07-execution-failed', min(1300, self.full_height()))

    # What other issues add to the API (X-Execution-Id on trigger answers,
    # ?dryRun=true and ?trace=true with meta.dryRun and meta.trace, announced
    # in /api/openapi.json), played by a stand-in for window.fetch in the
    # page, so that the console's use of them is tested before the server has
    # them. A dry run never reaches the server (the server would run it for
    # real); a real trigger does, and the stand-in adds the header with the
    # id of the execution it made.
    FETCH_STUB = r"""
    const real = window.fetch.bind(window);
    const spec = arguments[0];
    const json = (v, headers) => new Response(JSON.stringify(v), {status: 200,
        headers: Object.assign({'Content-Type': 'application/json'}, headers || {})});
    window.fetch = async (url, init) => {
      const u = new URL(url, location.href);
      if (u.pathname.endsWith('/openapi.json')) {
        return json({openapi: '3.1.0', paths: {'/{collection}:trigger': {post: {parameters: [
          {name: 'dryRun', in: 'query'}, {name: 'trace', in: 'query'}]}}}});
      }
      if (!/:trigger/.test(u.pathname)) return real(url, init);
      if (u.searchParams.get('dryRun') === 'true') {
        return json({messages: [{message: 'order First order reviewed'}], meta: {dryRun: true,
          trace: [{workflowId: spec.id, workflowKey: spec.key, title: spec.title, sync: true,
                   status: 1, jobs: [{nodeId: 1, nodeKey: 'k1', type: 'calculation', title: 'tax',
                                      status: 1, result: 30, durationMs: 0}]}]}});
      }
      const res = await real(url, init);
      const text = await res.text();
      const list = await real(spec.api + '/executions:list?sort=-id&pageSize=1&fields=id',
                              {headers: init.headers});
      const last = (await list.json()).data[0].id;
      const headers = new Headers(res.headers);
      headers.set('X-Execution-Id', String(last));
      window.__lastExecution = last;
      return new Response(text, {status: res.status, headers});
    };
    """

    def future_features(self):
        s = self.spec
        wf = s['workflow']
        self.go('#/workflows', 'workflows')
        self.d.refresh()        # a new page: features are detected once per page
        self.ready('workflows')
        self.d.execute_script(self.FETCH_STUB, {'id': wf['id'], 'key': wf['key'],
                                                'title': wf['title'], 'api': self.api})
        # Same page, so the stand-in stays: only the hash changes.
        self.d.execute_script('location.hash = arguments[0]',
                              '#/trigger?collection=orders&keys=%s&id=%s' % (wf['key'], s['order_id']))
        self.ready('trigger')
        dry = self.one('#trigger-dry-run')
        self.expect(dry.is_enabled(), 'dry run not offered although openapi.json announces it')
        dry.click()
        self.one('#trigger-trace').click()
        self.one('#trigger-body').send_keys(json.dumps(s['trigger_body']))
        self.expect('dryRun=true&trace=true' in self.text('#trigger-preview'), 'preview: ' +
                    self.text('#trigger-preview'))
        self.one('#trigger-submit').click()
        self.one('#trigger-status', 'the dry-run answer')
        out = self.text('#trigger-result')
        self.expect('Dry run: nothing was written' in out, 'no dry-run notice: ' + out)
        self.expect('A dry run records no execution' in out, 'dry run listed executions')
        self.expect('tax' in self.text('#trigger-trace'), 'trace not shown: ' + out)
        self.shot('09-trigger-dry-run', self.full_height())
        self.one('#trigger-dry-run').click()
        self.one('#trigger-trace').click()
        self.one('#trigger-submit').click()
        self.wait(lambda: 'X-Execution-Id' in self.text('#trigger-executions'),
                  'executions from the X-Execution-Id header')
        link = self.one('#trigger-executions a.exec-link')
        last = self.d.execute_script('return window.__lastExecution')
        self.expect(link.get_attribute('data-execution-id') == str(last),
                    'link to %s, header said %s' % (link.get_attribute('data-execution-id'), last))
        self.expect(last > self.new_execution, 'no new execution')

    def enable_disable(self):
        wf = self.spec['workflow']
        self.go('#/workflows', 'workflows')
        sel = '#workflows-table button.switch[data-workflow-id="%s"]' % wf['id']
        self.expect(self.one(sel).text == 'enabled', 'not enabled at first')
        self.one(sel).click()
        self.wait(lambda: self.one(sel).text == 'disabled', 'the switch to turn off')
        self.go('#/workflows?all=1', 'workflows')   # read back from the API
        self.expect(self.one(sel).text == 'disabled', 'disabled did not stay')
        self.one(sel).click()
        self.wait(lambda: self.one(sel).text == 'enabled', 'the switch to turn on')

    def no_permission(self):
        self.go('#/workflows', 'workflows')
        Select(self.one('#role-select')).select_by_value('member')
        self.ready('workflows')
        self.check_error_box('No permissions', 'NO_PERMISSION', 'member', 'HTTP 403')
        self.shot('08-no-permission')
        self.go('#/executions', 'executions')
        self.check_error_box('No permissions', 'NO_PERMISSION')
        self.go('#/trigger', 'trigger')      # the form still shows, with the reasons
        self.expect(self.find('#trigger-form'), 'trigger form missing for member')
        Select(self.one('#role-select')).select_by_value('root')
        self.ready('trigger')

    def sign_out(self):
        self.one('#sign-out').click()
        self.ready('signin')
        self.expect(self.d.execute_script('return sessionStorage.getItem("flowcgi-console")') is None,
                    'session kept after sign-out')
        self.d.get(self.base + '/console/#/workflows')
        self.ready('signin')

    def check_log(self):
        self.drain_log()
        bad = []
        for e in self.log:
            msg = e.get('message', '')
            if 'Content Security Policy' in msg or 'Refused to' in msg:
                bad.append(e)
            elif e.get('level') == 'SEVERE':
                # API answers with an error status are part of the run (the
                # wrong password, the member's 403s, a missing openapi.json);
                # anything else is not: a JS error, a console file not loaded.
                if e.get('source') == 'network' and msg.startswith(self.api + '/'):
                    continue
                bad.append(e)
        with open(os.path.join(self.shots, 'browser-log.json'), 'w') as f:
            json.dump(self.log, f, indent=1)
        self.expect(not bad, 'browser log: %s' % json.dumps(bad, indent=1))


STEPS = ['sign_in', 'workflows', 'drawing', 'trigger', 'execution', 'executions',
         'future_features', 'enable_disable', 'no_permission', 'sign_out', 'check_log']


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--spec', required=True)
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    t0 = time.monotonic()
    c = Console(spec)
    step = None
    try:
        for step in spec.get('steps') or STEPS:
            t = time.monotonic()
            getattr(c, step)()
            c.drain_log()
            print('ok   %-15s %.2fs' % (step, time.monotonic() - t), flush=True)
    except Exception as e:
        print('FAIL %-15s %s: %s' % (step, type(e).__name__, e), flush=True)
        try:
            c.shot('failure-' + step, c.full_height())
            print('     url: %s' % c.d.current_url)
            print('     page: %s' % c.d.find_element(By.TAG_NAME, 'body').text[:2000])
            c.drain_log()
            for e in c.log[-20:]:
                print('     log: %s' % e)
        except Exception as e2:
            print('     (no screenshot: %s)' % e2)
        return 1
    finally:
        c.close()
    print('console: all steps passed in %.1fs; screenshots in %s' % (time.monotonic() - t0,
                                                                     spec['shots']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
