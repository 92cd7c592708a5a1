/* Search results and the collection / document browser. */

import { $, api, clear, formatDate, h, listOf, setStatus, state } from './core.js';
import { openChunk, openDocument } from './panel.js';

// -- search ---------------------------------------------------------------------------------
export function snippetNode(snippet) {
  const frag = document.createDocumentFragment();
  const terms = [];
  const re = /【([^】]*)】/g;
  let pos = 0;
  let m;
  while ((m = re.exec(snippet))) {
    if (m.index > pos) frag.append(document.createTextNode(snippet.slice(pos, m.index)));
    frag.append(h('mark', {}, m[1]));
    terms.push(m[1]);
    pos = m.index + m[0].length;
  }
  if (pos < snippet.length) frag.append(document.createTextNode(snippet.slice(pos)));
  return { frag, terms };
}

export async function onSearch(ev) {
  ev.preventDefault();
  const query = $('#search-query').value.trim();
  const status = $('#search-status');
  const list = clear($('#search-results'));
  if (!query) { setStatus(status, '검색어를 입력하세요.', 'error'); $('#search-query').focus(); return; }
  setStatus(status, '찾는 중…');
  try {
    const body = { query, k: 10 };
    if ($('#search-collection').value) body.collection = $('#search-collection').value;
    const results = listOf(await api('/v1/search', { method: 'POST', body }), 'results');
    setStatus(status, results.length ? `${results.length}건을 찾았습니다.` : '검색 결과가 없습니다.');
    for (const r of results) {
      const { frag, terms } = snippetNode(String(r.snippet || r.text || ''));
      list.append(h('li', { class: 'result' },
        h('button', {
          type: 'button', class: 'result-title', dataset: { chunk: r.chunk_id },
          onclick: (e) => openChunk(r.chunk_id, { terms, trigger: e.currentTarget }),
        }, r.citation || '출처'),
        h('div', { class: 'result-meta muted' },
          [r.collection, r.level, r.page ? `${r.page}쪽` : ''].filter(Boolean).join(' · ')),
        h('p', { class: 'snippet' }, frag)));
    }
  } catch (e) {
    setStatus(status, e.message, 'error');
  }
}

// -- collections and documents ------------------------------------------------------------
export async function loadDocsView() {
  const tbody = $('#collections-table tbody');
  try {
    const cols = listOf(await api('/v1/collections'), 'collections');
    clear(tbody);
    if (!cols.length) tbody.append(h('tr', {}, h('td', { colspan: '5', class: 'muted' }, '볼 수 있는 컬렉션이 없습니다.')));
    for (const c of cols) {
      tbody.append(h('tr', { dataset: { collection: c.name } },
        h('th', { scope: 'row' }, h('button', {
          type: 'button', class: 'link-btn', 'aria-label': `컬렉션 ${c.name}의 문서 보기`,
          onclick: () => loadDocuments(c.name),
        }, c.name)),
        h('td', {}, h('span', { class: `level level-${c.level}` }, c.level || '—')),
        h('td', {}, (c.departments || []).join(', ') || '—'),
        h('td', { class: 'num' }, String(c.documents ?? 0)),
        h('td', { class: 'num' }, String(c.chunks ?? 0))));
    }
  } catch (e) {
    clear(tbody).append(h('tr', {}, h('td', { colspan: '5', class: 'error' }, e.message)));
  }
  await loadDocuments(state.docsCollection);
}

export async function loadDocuments(collection) {
  state.docsCollection = collection || '';
  $('#documents-filter').textContent = collection ? `— ${collection}` : '';
  $('#documents-all').hidden = !collection;
  const tbody = $('#documents-table tbody');
  const status = $('#docs-status');
  setStatus(status, '불러오는 중…');
  try {
    const q = collection ? `?collection=${encodeURIComponent(collection)}` : '';
    const docs = listOf(await api(`/v1/documents${q}`), 'documents');
    clear(tbody);
    setStatus(status, `문서 ${docs.length}건`);
    for (const d of docs) {
      tbody.append(h('tr', { dataset: { document: d.id } },
        h('th', { scope: 'row' }, h('button', {
          type: 'button', class: 'link-btn', onclick: (e) => openDocument(d.id, e.currentTarget),
        }, d.title || '제목 없음')),
        h('td', {}, d.collection || '—'),
        h('td', {}, (d.format || '—').toUpperCase()),
        h('td', {}, h('span', { class: `level level-${d.level}` }, d.level || '—')),
        h('td', { class: 'num' }, String(d.chunks ?? 0)),
        h('td', {}, formatDate(d.ingested_at))));
    }
  } catch (e) {
    clear(tbody);
    setStatus(status, e.message, 'error');
  }
}
