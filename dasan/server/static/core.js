/* 다산 웹 화면: shared state, DOM helpers and the API client.
 * Server strings only ever go into text nodes (textContent), never innerHTML. */

export const KEY_STORAGE = 'dasan.key';
export const REFUSAL = '제공된 문서에서 근거를 찾지 못했습니다';
/** Set by app.js: what to do when the key stops working, and when documents change. */
export const hooks = { sessionExpired: () => {}, documentsChanged: () => {} };

export const state = { key: null, me: null, view: null, panelReturn: null, busy: false, docsCollection: '' };

// -- small DOM helpers ----------------------------------------------------------------
export const $ = (sel, root = document) => root.querySelector(sel);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) { if (typeof v === 'function') el.addEventListener(k.slice(2), v); }
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

let toastTimer = null;
export function toast(message, kind = 'info') {
  const t = $('#toast');
  t.textContent = message;
  t.dataset.kind = kind;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}

export function setStatus(el, message, kind = 'info') {
  el.textContent = message || '';
  el.dataset.kind = kind;
}

export function formatDate(value) {
  if (!value) return '—';
  const s = String(value);
  return s.length >= 10 ? s.slice(0, 10) : s;
}

// -- API ------------------------------------------------------------------------------------
export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export const STATUS_MESSAGES = {
  400: '요청 내용이 올바르지 않습니다.',
  401: '인증에 실패했습니다. API 키를 확인하세요.',
  403: '이 작업을 할 권한이 없습니다.',
  404: '찾을 수 없습니다.',
  413: '파일이 너무 큽니다.',
  422: '파일을 읽을 수 없습니다.',
  503: '서버가 아직 준비되지 않았습니다. 잠시 후 다시 시도하세요.',
};

export function errorFromBody(status, body) {
  let code = `http_${status}`;
  let message = STATUS_MESSAGES[status] || `요청이 실패했습니다 (HTTP ${status}).`;
  if (body && typeof body === 'object') {
    if (body.error && typeof body.error === 'object') {
      code = body.error.code || code;
      message = body.error.message || message;
    } else if (typeof body.detail === 'string') {
      message = body.detail;
    }
  }
  return new ApiError(status, code, message);
}

export async function errorFrom(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const err = errorFromBody(res.status, body);
  if (res.status === 401 && state.key) hooks.sessionExpired(err.message);
  return err;
}

export function authHeaders(extra = {}) {
  return state.key ? { ...extra, Authorization: `Bearer ${state.key}` } : extra;
}

export async function api(path, { method = 'GET', body, auth = true } = {}) {
  const headers = auth ? authHeaders({ Accept: 'application/json' }) : { Accept: 'application/json' };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', '서버에 연결할 수 없습니다. 서버가 켜져 있는지 확인하세요.');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  return res.json();
}

export const listOf = (j, key) => (Array.isArray(j) ? j : (j && Array.isArray(j[key]) ? j[key] : []));

// The admin page needs the admin role and a key whose scopes include 'admin'.
export function isAdmin() {
  const me = state.me;
  if (!me || !(me.roles || []).includes('admin')) return false;
  return !Array.isArray(me.scopes) || me.scopes.includes('admin');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function confirmButton(label, confirmLabel, action) {
  const btn = h('button', { type: 'button', class: 'btn btn-small btn-danger' }, label);
  let armed = false;
  btn.addEventListener('click', async () => {
    if (!armed) { armed = true; btn.textContent = confirmLabel; return; }
    btn.disabled = true;
    await action();
  });
  btn.addEventListener('blur', () => { if (armed && !btn.disabled) { armed = false; btn.textContent = label; } });
  return btn;
}
