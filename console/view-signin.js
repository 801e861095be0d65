// Sign in (auth:signIn with the basic authenticator), then auth:check for
// the user's roles; the role is chosen here and can be changed in the header.
import {session, call, ApiError} from './api.js';
import {h, errorBox, replace} from './dom.js';

// The role preselected: the most capable one the user holds.
function preferredRole(roles) {
  for (const name of ['root', 'admin']) if (roles.some((r) => r.name === name)) return name;
  const def = roles.find((r) => r.default);
  return (def || roles[0] || {}).name || '';
}

export async function signinView(el, path, params, ctx) {
  const next = params.get('next');
  const message = params.get('message');
  const account = h('input', {id: 'account', name: 'account', autocomplete: 'username',
                              required: true, placeholder: 'admin@nocobase.com'});
  const password = h('input', {id: 'password', name: 'password', type: 'password',
                               autocomplete: 'current-password', required: true});
  const out = h('div', {class: 'signin-out'});
  const button = h('button', {type: 'submit', class: 'btn primary', id: 'sign-in'}, 'Sign in');
  const form = h('form', {class: 'card signin', id: 'signin-form', novalidate: true},
    h('h1', null, 'Sign in'),
    h('p', {class: 'muted'}, 'Signs in to the flowcgi API at ', h('code', null, ctx.apiBase),
      '. Then choose one of your roles in the header: the console sees only what that role ' +
      'may see.'),
    message ? h('div', {class: 'notice'}, message) : null,
    h('label', {for: 'account'}, 'Email or username'), account,
    h('label', {for: 'password'}, 'Password'), password,
    h('div', {class: 'actions'}, button),
    out);
  el.appendChild(form);
  account.focus();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(out);
    if (!account.value.trim() || !password.value) {
      out.appendChild(errorBox({message: 'Enter an email or username and a password.'}));
      return;
    }
    button.disabled = true;
    try {
      const r = await call('POST', 'auth:signIn', {
        body: {account: account.value.trim(), password: password.value},
        headers: {'X-Authenticator': 'basic'}, token: null, role: null,
        noSessionHandler: true,
      });
      const token = r.data && r.data.token;
      if (!token) throw new ApiError(r.status, [{message: 'auth:signIn answered without a token'}]);
      const chk = await call('GET', 'auth:check', {token, role: null, noSessionHandler: true});
      const user = chk.data || (r.data && r.data.user) || {};
      const roles = (Array.isArray(user.roles) ? user.roles : [])
        .map((x) => ({name: x.name, title: x.title, default: x.default}));
      session.set({token, user: {id: user.id, username: user.username, email: user.email,
                                 nickname: user.nickname},
                   roles, role: preferredRole(roles)});
      location.hash = next && next.startsWith('#/') ? next : '#/workflows';
    } catch (e) {
      if (!ctx.alive()) return;
      out.appendChild(errorBox(e, 'Sign-in failed'));
    } finally {
      button.disabled = false;
    }
  });
}
