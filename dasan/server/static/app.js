/* 다산 웹 화면 entry point: login, navigation, wiring. Vanilla JS modules, no build step. */

import {
  copyNewKey, hideNewKey, loadAdmin, onAddDepartment, onAddUser, onCreateKey,
} from './admin.js';
import { loadDocsView, loadDocuments, onSearch } from './browse.js';
import { onChatSubmit } from './chat.js';
import { $, KEY_STORAGE, api, clear, h, hooks, isAdmin, listOf, setStatus, sleep, state, toast } from './core.js';
import { closePanel } from './panel.js';
import { onPressDraft } from './press.js';
import { onUpload, showChosenFiles } from './upload.js';

// -- login / logout ------------------------------------------------------------------------
async function login(key, { quiet = false } = {}) {
  const me = await api('/v1/login', { method: 'POST', body: { key }, auth: false });
  state.key = key;
  state.me = me;
  sessionStorage.setItem(KEY_STORAGE, key);
  onLoggedIn(quiet);
}

function onLoggedIn(quiet) {
  const me = state.me;
  $('#whoami-text').textContent =
    `${me.user} · 취급 등급 ${me.clearance} · ${(me.roles || []).join(', ') || '역할 없음'}`;
  $('#whoami').hidden = false;
  $('#nav').hidden = false;
  $('#nav-admin').hidden = !isAdmin();
  $('#view-login').hidden = true;
  $('#login-key').value = '';
  setStatus($('#login-error'), '');
  loadCollectionOptions();
  loadModels();
  const wanted = (location.hash || '').slice(1);
  showView(VIEWS.includes(wanted) ? wanted : 'chat', { focus: !quiet });
}

function logout(message) {
  state.key = null;
  state.me = null;
  sessionStorage.removeItem(KEY_STORAGE);
  closePanel();
  clear($('#chat-log'));
  clear($('#search-results'));
  clear($('#upload-results'));
  for (const sel of ['#collections-table tbody', '#documents-table tbody', '#users-table tbody', '#keys-table tbody',
    '#departments-table tbody']) {
    clear($(sel));
  }
  hideNewKey();
  $('#whoami').hidden = true;
  $('#nav').hidden = true;
  for (const v of document.querySelectorAll('.view')) v.hidden = true;
  $('#view-login').hidden = false;
  setStatus($('#login-error'), message || '', message ? 'error' : 'info');
  $('#login-key').focus();
}

function sessionExpired(message) {
  logout(`다시 로그인하세요: ${message}`);
}

// -- views ---------------------------------------------------------------------------------
const VIEWS = ['chat', 'search', 'docs', 'upload', 'press', 'admin'];

