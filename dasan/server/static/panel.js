/* Side panel: a source passage with the cited quote in <mark>, or a whole document. */

import { $, api, authHeaders, clear, confirmButton, errorFrom, formatDate, h, hooks, isAdmin, state, toast } from './core.js';

// -- side panel ------------------------------------------------------------------------------
export function openPanel(title, trigger) {
  const panel = $('#panel');
  if (panel.hidden) state.panelReturn = trigger || document.activeElement;
  $('#panel-title').textContent = title;
  clear($('#panel-body')).append(h('p', { class: 'muted' }, '불러오는 중…'));
  panel.hidden = false;
  $('#panel-backdrop').hidden = false;
  document.body.classList.add('panel-open');
  $('#panel-close').focus();
  return $('#panel-body');
}

export function closePanel() {
  const panel = $('#panel');
  if (panel.hidden) return;
  panel.hidden = true;
  $('#panel-backdrop').hidden = true;
  document.body.classList.remove('panel-open');
  const back = state.panelReturn;
  state.panelReturn = null;
  if (back && document.contains(back) && typeof back.focus === 'function') back.focus();
}

export function panelError(body, err) {
  clear(body).append(h('p', { class: 'error', role: 'alert' }, err.message));
}

export function factList(pairs) {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === '') continue;
    dl.append(h('dt', {}, k), h('dd', {}, String(v)));
  }
  return dl;
}

// Whitespace-insensitive search of the quote inside the passage; returns [start, end) ranges.
export function collapse(text) {
  let s = '';
  const map = [];
  let space = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      if (!space && s.length) { s += ' '; map.push(i); }
      space = true;
    } else {
      s += ch; map.push(i); space = false;
    }
  }
  return { s, map };
}

