/* 현장 안전 도우미 (/field): one question → three cards (지금 할 일 · 법적 의무 · 과거 사례), or a
 * 사고 보고 draft. Server strings only ever go into text nodes; the key stays in sessionStorage
 * (shared with the main web UI, same origin). */
import { $, KEY_STORAGE, api, clear, h, setStatus, state } from './core.js';

function show(loggedIn) {
  $('#f-login').hidden = loggedIn;
  $('#f-app').hidden = !loggedIn;
  $('#f-logout').hidden = !loggedIn;
}

async function login(key) {
  state.key = key;
  try {
    await api('/v1/login', { method: 'POST', body: { key }, auth: false });
    sessionStorage.setItem(KEY_STORAGE, key);
    show(true);
    $('#f-q').focus();
  } catch (e) {
    state.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    show(false);
    setStatus($('#f-login-status'), e.message || '키를 확인할 수 없습니다.', 'error');
  }
}

function card(cls, title, ...body) {
  return h('section', { class: `fcard part ${cls}` }, h('h2', { text: title }), ...body);
}

function renderAnswer(j) {
  const out = clear($('#f-out'));
  if (j.refused) {
    out.append(h('div', { class: 'fcard refused', text: j.answer }));
    return;
  }
  const now = j.now || [];
  if (now.length) {
    const first = now[0].steps[0];
    out.append(h('div', { class: 'fcard lead' }, `먼저: ${first.text}`, h('span', { class: 'src', text: first.citation })));
  }
  out.append(card(now.length ? 'now' : 'now empty', '지금 할 일',
    now.length ? now.map((c) => h('div', {},
      h('span', { class: 'tag', text: c.source }), h('span', { class: 'src', text: c.section }),
      h('ol', {}, c.steps.map((s) => h('li', { value: String(s.n) }, s.text)))))
      : h('p', { text: '이 상황의 절차를 매뉴얼·국민행동요령에서 찾지 못했습니다.' })));
  const law = j.law || { duties: [], articles: [] };
  const lawItems = [
    ...law.duties.map((d) => h('div', {},
      h('p', {}, h('span', { class: `tag ${d.applies === '해당' ? 'yes' : ''}`, text: d.applies }), `${d.name} → ${d.to}`),
      h('p', { text: `기한: ${d.deadline}` }),
      h('span', { class: 'src', text: `근거: ${d.sources.map((s) => `${s.citation}${s['시행일자'] ? ` (시행 ${s['시행일자']}${s.in_force === false ? ', 시행 전' : ''})` : ''}`).join(', ')}` }))),
    ...law.articles.map((a) => h('div', {},
      h('p', { text: a.text.length > 220 ? `${a.text.slice(0, 219)}…` : a.text }),
      h('span', { class: 'src', text: `${a.citation} (시행 ${a['시행일자'] || '미상'}${a.in_force === false ? ', 시행 전/폐지' : a.in_force ? ', 현행' : ''})` }))),
  ];
  out.append(card(lawItems.length ? 'law' : 'law empty', '법적 의무',
    lawItems.length ? lawItems : h('p', { text: '관련 법령 조문을 찾지 못했습니다.' })));
  const past = j.past || {};
  const pastItems = [];
  if (past.count) {
    pastItems.push(h('p', { class: 'src', text: past.count.query }));
    if (past.count.groups && past.count.groups.length) {
      pastItems.push(h('ol', {}, past.count.groups.slice(0, 5).map((g) => h('li', { text: `${g.value}: ${g.count}건` }))));
    } else {
      pastItems.push(h('p', { text: `해당 기록 ${past.count.count}건` }));
    }
  }
  for (const t of past.similar || []) {
    for (const r of t.records) {
      const f = r.fields || {};
      const what = Object.entries(f).filter(([k]) => /조치|대책/.test(k)).map(([k, v]) => `${k}: ${v}`);
      pastItems.push(h('div', {}, h('p', { text: Object.values(f).slice(1, 6).join(' · ') }),
        ...what.map((w) => h('p', { class: 'src', text: w })), h('span', { class: 'src', text: r.citation })));
    }
  }
  out.append(card(pastItems.length ? 'past' : 'past empty', '과거 사례',
    pastItems.length ? pastItems : h('p', { text: '비슷한 과거 기록을 찾지 못했습니다.' })));
}

function renderReport(j) {
  const out = clear($('#f-out'));
  out.append(h('div', { class: 'fcard lead', text: '사고 보고 초안 — 확인한 뒤 제출하세요. 자동으로 제출되지 않습니다.' }));
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of Object.entries(j.fields || {})) {
    dl.append(h('dt', { text: k }), h('dd', { class: v === '(확인 필요)' ? 'todo' : '', text: v }));
  }
  out.append(card('now', '사고대장 항목', dl));
  out.append(card((j.reports || []).length ? 'law' : 'law empty', '법령에 따른 보고',
    (j.reports || []).length ? j.reports.map((d) => h('div', {},
      h('p', {}, h('span', { class: `tag ${d.applies === '해당' ? 'yes' : ''}`, text: d.applies }), `${d.name} → ${d.to}`),
      h('p', { text: `기한: ${d.due}` }),
      d.items.length ? h('p', { class: 'src', text: `보고 내용: ${d.items.join(' / ')}` }) : null,
      h('span', { class: 'src', text: `근거: ${d.sources.map((s) => s.citation).join(', ')}` })))
      : h('p', { text: '법령상 보고 의무를 판단할 근거 조문을 찾지 못했습니다.' })));
  for (const n of j.notes || []) out.append(h('p', { class: 'fstatus', text: `※ ${n}` }));
}

async function submit(form, path, body, render) {
  const btn = form.querySelector('button[type=submit]');
  btn.disabled = true;
  setStatus($('#f-status'), '찾는 중…');
  try {
    const j = await api(path, { method: 'POST', body });
    setStatus($('#f-status'), '');
    render(j);
    $('#f-out').scrollIntoView({ block: 'start' });
  } catch (e) {
    setStatus($('#f-status'), e.message || '요청을 처리하지 못했습니다.', 'error');
  } finally {
    btn.disabled = false;
  }
}

function tab(which) {
  $('#tab-ask').setAttribute('aria-selected', String(which === 'ask'));
  $('#tab-report').setAttribute('aria-selected', String(which === 'report'));
  $('#f-ask').hidden = which !== 'ask';
  $('#f-report').hidden = which !== 'report';
  clear($('#f-out'));
}

window.addEventListener('DOMContentLoaded', () => {
  $('#f-login').addEventListener('submit', (e) => { e.preventDefault(); login($('#f-key').value.trim()); });
  $('#f-logout').addEventListener('click', () => { sessionStorage.removeItem(KEY_STORAGE); state.key = null; show(false); });
  $('#tab-ask').addEventListener('click', () => tab('ask'));
  $('#tab-report').addEventListener('click', () => tab('report'));
  $('#f-ask').addEventListener('submit', (e) => {
    e.preventDefault();
    submit(e.target, '/v1/field/answer', { question: $('#f-q').value.trim() }, renderAnswer);
  });
  $('#f-report').addEventListener('submit', (e) => {
    e.preventDefault();
    submit(e.target, '/v1/field/report', { description: $('#f-d').value.trim() }, renderReport);
  });
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) login(saved); else show(false);
});
