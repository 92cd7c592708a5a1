// The field workers' phone page (/field) in real headless Chromium at 360 × 740.
//
// Usage: node tests/e2e/field.mjs CONFIG.json
// CONFIG: {url, key, chromium, artifacts, question, offTopic, report}
// Prints one JSON line {ok, checks, screenshots, error, …}; exit code 0 only when every check passed.

import { Run } from './lib.mjs';

const R = new Run('field', { fullPage: true });
const { cfg, check, shot } = R;

async function test(context) {
  const page = R.watch(context.pages()[0] || await context.newPage());
  R.step = 'login';
  await page.goto(`${R.base}/field`);
  await page.waitForSelector('#f-login:not([hidden])');
  await shot(page, 'field-01-login-360');
  await page.fill('#f-key', cfg.key);
  await page.tap('#f-login button[type=submit]');
  await page.waitForSelector('#f-app:not([hidden])');

  R.step = 'answer'; // the question, answered in three cards
  await page.fill('#f-q', cfg.question);
  await page.tap('#f-ask-btn');
  await page.waitForSelector('.fout .part', { timeout: 60000 });
  const cards = await page.$$eval('.fout .part h2', (els) => els.map((e) => e.textContent));
  check('three_cards_in_order', JSON.stringify(cards) === JSON.stringify(['지금 할 일', '법적 의무', '과거 사례']), cards);
  const steps = await page.$$eval('.fout .part.now li', (els) => els.map((e) => e.textContent));
  check('steps_listed', steps.length >= 3, steps);
  const lead = await page.textContent('.fout .lead');
  check('first_step_first', lead.startsWith('먼저:'), lead);
  const lawText = await page.textContent('.fout .part.law');
  check('law_cites_article_and_date', /철도안전법 제61조/.test(lawText) && /시행 20\d\d-/.test(lawText), lawText);
  const pastText = await page.textContent('.fout .part.past');
  check('past_records_shown', /화재/.test(pastText), pastText);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check('no_horizontal_scroll_360', wide <= 360, wide);
  const btn = await page.$eval('#f-ask-btn', (b) => { const r = b.getBoundingClientRect(); return [r.width, r.height]; });
  check('thumb_sized_button', btn[0] >= 0.8 * 360 && btn[1] >= 48, btn); // nearly full width, ≥ 48 px tall
  const font = await page.$eval('.fout li', (e) => parseFloat(getComputedStyle(e).fontSize));
  check('large_text', font >= 17, font);
  await shot(page, 'field-02-answer-360');

  R.step = 'refusal'; // a question no document supports: said, not invented
  await page.fill('#f-q', cfg.offTopic);
  await page.tap('#f-ask-btn');
  await page.waitForSelector('.fout .refused', { timeout: 60000 });
  const refused = await page.textContent('.fout .refused');
  check('off_topic_refused', /근거 없이/.test(refused), refused);
  check('no_cards_when_refused', (await page.$$('.fout .part')).length === 0);
  await shot(page, 'field-03-refused-360');

  R.step = 'report'; // the report draft
  await page.tap('#tab-report');
  await page.fill('#f-d', cfg.report);
  await page.tap('#f-report button[type=submit]');
  await page.waitForSelector('.fout .kv', { timeout: 60000 });
  const kv = await page.$$eval('.fout .kv dt', (els) => els.map((e) => e.textContent));
  check('draft_has_register_columns', kv.includes('발생일시') && kv.includes('사고유형'), kv);
  const reports = await page.textContent('.fout .part.law');
  check('draft_has_deadline', /기한:/.test(reports) && /즉시/.test(reports), reports);
  check('no_horizontal_scroll_report', (await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
  await shot(page, 'field-04-report-360');
  check('no_page_errors', R.pageErrors.length === 0, R.pageErrors);
  check('no_external_requests', R.externalRequests.length === 0, R.externalRequests);
}

await R.main({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, test);