export function findRanges(text, needles) {
  const { s, map } = collapse(text);
  const lower = s.toLowerCase();
  const ranges = [];
  for (const raw of needles) {
    const n = raw.replace(/\s+/g, ' ').trim().toLowerCase();
    if (n.length < 2) continue;
    let from = 0;
    let idx;
    while ((idx = lower.indexOf(n, from)) >= 0) {
      ranges.push([map[idx], map[idx + n.length - 1] + 1]);
      from = idx + n.length;
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  return merged;
}

export function quoteRanges(text, quote) {
  if (!quote) return [];
  const whole = findRanges(text, [quote]);
  if (whole.length) return whole.slice(0, 1);
  // Fall back to the quote's lines/sentences (a quote may join lines or be masked differently).
  const parts = quote.split(/\n+|(?<=[.?!。])\s+/).map((p) => p.trim()).filter((p) => p.length >= 6);
  return findRanges(text, parts);
}

export function highlighted(text, ranges) {
  const frag = document.createDocumentFragment();
  let pos = 0;
  for (const [a, b] of ranges) {
    if (a > pos) frag.append(document.createTextNode(text.slice(pos, a)));
    frag.append(h('mark', {}, text.slice(a, b)));
    pos = b;
  }
  if (pos < text.length) frag.append(document.createTextNode(text.slice(pos)));
  return frag;
}

export async function openChunk(chunkId, { quote = '', terms = [], citation = null, trigger = null } = {}) {
  const body = openPanel('원문 구절', trigger);
  try {
    const c = await api(`/v1/chunks/${encodeURIComponent(chunkId)}`);
    const text = String(c.text || '');
    const ranges = quote ? quoteRanges(text, quote) : findRanges(text, terms);
    clear(body);
    body.append(
      h('h3', { class: 'panel-doc-title' }, c.title || c.citation || '제목 없음'),
      factList([
        ['출처', c.citation],
        ['조문', c.article],
        ['쪽', c.page],
        ['위치', c.context],
        ['시행일자', citation && citation['시행일자']],
        ['보도일', citation && citation['보도일']],
      ]),
    );
    if (quote && !ranges.length) {
      body.append(h('p', { class: 'note' }, '인용 문장을 원문에서 정확히 찾지 못해 아래에 따로 보여 드립니다.'),
        h('blockquote', { class: 'quote' }, quote));
    }
    body.append(h('div', { class: 'passage', 'aria-label': '원문' }, highlighted(text, ranges)));
    body.append(h('div', { class: 'panel-actions' },
      h('button', { type: 'button', class: 'btn', onclick: (e) => openDocument(c.document_id, e.currentTarget) },
        '문서 전체 보기')));
    const mark = body.querySelector('mark');
    if (mark) mark.scrollIntoView({ block: 'center' });
  } catch (e) {
    panelError(body, e);
  }
}

export async function openDocument(docId, trigger) {
  const body = openPanel('문서', trigger);
  try {
    const d = await api(`/v1/documents/${encodeURIComponent(docId)}`);
    clear(body);
    $('#panel-title').textContent = '문서';
    const chunks = Array.isArray(d.chunks) ? d.chunks : [];
    body.append(
      h('h3', { class: 'panel-doc-title' }, d.title || '제목 없음'),
      factList([
        ['컬렉션', d.collection], ['형식', d.format], ['종류', d.kind], ['보안 등급', d.level],
        ['쪽수', d.pages], ['청크', d.chunks_count ?? chunks.length], ['등록일', formatDate(d.ingested_at)],
        ['부서', (d.departments || []).join(', ')],
      ]),
      d.press ? pressFacts(d) : null,
      h('div', { class: 'panel-actions' },
        d.original === false ? null
          : h('button', { type: 'button', class: 'btn', onclick: () => downloadOriginal(d) }, '원본 내려받기'),
        isAdmin() ? confirmButton('문서 삭제', '삭제 확인', () => deleteDocument(d)) : null),
      h('h4', {}, `본문 (${chunks.length}개 청크)`),
    );
    const list = h('ol', { class: 'chunk-list' });
    for (const c of chunks.slice(0, 300)) {
      const where = [c.article, c.page ? `${c.page}쪽` : ''].filter(Boolean).join(' · ');
      list.append(h('li', {},
        h('p', { class: 'chunk-cite' }, c.citation || '', where ? h('span', { class: 'muted' }, ` (${where})`) : null),
        h('p', { class: 'chunk-text' }, c.text || '')));
    }
    body.append(list);
    if (chunks.length > 300) body.append(h('p', { class: 'muted' }, `앞의 300개만 보여 줍니다 (전체 ${chunks.length}개).`));
  } catch (e) {
    panelError(body, e);
  }
}

function pressFacts(d) {
  const p = d.press;
  const contacts = (p.contacts || []).map((c) =>
    [c.role, c.department, c.position, c.name, (c.phones || []).join(', ')].filter(Boolean).join(' '));
  const box = h('div', { class: 'press-facts' },
    factList([
      ['부처', p.ministry], ['실·국', p.bureau], ['담당 과', p.division], ['배포', p.distributed],
      ['보도시점(원문)', p.embargo_text],
    ]),
    h('p', { class: p.embargo_hold ? 'embargo-hold' : 'muted', role: p.embargo_hold ? 'alert' : null },
      `보도시점: ${p.embargo_status || '정보 없음'}`),
    contacts.length ? h('ul', { class: 'press-contacts' }, contacts.map((t) => h('li', {}, t))) : null);
  if (isAdmin()) {
    const input = h('input', { type: 'text', placeholder: '2026-03-02T09:00+09:00 또는 none',
      'aria-label': '보도시점', value: p.embargo || '' });
    box.append(h('form', { class: 'embargo-form', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api(`/v1/documents/${encodeURIComponent(d.id)}/embargo`,
          { method: 'POST', body: { embargo: input.value.trim() || 'none' } });
        toast('보도시점을 바꿨습니다.');
        openDocument(d.id);
      } catch (e) { toast(e.message, 'error'); }
    } }, h('label', {}, '보도시점 지정·해제 ', input), h('button', { type: 'submit', class: 'btn' }, '적용')));
  }
  return box;
}

export async function deleteDocument(doc) {
  try {
    await api(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: 'DELETE' });
    toast(`문서를 삭제했습니다: ${doc.title || doc.id}`);
    closePanel();
    hooks.documentsChanged();
  } catch (e) {
    toast(e.message, 'error');
  }
}

export async function downloadOriginal(doc) {
  try {
    const res = await fetch(`/v1/documents/${encodeURIComponent(doc.id)}/original`, { headers: authHeaders() });
    if (!res.ok) throw await errorFrom(res);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const safe = String(doc.title || 'document').replace(/[\\/:*?"<>|\x00-\x1f]/g, '_').slice(0, 80);
    const a = h('a', { href: url, download: `${safe}.${doc.format || 'bin'}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(e.message, 'error');
  }
}
