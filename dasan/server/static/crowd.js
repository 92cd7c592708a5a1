/* 밀집위험 예측 화면: history, forecast bands, 30-minute crowding, thresholds, alerts, backtest.
 * Charts are SVG built here (no chart library, nothing from outside this server).
 * Server strings go into text nodes only. */

import { $, KEY_STORAGE, api, clear, h, setStatus, state } from './core.js';

const SVG = 'http://www.w3.org/2000/svg';
const LEVELS = ['관심', '주의', '경계', '심각'];
const view = { data: null, place: null, day: null };

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

const fmt = (v) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('ko-KR') : (Math.round(v * 10) / 10).toString());
/** Axis labels: 10,000 and up in 만 (200,000 -> 20만) so they fit a phone's width. */
const axisFmt = (v) => (Math.abs(v) >= 10000 ? `${Math.round(v / 1000) / 10}만` : fmt(v));
const dayMs = (d) => Date.parse(`${d}T00:00:00Z`);

function niceTicks(lo, hi, n) {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((m) => m >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(v);
  return out;
}

/** Draw a chart into `box`. x values are numbers; `xLabel(x)` names ticks. */
function drawChart(box, spec) {
  clear(box);
  const W = Math.max(300, Math.round(box.clientWidth || 800));
  const narrow = W < 520;
  const H = Math.round(Math.min(380, Math.max(240, W * 0.5)));
  const legendRows = [];
  {
    let lx = narrow ? 44 : 56; let row = 0;
    for (const item of spec.legend || []) {
      const w = 26 + item.label.length * (narrow ? 13 : 11);
      if (lx + w > W - 8 && lx > 60) { row += 1; lx = narrow ? 44 : 56; }
      legendRows.push({ ...item, x: lx, row });
      lx += w;
    }
  }
  const rows = legendRows.length ? legendRows[legendRows.length - 1].row + 1 : 0;
  const m = { l: narrow ? 44 : 56, r: 12, t: 10 + rows * 18, b: 34 };
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': spec.label });
  svg.append(s('title', {}, spec.label));
  const xs = []; const ys = [];
  for (const ser of spec.series || []) for (const [x, y] of ser.points) { xs.push(x); ys.push(y); }
  for (const b of spec.bands || []) for (const [x, lo, hi] of b.points) { xs.push(x); ys.push(lo, hi); }
  for (const t of spec.hlines || []) ys.push(t.y);
  if (!xs.length) { box.append(h('p', { class: 'muted' }, '그릴 자료가 없습니다.')); return; }
  const x0 = Math.min(...xs); const x1 = Math.max(...xs);
  let y0 = Math.min(...ys); let y1 = Math.max(...ys);
  if (spec.zero) y0 = Math.min(0, y0);
  const pad = (y1 - y0) * 0.06 || 1; y0 -= spec.zero ? 0 : pad; y1 += pad;
  const X = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const Y = (y) => H - m.b - ((y - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  for (const t of niceTicks(y0, y1, narrow ? 4 : 6)) {
    svg.append(s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: Y(t), y2: Y(t) }));
    svg.append(s('text', { class: 'tick', x: m.l - 6, y: Y(t) + 4, 'text-anchor': 'end' }, spec.yfmt ? spec.yfmt(t) : axisFmt(t)));
  }
  const nx = narrow ? 3 : 6;
  const xt = spec.xTicks ? spec.xTicks(narrow).filter((x) => x >= x0 && x <= x1)
    : Array.from({ length: nx + 1 }, (_, i) => x0 + ((x1 - x0) * i) / nx);
  xt.forEach((x, i) => {
    const anchor = X(x) - m.l < 20 ? 'start' : W - m.r - X(x) < 20 ? 'end' : 'middle';
    svg.append(s('text', { class: 'tick', x: X(x), y: H - m.b + 16, 'text-anchor': anchor }, spec.xLabel(x, i)));
  });
  svg.append(s('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  svg.append(s('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
  for (const b of spec.bands || []) {
    if (!b.points.length) continue;
    const top = b.points.map(([x, , hi]) => `${X(x).toFixed(1)},${Y(hi).toFixed(1)}`);
    const bot = b.points.slice().reverse().map(([x, lo]) => `${X(x).toFixed(1)},${Y(lo).toFixed(1)}`);
    svg.append(s('polygon', { class: b.cls, points: [...top, ...bot].join(' ') }));
  }
  for (const t of spec.hlines || []) {
    svg.append(s('line', { class: `thr thr-${t.level}`, x1: m.l, x2: W - m.r, y1: Y(t.y), y2: Y(t.y) }));
    svg.append(s('text', { class: `tick thr-${t.level}`, x: W - m.r - 2, y: Y(t.y) - 3, 'text-anchor': 'end' }, t.label));
  }
  if (spec.now !== undefined) svg.append(s('line', { class: 'now', x1: X(spec.now), x2: X(spec.now), y1: m.t, y2: H - m.b }));
  for (const ser of spec.series || []) {
    if (!ser.points.length) continue;
    const d = ser.points.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('');
    svg.append(s('path', { class: ser.cls, d }));
  }
  for (const item of legendRows) {
    svg.append(s('rect', { x: item.x, y: 4 + item.row * 18, width: 14, height: 10, class: item.cls }));
    svg.append(s('text', { class: 'legend', x: item.x + 18, y: 13 + item.row * 18 }, item.label));
  }
  box.append(svg);
}

const dateLabel = (ms) => { const d = new Date(ms); return `${d.getUTCMonth() + 1}/${d.getUTCDate()}`; };

function drawDaily() {
  const p = view.data.place[view.place];
  const fc = p.forecast;
  const hist = p.history.slice(-56).map((r) => [dayMs(r.date), r.value]); // 8 weeks: the 14 forecast days stay readable
  const last = hist.length ? hist[hist.length - 1] : null;
  const days = fc.days;
  const fcLine = (last ? [last] : []).concat(days.map((d) => [dayMs(d.date), d.value]));
  const band = (lo, hi) => days.filter((d) => d[lo] !== null && d[hi] !== null).map((d) => [dayMs(d.date), d[lo], d[hi]]);
  const th = p.thresholds;
  let hlines = [];
  if (th && th.kind === 'daily') {
    hlines = LEVELS.filter((l) => l in th.levels).map((l) => ({ level: l, y: th.levels[l], label: `${l} ${fmt(th.levels[l])}` }));
  } else if (th && th.kind === 'area' && th.area_m2) { // persons/m² bands as persons over the walkable area
    hlines = LEVELS.filter((l) => l in th.levels)
      .map((l) => ({ level: l, y: th.levels[l] * th.area_m2, label: `${l} ${th.levels[l]}명/㎡` }));
  }
  drawChart($('#chart-daily'), {
    label: `${view.place} 일별 기록과 ${days.length}일 예측 (${fc.unit})`,
    series: [{ cls: 'hist', points: hist }, { cls: 'fc', points: fcLine }],
    bands: [{ cls: 'band95', points: band('lo95', 'hi95') }, { cls: 'band80', points: band('lo80', 'hi80') }],
    hlines, now: last ? last[0] : undefined, xLabel: dateLabel,
    legend: [{ cls: 'line-0', label: '기록' }, { cls: 'thr-심각', label: '예측' }, { cls: 'band80', label: '80%' },
      { cls: 'band95', label: '95%' }],
  });
  $('#daily-caption').textContent = `단위: ${fc.unit || '—'} · 기준일 ${fc.origin} · 점선 세로줄: 마지막 기록일`;
  const tb = clear($('#forecast-table tbody'));
  for (const d of days) {
    const iv = (lo, hi) => (lo === null || hi === null ? '구간 없음' : `${fmt(lo)} ~ ${fmt(hi)}`);
    tb.append(h('tr', {}, h('td', {}, d.date), h('td', {}, fmt(d.value)), h('td', {}, iv(d.lo80, d.hi80)),
      h('td', {}, iv(d.lo95, d.hi95)), h('td', {}, d.effects.join(', '))));
  }
}

function slotX(t) { const [hh, mm] = t.split(':').map(Number); return (hh < 5 ? hh + 24 : hh) * 60 + mm; }
const slotLabel = (x) => { const hh = Math.floor(x / 60) % 24; const mm = Math.round(x % 60); return `${hh}:${String(mm).padStart(2, '0')}`; };

function drawIntraday() {
  const p = view.data.place[view.place];
  const rows = p.intraday.filter((r) => r.date === view.day);
  const box = $('#chart-intraday');
  if (!rows.length) {
    clear(box).append(h('p', { class: 'muted' }, '이 장소에는 30분 단위 혼잡도 프로필이 없습니다 (혼잡도 표를 넣으면 보입니다).'));
    $('#intraday-caption').textContent = '';
    return;
  }
  const th = p.thresholds;
  const hlines = th && th.kind === 'train' ? LEVELS.filter((l) => l in th.levels)
    .map((l) => ({ level: l, y: th.levels[l], label: `${l} ${th.levels[l]}%` })) : [];
  const series = rows.map((r, i) => ({ cls: `line-${i % 4}`, points: r.slots.map((x) => [slotX(x.time), x.value]) }));
  const bands = rows.map((r) => ({ cls: 'band80', points: r.slots.filter((x) => x.lo80 !== null && x.hi80 !== null).map((x) => [slotX(x.time), x.lo80, x.hi80]) }));
  drawChart(box, {
    label: `${view.place} ${view.day} 30분 단위 혼잡도 예측 (%)`, series, bands, hlines, zero: true,
    xLabel: slotLabel, yfmt: (v) => `${Math.round(v)}%`,
    xTicks: (narrow) => (narrow ? [6, 12, 18, 24] : [6, 9, 12, 15, 18, 21, 24]).map((hh) => hh * 60),
    legend: rows.map((r, i) => ({ cls: `line-${i % 4}`, label: `${r.line} ${r.direction}` })),
  });
  $('#intraday-caption').textContent = `${rows[0].day_type} 프로필(2023 서울교통공사 혼잡도) × 일별 예측 비율 ${rows[0].scale} · 띠: 80% 예측구간 · 가로 점선: 위험 단계 기준`;
}

function drawBacktest() {
  const bt = view.data.backtest;
  const box = $('#chart-backtest');
  if (!bt) {
    $('#backtest-summary').textContent = '저장된 백테스트가 없습니다. dasan crowd backtest --history 파일 로 만드세요.';
    clear(box);
    return;
  }
  const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
  const m = bt.per_place && bt.per_place[view.place];
  $('#backtest-summary').textContent = `${bt.window.from} ~ ${bt.window.to}, 1–${bt.horizon}일 앞 예측 ${bt.n.toLocaleString('ko-KR')}개: `
    + `MASE ${bt.mase.toFixed(3)} (계절 단순예측 ${bt.seasonal_naive_mase.toFixed(3)}), 구간 포함률 80% ${pct(bt.coverage_80)}, 95% ${pct(bt.coverage_95)}`
    + (m && m.n ? ` · ${view.place}: MASE ${m.mase.toFixed(3)} / ${m.seasonal_naive_mase.toFixed(3)}` : '');
  const rows = (bt.plot && bt.plot[view.place] && bt.plot[view.place]['7']) || [];
  drawChart(box, {
    label: `${view.place} 백테스트: 7일 앞 예측과 실제, 계절 단순예측`,
    series: [{ cls: 'hist', points: rows.map((r) => [dayMs(r[0]), r[1]]) },
      { cls: 'fc', points: rows.map((r) => [dayMs(r[0]), r[2]]) },
      { cls: 'naive', points: rows.map((r) => [dayMs(r[0]), r[5]]) }],
    bands: [{ cls: 'band80', points: rows.map((r) => [dayMs(r[0]), r[3], r[4]]) }],
    xLabel: dateLabel,
    legend: [{ cls: 'line-0', label: '실제' }, { cls: 'thr-심각', label: '7일 앞 예측' }, { cls: 'band80', label: '80%' },
      { cls: 'legend-naive', label: '단순예측' }],
  });
  $('#backtest-caption').textContent = '파란 선: 실제, 빨간 선: 7일 앞 예측(띠: 80% 구간), 회색 점선: 지난주 같은 요일';
}

function drawAlerts() {
  const p = view.data.place[view.place];
  const ul = clear($('#crowd-alerts'));
  const alerts = p.alerts || [];
  $('#alerts-count').textContent = `(${alerts.length}건)`;
  if (!alerts.length) ul.append(h('li', { class: 'muted' }, '현재 경보가 없습니다.'));
  const item = (a) => h('li', { dataset: { level: a.level } }, h('span', { class: 'level-badge' }, a.level), a.explanation);
  const order = { 심각: 0, 경계: 1, 주의: 2, 관심: 3, 이상: 4 };
  const sorted = alerts.slice().sort((x, y) => (order[x.level] ?? 9) - (order[y.level] ?? 9) || (x.target < y.target ? -1 : 1));
  for (const a of sorted.slice(0, 4)) ul.append(item(a));
  if (sorted.length > 4) {
    const more = h('ul', { class: 'crowd-alerts' }, sorted.slice(4).map(item));
    ul.append(h('li', { class: 'more' }, h('details', {}, h('summary', {}, `경보 ${sorted.length - 4}건 더 보기`), more)));
  }
}

function render() {
  const p = view.data.place[view.place];
  const days = [...new Set(p.intraday.map((r) => r.date))];
  const sel = clear($('#crowd-day'));
  for (const d of days) sel.append(h('option', { value: d }, d));
  if (!days.includes(view.day)) view.day = days[0] || null;
  if (view.day) sel.value = view.day;
  drawAlerts(); drawDaily(); drawIntraday(); drawBacktest();
}

async function loadPlace(place) {
  view.place = place;
  view.data = await api(`/v1/crowd/dashboard?place=${encodeURIComponent(place)}`);
  render();
}

async function start() {
  setStatus($('#crowd-status'), '불러오는 중…');
  let all;
  try {
    all = await api('/v1/crowd/dashboard');
  } catch (e) {
    if (e.status === 401) { showLogin(e.message); return; }
    setStatus($('#crowd-status'), e.message, 'error');
    return;
  }
  $('#crowd-login').hidden = true;
  $('#crowd-view').hidden = false;
  if (!all.places.length) {
    setStatus($('#crowd-status'), '예측이 없습니다. 서버에서 dasan crowd ingest 와 dasan crowd forecast 를 먼저 실행하세요.');
    return;
  }
  $('#crowd-created').textContent = `예측 시각 ${all.created || '—'} (UTC)`;
  const sel = clear($('#crowd-place'));
  for (const p of all.places) sel.append(h('option', { value: p }, p));
  const want = decodeURIComponent((location.hash || '').slice(1));
  const place = all.places.includes(want) ? want : all.places[0];
  sel.value = place;
  view.data = all; view.place = place;
  render();
  setStatus($('#crowd-status'), '');
}

function showLogin(message) {
  $('#crowd-view').hidden = true;
  $('#crowd-login').hidden = false;
  setStatus($('#crowd-login-error'), message || '', 'error');
  $('#crowd-key').focus();
}

function init() {
  state.key = sessionStorage.getItem(KEY_STORAGE);
  $('#crowd-login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = $('#crowd-key').value.trim();
    try {
      await api('/v1/login', { method: 'POST', body: { key }, auth: false });
    } catch (e) { setStatus($('#crowd-login-error'), e.message, 'error'); return; }
    state.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('#crowd-key').value = '';
    start();
  });
  $('#crowd-place').addEventListener('change', (ev) => {
    history.replaceState(null, '', `#${encodeURIComponent(ev.target.value)}`);
    loadPlace(ev.target.value).catch((e) => setStatus($('#crowd-status'), e.message, 'error'));
  });
  $('#crowd-day').addEventListener('change', (ev) => { view.day = ev.target.value; drawIntraday(); });
  let t = null;
  window.addEventListener('resize', () => { clearTimeout(t); t = setTimeout(() => { if (view.data) render(); }, 150); });
  if (state.key) start(); else showLogin('');
}

init();
