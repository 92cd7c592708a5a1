// 청년 혜택 찾기 (citizen page): no account, only 공개 policies. Everything is written with
// textContent (never innerHTML); links only to http(s) addresses.

const $ = (id) => document.getElementById(id);
const FIELD_INPUT = {
  birth_date: 'f-birth', region: 'f-region', job: 'f-job', school: 'f-school', marital: 'f-marital',
  income: 'f-income', median_income_pct: 'f-median', residence_months: 'f-residence', homeless: 'f-homeless',
  major: 'f-major', special: 'f-special-first',
};
let lastAsk = null;
let parsedBirthYear = null; // "98년생": kept until a birth date or an age is entered
let parsedSido = null; // "광주 사는": the 시도 only, until a 시군구 is chosen

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

async function post(url, body) {
  const r = await fetch(url, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((data.error && data.error.message) || `요청이 실패했습니다 (${r.status}).`);
  return data;
}

function showError(msg) {
  const e = $('error');
  e.textContent = msg || '';
  e.hidden = !msg;
}

async function loadRegions() {
  const r = await fetch('/v1/youth/regions');
  const data = await r.json();
  const sel = $('f-region');
  const groups = new Map();
  for (const g of data.regions) {
    if (!groups.has(g.sido)) {
      const og = document.createElement('optgroup');
      og.label = g.sido;
      groups.set(g.sido, og);
      sel.appendChild(og);
    }
    const o = el('option', null, g.name === g.sido ? g.sido : g.name);
    o.value = g.code;
    groups.get(g.sido).appendChild(o);
  }
}

function setField(id, value) {
  const f = $(id);
  if (!f || value === undefined || value === null) return;
  f.value = String(value);
}

async function readSentence(ev) {
  ev.preventDefault();
  showError('');
  const text = $('ask-text').value.trim();
  if (!text) { showError('문장을 적어 주세요.'); return; }
  try {
    const p = await post('/v1/youth/parse', { text });
    const prof = p.profile || {};
    setField('f-age', prof.age);
    parsedBirthYear = prof.birth_year || null;
    parsedSido = prof.sido_code || null;
    setField('f-job', prof.job);
    setField('f-school', prof.school);
    setField('f-marital', prof.marital);
    setField('f-income', prof.income_manwon);
    if (prof.homeless === true) setField('f-homeless', 'true');
    if (prof.sigungu_code) setField('f-region', prof.sigungu_code);
    setField('f-category', (p.query && p.query.category) || '');
    setField('f-keywords', ((p.query && p.query.keywords) || []).join(', '));
    const list = $('understood-list');
    list.replaceChildren();
    for (const line of p.read || []) list.appendChild(el('li', null, line));
    const cands = (p.candidates && p.candidates.region) || [];
    if (cands.length) list.appendChild(el('li', 'y-warn', `사는 곳이 여러 곳일 수 있습니다: ${cands.slice(0, 6).map((c) => c.name).join(', ')} — 아래에서 골라 주세요.`));
    if (!(p.read || []).length) list.appendChild(el('li', null, '문장에서 읽은 조건이 없습니다. 아래 칸을 채워 주세요.'));
    $('understood').hidden = false;
    $('profile-form').scrollIntoView({ block: 'start' });
  } catch (e) {
    showError(e.message);
  }
}

function profileFromForm() {
  const f = new FormData($('profile-form'));
  const num = (k) => (f.get(k) === '' || f.get(k) === null ? null : Number(f.get(k)));
  const str = (k) => (f.get(k) ? String(f.get(k)) : null);
  const profile = {
    birth_date: str('birth_date'), age: num('age'), sigungu_code: str('sigungu_code'), job: str('job'),
    school: str('school'), marital: str('marital'), income_manwon: num('income_manwon'),
    median_income_pct: num('median_income_pct'), residence_months: num('residence_months'),
    homeless: f.get('homeless') === '' ? null : f.get('homeless') === 'true',
  };
  const special = f.getAll('special').map(String);
  if (special.includes('none')) profile.special = [];
  else if (special.length) profile.special = special;
  profile.major = str('major');
  for (const k of Object.keys(profile)) if (profile[k] === null) delete profile[k];
  if (profile.birth_date) delete profile.age;
  if (!profile.birth_date && profile.age === undefined && parsedBirthYear) profile.birth_year = parsedBirthYear;
  if (!profile.sigungu_code && parsedSido) profile.sido_code = parsedSido;
  const keywords = String(f.get('keywords') || '').split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean).slice(0, 5);
  return { profile, category: str('category'), keywords, reference_date: str('reference_date') };
}

