// End-to-end test of the citizen page 청년 혜택 찾기 (/youth) in real headless Chromium at 360 px.
//
// Usage: node tests/e2e/youth.mjs CONFIG.json
// CONFIG: {url, artifacts, chromium?, date, sentence, xssName, secretName}
// No account: the page must work without any key. Prints one JSON line {ok, checks, screenshots, ...};
// exit code 0 only when every check passed. The system Chromium is launched by path.

import { Run } from './lib.mjs';

const R = new Run('youth', { fullPage: false });
const { cfg, base, origin, checks, screenshots, pageErrors, consoleErrors, externalRequests, check, shot } = R;
const apiCalls = [];

async function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

async function run(ctx) {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    if (new URL(u).origin !== origin) externalRequests.push(u);
    else if (u.includes('/v1/')) apiCalls.push({ url: u, auth: r.headers().authorization || null });
  });

  R.step = 'open';
  await page.goto(`${base}/youth`);
  await page.waitForSelector('#f-region optgroup', { state: 'attached' });
  check('title_korean', (await page.title()).includes('청년 혜택'));
  check('no_login_needed', (await page.locator('#login-key').count()) === 0);
  check('narrow_form_no_horizontal_scroll', await noHorizontalScroll(page));
  await shot(page, 'youth-01-start');

  R.step = 'sentence';
  await page.fill('#ask-text', cfg.sentence);
  await page.click('#ask-read');
  await page.waitForSelector('#understood:not([hidden])');
  check('parsed_region', (await page.inputValue('#f-region')) === '11620', await page.inputValue('#f-region'));
  check('parsed_age', (await page.inputValue('#f-age')) === '27', await page.inputValue('#f-age'));
  check('parsed_job', (await page.inputValue('#f-job')) === '미취업자');
  check('parsed_topic', (await page.inputValue('#f-category')) === '주거' && (await page.inputValue('#f-keywords')) === '월세');
  check('shows_what_was_understood', (await page.locator('#understood-list li').count()) >= 3);
  await shot(page, 'youth-02-understood');

  R.step = 'confirm-and-find';
  await page.fill('#f-date', cfg.date);
  await page.click('#find');
  await page.waitForSelector('#results:not([hidden])');
  const checkItems = page.locator('#check-list > li');
  check('needs_check_results', (await checkItems.count()) >= 1);
  check('needs_check_badges', (await page.locator('#check-list .y-badge').allTextContents()).every((t) => t === '확인 필요'));
  check('reasons_quote_policy', (await page.locator('#check-list .y-quote').count()) >= 1);
  check('asks_one_missing_fact', !(await page.locator('#ask-more').isHidden())
        && (await page.textContent('#ask-more-text')).includes('?'));
  check('narrow_results_no_horizontal_scroll', await noHorizontalScroll(page));
  await shot(page, 'youth-03-results-needs-check');
  await page.locator('#ask-more').scrollIntoViewIfNeeded();
  await shot(page, 'youth-04-ask-missing-fact');
  await page.click('#ask-more-go');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check('ask_moves_to_field', typeof focused === 'string' && focused.startsWith('f-'), focused);

  R.step = 'full-profile';
  await page.fill('#ask-text', '');
  await page.fill('#f-age', '');
  await page.fill('#f-birth', '1998-03-02');
  await page.selectOption('#f-school', '대학 졸업');
  await page.selectOption('#f-marital', '미혼');
  await page.fill('#f-income', '0');
  await page.selectOption('#f-category', '');
  await page.fill('#f-keywords', '면접');
  await page.click('#find');
  await page.waitForFunction(() => document.querySelectorAll('#eligible-list > li').length > 0);
  const okBadges = await page.locator('#eligible-list .y-badge').allTextContents();
  check('eligible_group_first', okBadges.length >= 1 && okBadges.every((t) => t === '대상'), okBadges);
  const order = await page.evaluate(() => {
    const a = document.getElementById('eligible-title');
    const b = document.getElementById('check-title');
    return Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  check('eligible_before_needs_check', order);
  const firstOk = page.locator('#eligible-list > li').first();
  check('eligible_has_reasons', (await firstOk.locator('.y-reason').count()) >= 1);
  const links = await page.locator('#eligible-list a.y-link').evaluateAll((as) => as.map((a) => [a.href, a.rel]));
  check('links_are_http_and_noopener', links.length >= 1 && links.every(([h, rel]) => /^https?:/.test(h) && rel.includes('noopener')), links);
  await firstOk.locator('details.y-more summary').click();
  check('narrow_eligible_no_horizontal_scroll', await noHorizontalScroll(page));
  await firstOk.scrollIntoViewIfNeeded();
  await shot(page, 'youth-05-eligible-card');
  await page.locator('#results').scrollIntoViewIfNeeded();
  await shot(page, 'youth-06-results-eligible');

  R.step = 'hostile-and-secret';
  const body = await page.textContent('body');
  check('xss_policy_shown_as_text', body.includes(cfg.xssName), cfg.xssName);
  check('no_script_injection', (await page.evaluate(() => window.__xss)) === undefined);
  check('secret_policy_absent', !body.includes(cfg.secretName));
  await page.click('#not-box summary');
  await shot(page, 'youth-07-not-eligible-list');
  await shot(page, 'youth-08-full-page', true);

  check('no_keys_sent', apiCalls.length >= 3 && apiCalls.every((c) => c.auth === null), apiCalls.slice(0, 3));
  check('no_page_errors', pageErrors.length === 0, pageErrors);
  check('no_console_errors', consoleErrors.length === 0, consoleErrors);
  check('no_external_requests', externalRequests.length === 0, externalRequests);
}

await R.main({ viewport: { width: 360, height: 760 }, isMobile: true, hasTouch: true }, run);
