// #/login — email and password → POST /auth/login → the token in sessionStorage.

import { api, session } from '../api.js';
import { errorBox } from '../components.js';
import { h, replace } from '../dom.js';
import { refreshDemoBanner, refreshReviewCount, takeLoginMessage } from '../main.js';

export default function render(ctx) {
  ctx.setTitle('Log in');
  const message = takeLoginMessage();
  const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'form-status', 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', { class: 'login-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    status, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(status);
    if (!email.value.trim() || !password.value) {
      replace(status, h('p', { class: 'error-box', role: 'alert' }, 'Enter your email and your password.'));
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const answer = await api.post('/auth/login', { email: email.value.trim(), password: password.value }, { auth: false });
      session.save(answer);
      refreshDemoBanner();
      refreshReviewCount();
      const next = ctx.query.next && ctx.query.next.startsWith('/') && !ctx.query.next.startsWith('/login') ? ctx.query.next : '/plans';
      location.hash = `#${next}`;
    } catch (error) {
      replace(status, errorBox(error));
      password.select();
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });

  replace(ctx.main,
    h('section', { class: 'login-card card' },
      h('h1', { tabindex: '-1' }, 'Log in to MasterPlan'),
      h('p', { class: 'muted' }, 'Turn a plain-language request into a reviewed plan and working, tested code.'),
      message ? h('p', { class: 'notice notice-info', role: 'status' }, message) : null,
      form,
      h('p', { class: 'help' }, 'No account? An operator adds one with ', h('code', null, 'masterplan user add EMAIL'), '.')));
  email.focus();
}