function showView(name, { focus = true } = {}) {
  if (!state.me) return;
  if (name === 'admin' && !isAdmin()) name = 'chat';
  state.view = name;
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== name;
  for (const b of document.querySelectorAll('.nav-btn')) {
    if (b.dataset.view === name) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  if (name === 'docs') loadDocsView();
  if (name === 'admin') loadAdmin();
  else hideNewKey(); // a new key is shown once: leaving the page forgets it
  if (focus) {
    const target = name === 'chat' ? $('#chat-input') : name === 'search' ? $('#search-query')
      : $(`#view-${name} .view-title`);
    if (target) {
      if (!target.matches('input, textarea, select, button')) target.setAttribute('tabindex', '-1');
      target.focus();
    }
  }
}

async function loadCollectionOptions() {
  try {
    const cols = listOf(await api('/v1/collections'), 'collections');
    for (const sel of [$('#chat-collection'), $('#search-collection')]) {
      const current = sel.value;
      clear(sel).append(h('option', { value: '' }, '모든 컬렉션'));
      for (const c of cols) sel.append(h('option', { value: c.name }, `${c.name} (${c.level})`));
      sel.value = cols.some((c) => c.name === current) ? current : '';
    }
    showChatSettings();
    const names = clear($('#collection-names'));
    for (const c of cols) names.append(h('option', { value: c.name }));
  } catch (e) {
    if (e.status !== 401) toast(e.message, 'error');
  }
}

function showChatSettings() {
  const pick = (sel) => (sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : '');
  $('#chat-settings-summary').textContent = `(${pick($('#chat-collection'))} · ${pick($('#chat-model'))})`;
}

async function loadModels() {
  const sel = $('#chat-model');
  try {
    const models = listOf(await api('/v1/models'), 'data');
    if (!models.length) return;
    clear(sel);
    for (const m of models) {
      const label = m.id === 'dasan' ? '원문 발췌 (dasan)' : `생성형 모델 (${m.id})`;
      sel.append(h('option', { value: m.id }, label));
    }
    showChatSettings();
  } catch { /* keep the default option */ }
}

// -- start -----------------------------------------------------------------------------------
async function waitReady() {
  const el = $('#login-error');
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch('/readyz');
      if (res.ok) { if (el.dataset.kind === 'wait') setStatus(el, ''); return; }
      setStatus(el, '문서 색인을 준비하는 중입니다. 잠시만 기다려 주세요…', 'wait');
    } catch {
      setStatus(el, '서버에 연결할 수 없습니다. 다시 시도하는 중…', 'wait');
    }
    await sleep(2000);
  }
}

function bind() {
  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = $('#login-key').value.trim();
    const err = $('#login-error');
    if (!key) { setStatus(err, 'API 키를 입력하세요.', 'error'); $('#login-key').focus(); return; }
    $('#login-submit').disabled = true;
    try {
      await login(key);
    } catch (e) {
      setStatus(err, e.status === 401 ? `로그인하지 못했습니다: ${e.message}` : e.message, 'error');
      $('#login-key').select();
    } finally {
      $('#login-submit').disabled = false;
    }
  });
  $('#logout').addEventListener('click', () => logout('로그아웃했습니다.'));
  for (const b of document.querySelectorAll('.nav-btn')) b.addEventListener('click', () => showView(b.dataset.view));
  window.addEventListener('hashchange', () => {
    const v = location.hash.slice(1);
    if (state.me && VIEWS.includes(v) && v !== state.view) showView(v);
  });
  $('#chat-form').addEventListener('submit', onChatSubmit);
  for (const sel of ['#chat-collection', '#chat-model']) $(sel).addEventListener('change', showChatSettings);
  showChatSettings();
  $('#chat-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $('#chat-form').requestSubmit();
    }
  });
  $('#search-form').addEventListener('submit', onSearch);
  $('#documents-all').addEventListener('click', () => loadDocuments(''));
  $('#upload-form').addEventListener('submit', onUpload);
  $('#press-form').addEventListener('submit', onPressDraft);
  $('#upload-files').addEventListener('change', showChosenFiles);
  $('#user-form').addEventListener('submit', onAddUser);
  $('#key-form').addEventListener('submit', onCreateKey);
  $('#department-form').addEventListener('submit', onAddDepartment);
  $('#new-key-copy').addEventListener('click', copyNewKey);
  $('#panel-close').addEventListener('click', closePanel);
  $('#panel-backdrop').addEventListener('click', closePanel);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('#panel').hidden) { e.preventDefault(); closePanel(); }
  });
}

hooks.sessionExpired = sessionExpired;
hooks.documentsChanged = () => {
  if (state.view === 'docs') loadDocsView();
  loadCollectionOptions();
};

async function start() {
  bind();
  await waitReady();
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) {
    try {
      await login(saved, { quiet: true });
      return;
    } catch (e) {
      sessionStorage.removeItem(KEY_STORAGE);
      setStatus($('#login-error'), `다시 로그인하세요: ${e.message}`, 'error');
    }
  }
  $('#login-key').focus();
}

document.addEventListener('DOMContentLoaded', start);
