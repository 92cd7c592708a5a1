/* Admin page: departments, users, API keys (shown once), revocation. */

import { $, api, clear, confirmButton, formatDate, h, listOf, setStatus, toast } from './core.js';

export async function loadAdmin() {
  const status = $('#admin-status');
  try {
    const [users, keys, depts] = await Promise.all([api('/v1/users'), api('/v1/keys'), api('/v1/departments')]);
    renderDepartments(listOf(depts, 'departments'));
    renderUsers(listOf(users, 'users'));
    renderKeys(listOf(keys, 'keys'));
  } catch (e) {
    setStatus(status, e.message, 'error');
  }
}

export function flattenDepartments(nodes, depth = 0, parent = null, out = []) {
  for (const n of nodes) {
    out.push({ name: n.name, depth, parent, members: n.members, collections: n.collections || [] });
    flattenDepartments(n.children || [], depth + 1, n.name, out);
  }
  return out;
}

export function renderDepartments(tree) {
  const flat = flattenDepartments(tree);
  const tbody = clear($('#departments-table tbody'));
  if (!flat.length) tbody.append(h('tr', {}, h('td', { colspan: '3', class: 'muted' }, '등록된 부서가 없습니다.')));
  for (const d of flat) {
    tbody.append(h('tr', { dataset: { department: d.name } },
      h('th', { scope: 'row', style: null }, h('span', { class: 'indent', 'aria-hidden': 'true' }, '　'.repeat(d.depth)),
        d.depth ? '└ ' : '', d.name),
      h('td', { class: 'num' }, String(d.members ?? 0)),
      h('td', {}, d.collections.join(', ') || '—')));
  }
  const parent = $('#department-parent');
  const keep = parent.value;
  clear(parent).append(h('option', { value: '' }, '(없음: 최상위)'));
  for (const d of flat) parent.append(h('option', { value: d.name }, `${'　'.repeat(d.depth)}${d.name}`));
  parent.value = flat.some((d) => d.name === keep) ? keep : '';
  const box = $('#user-departments');
  const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  for (const el of [...box.querySelectorAll('.check')]) el.remove();
  box.querySelector('.checks-empty').hidden = flat.length > 0;
  flat.forEach((d, i) => {
    const id = `user-dept-${i}`;
    box.append(h('span', { class: 'check' },
      h('input', { type: 'checkbox', id, name: 'departments', value: d.name, checked: checked.has(d.name) }),
      h('label', { for: id }, d.name)));
  });
}

export async function onAddDepartment(ev) {
  ev.preventDefault();
  const status = $('#admin-status');
  const name = $('#department-name').value.trim();
  if (!name) { setStatus(status, '부서 이름을 입력하세요.', 'error'); $('#department-name').focus(); return; }
  const body = { name };
  if ($('#department-parent').value) body.parent = $('#department-parent').value;
  try {
    await api('/v1/departments', { method: 'POST', body });
    setStatus(status, `부서 ${name}을(를) 추가했습니다.`);
    ev.target.reset();
    await loadAdmin();
  } catch (e) {
    setStatus(status, e.message, 'error');
  }
}

export function renderUsers(users) {
  const tbody = clear($('#users-table tbody'));
  const sel = $('#key-user');
  const current = sel.value;
  clear(sel);
  for (const u of users) {
    tbody.append(h('tr', { dataset: { user: u.name } },
      h('th', { scope: 'row' }, u.name),
      h('td', {}, h('span', { class: `level level-${u.clearance}` }, u.clearance)),
      h('td', {}, u.role || (u.roles || []).join(', ')),
      h('td', {}, (u.departments || []).join(', ') || '—')));
    sel.append(h('option', { value: u.name }, u.name));
  }
  if (users.some((u) => u.name === current)) sel.value = current;
}

export function renderKeys(keys) {
  const tbody = clear($('#keys-table tbody'));
  for (const k of keys) {
    const active = (k.status || 'active') === 'active';
    tbody.append(h('tr', { dataset: { key: String(k.id), status: k.status || '' } },
      h('td', { class: 'num' }, String(k.id)),
      h('td', {}, h('code', {}, k.prefix || '')),
      h('td', {}, k.user || ''),
      h('td', {}, { active: '사용 중', revoked: '폐기됨', expired: '만료됨' }[k.status] || k.status || ''),
      h('td', {}, (k.scopes || []).join(', ')),
      h('td', {}, formatDate(k.expires_at) === '—' ? '없음' : formatDate(k.expires_at)),
      h('td', {}, formatDate(k.last_used_at)),
      h('td', {}, active ? confirmButton('폐기', '폐기 확인', () => revokeKey(k)) : null)));
  }
}

export function hideNewKey() {
  $('#new-key').hidden = true;
  $('#new-key-value').value = '';
}

export async function revokeKey(k) {
  if (k.prefix && $('#new-key-value').value.startsWith(k.prefix)) hideNewKey();
  try {
    await api(`/v1/keys/${encodeURIComponent(String(k.id))}`, { method: 'DELETE' });
    setStatus($('#admin-status'), `키 ${k.prefix || k.id}을(를) 폐기했습니다.`);
  } catch (e) {
    setStatus($('#admin-status'), e.message, 'error');
  }
  await loadAdmin();
}

export async function onAddUser(ev) {
  ev.preventDefault();
  const status = $('#admin-status');
  const name = $('#user-name').value.trim();
  if (!name) { setStatus(status, '사용자 이름을 입력하세요.', 'error'); $('#user-name').focus(); return; }
  const departments = [...document.querySelectorAll('#user-departments input:checked')].map((i) => i.value);
  try {
    await api('/v1/users', { method: 'POST', body: {
      name, clearance: $('#user-clearance').value, role: $('#user-role').value, departments } });
    setStatus(status, `사용자 ${name}을(를) 추가했습니다.`);
    ev.target.reset();
    await loadAdmin();
    $('#key-user').value = name;
  } catch (e) {
    setStatus(status, e.message, 'error');
  }
}

export async function onCreateKey(ev) {
  ev.preventDefault();
  const status = $('#admin-status');
  const user = $('#key-user').value;
  if (!user) { setStatus(status, '키를 받을 사용자를 고르세요.', 'error'); return; }
  const days = parseInt($('#key-days').value, 10);
  try {
    const body = { user };
    if (Number.isFinite(days)) body.expires_days = days;
    const res = await api('/v1/keys', { method: 'POST', body });
    $('#new-key').hidden = false;
    $('#new-key-value').value = res.key || '';
    $('#new-key-value').focus();
    $('#new-key-value').select();
    setStatus(status, `${user}의 API 키를 발급했습니다. 지금 복사해 두세요.`);
    await loadAdmin();
  } catch (e) {
    setStatus(status, e.message, 'error');
  }
}

export async function copyNewKey() {
  const v = $('#new-key-value').value;
  try {
    await navigator.clipboard.writeText(v);
    toast('키를 복사했습니다.');
  } catch {
    $('#new-key-value').select();
    toast('자동 복사가 막혀 있습니다. Ctrl+C로 복사하세요.');
  }
}