function safeUrl(u) {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch { return null; }
}

function card(r) {
  const li = el('li', `y-item y-${r.status === '대상' ? 'ok' : 'check'}`);
  li.dataset.plcyNo = r.plcyNo;
  const head = el('div', 'y-item-head');
  head.appendChild(el('span', `y-badge y-badge-${r.status === '대상' ? 'ok' : 'check'}`, r.status));
  head.appendChild(el('h3', 'y-item-name', r.name));
  li.appendChild(head);
  if (r.window && r.window.text) {
    li.appendChild(el('p', `y-window y-window-${r.window.state === '마감' ? 'closed' : 'open'}`, `신청: ${r.window.text}`));
  }
  if (r.institution) li.appendChild(el('p', 'y-inst', r.institution));
  const reasons = el('ul', 'y-reasons');
  for (const c of r.reasons || []) {
    if (r.status === '대상' && /제한없음|제한 없음|무관/.test(c.quote || '')) continue;
    const item = el('li', `y-reason y-reason-${c.outcome === '충족' ? 'met' : 'check'}`);
    item.appendChild(el('strong', null, `${c.condition}: `));
    item.appendChild(document.createTextNode(c.reason));
    if (c.quote) item.appendChild(el('q', 'y-quote', c.quote));
    if (c.law) item.appendChild(el('span', 'y-law', ` (${c.law})`));
    reasons.appendChild(item);
  }
  li.appendChild(reasons);
  const more = el('details', 'y-more');
  more.appendChild(el('summary', null, '준비 서류와 신청 방법'));
  if (r.documents) { more.appendChild(el('h4', null, '준비 서류')); more.appendChild(el('p', 'y-pre', r.documents)); }
  if (r.apply_method) { more.appendChild(el('h4', null, '신청 방법')); more.appendChild(el('p', 'y-pre', r.apply_method)); }
  li.appendChild(more);
  const href = safeUrl(r.url || '');
  if (href) {
    const a = el('a', 'y-link', '신청·안내 페이지 열기');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    li.appendChild(a);
  }
  return li;
}

function render(data) {
  const ok = data.results.filter((r) => r.status === '대상');
  const check = data.results.filter((r) => r.status === '확인 필요');
  $('eligible-list').replaceChildren(...ok.map(card));
  $('check-list').replaceChildren(...check.map(card));
  $('eligible-count').textContent = `${data.counts['대상']}건`;
  $('check-count').textContent = `${data.counts['확인 필요']}건`;
  $('eligible-none').hidden = ok.length > 0;
  $('not-count').textContent = `${data.counts['비대상']}건`;
  const notList = $('not-list');
  notList.replaceChildren();
  for (const r of data.not_eligible || []) {
    const li = el('li', null, `${r.name} — `);
    const why = (r.reasons || [])[0];
    if (why) li.appendChild(el('span', 'y-why', `${why.condition}: ${why.reason}`));
    notList.appendChild(li);
  }
  lastAsk = data.ask;
  if (data.ask) {
    $('ask-more-text').textContent = `${data.ask.question} (확인이 필요한 정책 ${data.ask.affects}건에 필요합니다)`;
    $('ask-more').hidden = false;
  } else {
    $('ask-more').hidden = true;
  }
  $('results').hidden = false;
  $('status').textContent = `살펴본 정책 ${data.considered}건: 받을 수 있어요 ${data.counts['대상']}건, 확인이 필요해요 ${data.counts['확인 필요']}건.`;
}

async function find(ev) {
  ev.preventDefault();
  showError('');
  const body = profileFromForm();
  if (!body.category) delete body.category;
  if (!body.reference_date) delete body.reference_date;
  body.limit = 40;
  $('status').textContent = '찾는 중입니다…';
  $('find').disabled = true;
  try {
    render(await post('/v1/youth/recommend', body));
    $('results').scrollIntoView({ block: 'start' });
  } catch (e) {
    $('status').textContent = '';
    showError(e.message);
  } finally {
    $('find').disabled = false;
  }
}

function goToAsk() {
  if (!lastAsk) return;
  const target = $(FIELD_INPUT[lastAsk.fact] || '');
  if (target) { target.scrollIntoView({ block: 'center' }); target.focus(); }
}

document.addEventListener('DOMContentLoaded', () => {
  $('ask-form').addEventListener('submit', readSentence);
  $('profile-form').addEventListener('submit', find);
  $('ask-more-go').addEventListener('click', goToAsk);
  loadRegions().catch(() => showError('시군구 목록을 불러오지 못했습니다. 새로 고침해 주세요.'));
});
