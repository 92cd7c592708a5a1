// End-to-end test of the 밀집위험 (crowd-risk) page in real headless Chromium.
//
// Usage: node tests/e2e/crowd.mjs CONFIG.json
// CONFIG: {url, key, place, artifacts, chromium?}
// Logs in on the page, checks the history/forecast/band/threshold/alert drawing at a laptop
// width (1280) and a phone width (360), takes screenshots, and prints one JSON line
// {ok, checks, screenshots, ...}; exit code 0 only when every check passed.

import { Run } from './lib.mjs';

const R = new Run('crowd', { fullPage: true });
const { cfg, base, origin, checks, screenshots, pageErrors, consoleErrors, externalRequests, check, shot } = R;

async function inspect(page) {
  return page.evaluate(() => {
    const q = (sel) => document.querySelectorAll(sel).length;
    const svgW = [...document.querySelectorAll('.chart svg')].map((s) => s.getBoundingClientRect().width);
    return {
      hist: q('#chart-daily path.hist'), fc: q('#chart-daily path.fc'), band80: q('#chart-daily polygon.band80'),
      band95: q('#chart-daily polygon.band95'), intradayLines: q('#chart-intraday path[class^="line-"]'),
      thresholds: q('#chart-intraday line.thr'), thresholdLabels: [...document.querySelectorAll('#chart-intraday text.thr-관심, #chart-intraday text.thr-주의')].map((t) => t.textContent),
      alerts: q('#crowd-alerts li[data-level]'), alertText: (document.querySelector('#crowd-alerts li') || {}).textContent || '',
      backtest: q('#chart-backtest path.fc'), backtestSummary: document.querySelector('#backtest-summary').textContent,
      tableRows: q('#forecast-table tbody tr'), svgW, scrollW: document.documentElement.scrollWidth,
      clientW: document.documentElement.clientWidth, title: document.querySelector('#crowd-title').textContent,
      place: document.querySelector('#crowd-place').value,
    };
  });
}

async function run(ctx) {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin) externalRequests.push(u);
  });

  R.step = 'login';
  await page.goto(`${base}/static/crowd.html`);
  await page.waitForSelector('#crowd-login:not([hidden])');
  await shot(page, 'crowd-01-login', false);
  await page.fill('#crowd-key', 'dsn_wrong_key_for_test');
  await page.press('#crowd-key', 'Enter');
  await page.waitForFunction(() => document.querySelector('#crowd-login-error').textContent.length > 0);
  check('wrong_key_refused', await page.isVisible('#crowd-login'), 'login form hidden after a wrong key');
  await page.fill('#crowd-key', cfg.key);
  await page.press('#crowd-key', 'Enter');
  await page.waitForSelector('#crowd-view:not([hidden])');
  await page.waitForSelector('#chart-daily svg');

  R.step = 'laptop';
  await page.selectOption('#crowd-place', cfg.place);
  await page.waitForFunction((p) => document.querySelector('#chart-daily svg title')?.textContent.includes(p), cfg.place);
  const a = await inspect(page);
  check('korean_title', /[가-힣]/.test(a.title), a.title);
  check('history_drawn', a.hist === 1, a);
  check('forecast_drawn', a.fc === 1, a);
  check('interval_bands_drawn', a.band80 === 1 && a.band95 === 1, a);
  check('forecast_table_rows', a.tableRows === cfg.horizon, a.tableRows);
  check('intraday_drawn', a.intradayLines >= 1, a);
  check('thresholds_drawn', a.thresholds >= 2 && a.thresholdLabels.length >= 1, a);
  check('alerts_listed', a.alerts >= 1 && /[가-힣]/.test(a.alertText), a.alertText);
  check('backtest_drawn', a.backtest === 1 && /MASE/.test(a.backtestSummary), a.backtestSummary);
  check('laptop_no_horizontal_scroll', a.scrollW <= a.clientW + 1, [a.scrollW, a.clientW]);
  await shot(page, 'crowd-02-laptop');
  // another forecast day in the intraday chart
  const days = await page.$$eval('#crowd-day option', (os) => os.map((o) => o.value));
  check('intraday_days', days.length === cfg.horizon, days);
  await page.selectOption('#crowd-day', days[days.length - 1]);
  await page.waitForFunction((d) => document.querySelector('#chart-intraday svg title')?.textContent.includes(d), days[days.length - 1]);
  await page.locator('#intraday-title').scrollIntoViewIfNeeded();
  await shot(page, 'crowd-03-laptop-intraday', false);

  R.step = 'phone';
  await page.setViewportSize({ width: 360, height: 780 });
  await page.waitForTimeout(400);
  const b = await inspect(page);
  check('phone_no_horizontal_scroll', b.scrollW <= b.clientW + 1, [b.scrollW, b.clientW]);
  check('phone_charts_fit', b.svgW.length >= 3 && b.svgW.every((w) => w > 250 && w <= 360), b.svgW);
  check('phone_still_drawn', b.hist === 1 && b.band80 === 1 && b.alerts >= 1, b);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'crowd-04-phone-top', false);
  await shot(page, 'crowd-05-phone-full');

  check('no_page_errors', pageErrors.length === 0, pageErrors);
  check('no_external_requests', externalRequests.length === 0, externalRequests);
}

await R.main({ viewport: { width: 1280, height: 860 } }, run);
