/* Chat: streamed answers (SSE over fetch) with clickable [n] markers and a citation list. */

import { $, ApiError, REFUSAL, authHeaders, clear, errorFrom, errorFromBody, h, state } from './core.js';
import { openChunk } from './panel.js';

// -- chat ------------------------------------------------------------------------------------
async function* sseData(stream) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const take = function* (final) {
    buf = buf.replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0 || (final && buf.trim())) {
      const block = i >= 0 ? buf.slice(0, i) : buf;
      buf = i >= 0 ? buf.slice(i + 2) : '';
      const data = block.split('\n').filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data) yield data;
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    yield* take(false);
  }
  buf += decoder.decode();
  yield* take(true);
}

export function sourceWhere(c) {
  return [
    c.article,
    c.page ? `${c.page}쪽` : '',
    c['시행일자'] ? `시행일자 ${c['시행일자']}` : '',
    c['보도일'] ? `보도일 ${c['보도일']}` : '',
  ].filter(Boolean).join(' · ');
}

export function renderAnswerText(el, text, citations) {
  clear(el);
  const byMarker = new Map(citations.map((c) => [Number(c.marker), c]));
  const re = /\[(\d{1,3})\]/g;
  let pos = 0;
  let m;
  while ((m = re.exec(text))) {
    const c = byMarker.get(Number(m[1]));
    if (!c) continue;
    if (m.index > pos) el.append(document.createTextNode(text.slice(pos, m.index)));
    el.append(h('button', {
      type: 'button', class: 'marker', dataset: { chunk: c.chunk_id, marker: String(c.marker) },
      'aria-label': `출처 ${c.marker} 원문 보기: ${c.citation || ''}`,
      onclick: (e) => openChunk(c.chunk_id, { quote: c.quote, citation: c, trigger: e.currentTarget }),
    }, m[0]));
    pos = m.index + m[0].length;
  }
  if (pos < text.length) el.append(document.createTextNode(text.slice(pos)));
}

export function renderCitations(citations) {
  const list = h('ol', { class: 'citations', 'aria-label': '출처' });
  for (const c of citations) {
    const where = sourceWhere(c);
    list.append(h('li', { dataset: { marker: String(c.marker) } },
      h('button', {
        type: 'button', class: 'cite-btn', dataset: { chunk: c.chunk_id },
        onclick: (e) => openChunk(c.chunk_id, { quote: c.quote, citation: c, trigger: e.currentTarget }),
      }, h('span', { class: 'cite-num' }, `[${c.marker}]`), ' ', c.citation || c.title || '출처'),
      h('div', { class: 'cite-meta' },
        c.title && c.title !== c.citation ? h('span', {}, c.title) : null,
        where ? h('span', {}, where) : null)));
  }
  return list;
}

export async function ask(question) {
  const log = $('#chat-log');
  const answerText = h('div', { class: 'answer-text' });
  const status = h('p', { class: 'muted typing' }, '근거를 찾는 중…');
  const bot = h('div', { class: 'msg msg-bot', 'aria-busy': 'true' },
    h('span', { class: 'sr-only' }, '답변: '), answerText, status);
  const turn = h('article', { class: 'turn' },
    h('div', { class: 'msg msg-user' }, h('span', { class: 'sr-only' }, '질문: '), question), bot);
  log.append(turn);
  turn.scrollIntoView({ block: 'end' });

  const payload = { model: $('#chat-model').value || 'dasan', stream: true,
    messages: [{ role: 'user', content: question }] };
  if ($('#chat-collection').value) payload.collection = $('#chat-collection').value;
  let text = '';
  let final = null;
  try {
    let res;
    try {
      res = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(payload),
      });
    } catch {
      throw new ApiError(0, 'network', '서버에 연결할 수 없습니다. 서버가 켜져 있는지 확인하세요.');
    }
    if (!res.ok) throw await errorFrom(res);
    status.textContent = '답을 쓰는 중…';
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') break;
      let chunk;
      try { chunk = JSON.parse(data); } catch { continue; }
      if (chunk.error) throw errorFromBody(500, chunk);
      const choice = (chunk.choices || [])[0] || {};
      const delta = choice.delta || {};
      if (typeof delta.content === 'string' && delta.content) {
        text += delta.content;
        answerText.textContent = text;
      }
      if (chunk.citations || chunk.dasan) final = chunk;
    }
    const citations = (final && Array.isArray(final.citations)) ? final.citations : [];
    const info = (final && final.dasan) || {};
    status.remove();
    if (info.refused) {
      bot.classList.add('refused');
      bot.insertBefore(h('p', { class: 'refusal', role: 'note' }, `${REFUSAL}.`), answerText);
      const trimmed = text.trim();
      if (trimmed.startsWith(REFUSAL)) text = trimmed.slice(REFUSAL.length).replace(/^[.\s]+/, '');
      if (!text) answerText.remove();
    }
    renderAnswerText(answerText, text, citations);
    if (citations.length) bot.append(h('h3', { class: 'cite-title' }, '출처'), renderCitations(citations));
    const ms = info.timings_ms && info.timings_ms.total;
    const meta = [info.backend ? `답변 방식 ${info.backend}` : '', ms ? `${(ms / 1000).toFixed(1)}초` : '']
      .filter(Boolean).join(' · ');
    if (meta) bot.append(h('p', { class: 'answer-meta muted' }, meta));
  } catch (e) {
    status.remove();
    bot.classList.add('failed');
    bot.append(h('p', { class: 'error', role: 'alert' }, e.message));
  } finally {
    bot.setAttribute('aria-busy', 'false');
    turn.scrollIntoView({ block: 'end' });
  }
}

export async function onChatSubmit(ev) {
  ev.preventDefault();
  const input = $('#chat-input');
  const q = input.value.trim();
  if (!q || state.busy) return;
  state.busy = true;
  $('#chat-send').disabled = true;
  input.value = '';
  try {
    await ask(q);
  } finally {
    state.busy = false;
    $('#chat-send').disabled = false;
    if (state.me) input.focus();
  }
}
