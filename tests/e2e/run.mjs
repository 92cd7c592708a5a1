// End-to-end test of the 다산 web interface in real headless Chromium (Debian's /usr/bin/chromium).
//
// Usage: node tests/e2e/run.mjs CONFIG.json
// CONFIG: {url, adminKey, userKey, hwpx, question, expect, secret: {title, marker, question, documentId,
//          chunkId, collection}, artifacts, chromium?}
// Prints one JSON line {ok, checks, screenshots, ...} on stdout; exit code 0 only when every check passed.
// Never lets Playwright fetch a browser of its own: the system Chromium is launched by path.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Run } from './lib.mjs';

const R = new Run('web');
const { cfg, base, origin, checks, screenshots, pageErrors, consoleErrors, externalRequests, check, shot } = R;
const timings = {};

const hangul = (s) => /[가-힣]/.test(s || '');
const isSecret = (chunkId) => (cfg.secret.chunkIds || [cfg.secret.chunkId]).includes(chunkId);

async function login(page, key) {
  await page.fill('#login-key', key);
  await page.press('#login-key', 'Enter'); // keyboard: Enter submits
  await page.waitForSelector('#nav:not([hidden])', { timeout: 20000 });
}

async function logout(page) {
  await page.click('#logout');
  await page.waitForSelector('#view-login:not([hidden])');
}

async function gotoView(page, name) {
  await page.click(`.nav-btn[data-view="${name}"]`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

async function askQuestion(page, question) {
  const before = await page.locator('.turn').count();
  await page.fill('#chat-input', question);
  await page.press('#chat-input', 'Enter');
  const turn = page.locator('.turn').nth(before);
  await turn.locator('.msg-bot[aria-busy="false"]').waitFor({ timeout: 180000 });
  return turn;
}

async function run(browserCtx) {
  const page = browserCtx.pages()[0] || (await browserCtx.newPage());
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin) externalRequests.push(u);
  });
  const sseTypes = [];
  page.on('response', (r) => {
    if (r.url().endsWith('/v1/chat/completions')) sseTypes.push(r.headers()['content-type'] || '');
  });

  // 1. Login page, a wrong key, then the admin's key (keyboard only).
  R.step = 'login';
  await page.goto(`${base}/`);
  await page.waitForSelector('#view-login:not([hidden])');
  check('login_page_korean', hangul(await page.textContent('#login-title')));
  check('html_lang_ko', (await page.getAttribute('html', 'lang')) === 'ko');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'login-key');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => ({
    id: document.activeElement && document.activeElement.id,
    outline: getComputedStyle(document.activeElement).outlineStyle,
  }));
  check('tab_order_key_then_button_with_visible_focus', focused.id === 'login-submit' && focused.outline !== 'none', focused);
  await page.fill('#login-key', 'dsn_this_key_does_not_exist_0000');
  await page.press('#login-key', 'Enter');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.trim().length > 0);
  const loginErr = await page.textContent('#login-error');
  check('wrong_key_korean_error', hangul(loginErr), loginErr);
  await shot(page, '01-login-error');
  await login(page, cfg.adminKey);
  check('admin_menu_visible_for_admin', await page.isVisible('#nav-admin'));
  check('key_in_session_storage', (await page.evaluate(() => sessionStorage.getItem('dasan.key'))) === cfg.adminKey);
  await shot(page, '02-chat-empty');

  // 2. Upload the HWPX file with a progress bar and per-file results.
  R.step = 'upload';
  let t = Date.now();
  await gotoView(page, 'upload');
  const hwpxName = path.basename(cfg.hwpx);
  await page.setInputFiles('#upload-files', [
    { name: hwpxName, mimeType: 'application/octet-stream', buffer: readFileSync(cfg.hwpx) },
    // A broken file beside it: it must fail alone, with a Korean message, without stopping the other.
    { name: '깨진파일.hwp', mimeType: 'application/octet-stream', buffer: Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600)]) },
  ]);
  await page.fill('#upload-collection', cfg.secret.collection);
  await page.selectOption('#upload-level', '공개');
  await page.click('#upload-submit');
  await page.waitForFunction(() => document.querySelector('#upload-status').textContent.includes('처리가 끝났습니다'),
    null, { timeout: 180000 });
  const items = await page.locator('.upload-item').evaluateAll((els) => els.map((e) => ({
    name: e.dataset.name, status: e.dataset.status, text: e.innerText })));
  const good = items.find((i) => i.name === hwpxName);
  const bad = items.find((i) => i.name === '깨진파일.hwp');
  check('upload_ingested', good && good.status === 'ingested', items);
  check('upload_result_shows_chunks', good && /청크 \d+개/.test(good.text), good);
  check('upload_bad_file_korean_error', bad && bad.status === 'failed' && hangul(bad.text.replace(bad.name, '')), bad);
  check('upload_progress_full', (await page.evaluate(() => document.querySelector('#upload-progress').value)) === 100);
  timings.upload_ms = Date.now() - t;
  await shot(page, '03-upload-done');

  // 2b. Drafting a press release from the prefilled example brief: preview, style check, HWPX link.
  R.step = 'press-draft';
  await gotoView(page, 'press');
  await page.click('#press-submit');
  await page.waitForFunction(() => !document.querySelector('#press-result').hidden
    || document.querySelector('#press-status').dataset.kind === 'error', null, { timeout: 60000 });
  const pressStatus = await page.textContent('#press-status');
  const preview = await page.evaluate(() => document.querySelector('#press-preview').srcdoc || '');
  const href = await page.getAttribute('#press-download', 'href');
  check('press_draft_made', pressStatus.includes('초안을 만들었습니다') && preview.includes('보도자료'), pressStatus);
  check('press_draft_download_link', Boolean(href) && href.startsWith('blob:'), href);
  check('press_draft_style_listed', (await page.locator('#press-style li').count()) >= 1);
  await shot(page, '03b-press-draft');

  // 3. The document browser (admin sees the public HWPX and the 민감 document).
  R.step = 'docs-admin';
  await gotoView(page, 'docs');
  await page.waitForSelector(`#collections-table tr[data-collection="${cfg.secret.collection}"]`);
  const adminRow = await page.textContent(`#collections-table tr[data-collection="${cfg.secret.collection}"]`);
  await page.waitForSelector(`#documents-table tr[data-document="${cfg.secret.documentId}"]`);
  const adminDocs = await page.locator('#documents-table tbody tr').count();
  check('admin_sees_secret_document', adminDocs >= 2 && (await page.textContent('#documents-table')).includes(cfg.secret.title),
    { adminDocs });
  await shot(page, '04-docs-admin');
  await page.click(`#documents-table tr[data-document="${cfg.secret.documentId}"] .link-btn`);
  await page.waitForSelector('#panel:not([hidden]) .chunk-list li');
  const docPanel = await page.textContent('#panel-body');
  check('document_panel_shows_chunks', docPanel.includes(cfg.secret.marker));
  check('markup_from_documents_shown_as_text', docPanel.includes(cfg.secret.xss)
    && (await page.locator('#panel-body img').count()) === 0
    && (await page.evaluate(() => window.__xss)) === undefined);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#panel', { state: 'hidden' });

  // 4. Ask a question the HWPX answers: streamed answer, [1] markers, citations.
  R.step = 'chat';
  t = Date.now();
  await gotoView(page, 'chat');
  const turn = await askQuestion(page, cfg.question);
  timings.answer_ms = Date.now() - t;
  check('chat_used_sse', sseTypes.some((c) => c.includes('text/event-stream')), sseTypes);
  const answer = await turn.locator('.answer-text').textContent();
  check('answer_contains_expected', answer.includes(cfg.expect), answer);
  check('answer_not_refused', (await turn.locator('.refusal').count()) === 0);
  const markers = turn.locator('.answer-text .marker');
  check('answer_has_clickable_markers', (await markers.count()) >= 1);
  const cites = await turn.locator('.citations li').allTextContents();
  check('citations_listed_with_title', cites.length >= 1 && cites.some((c) => c.includes(cfg.title)), cites);
  check('citation_shows_press_date', cites.some((c) => c.includes('보도일')), cites);
  await shot(page, '05-chat-answer');

  const controlTurn = await askQuestion(page, cfg.secret.question);
  const controlChunks = await controlTurn.locator('[data-chunk]').evaluateAll((els) => els.map((e) => e.dataset.chunk));
  check('admin_control_secret_question_cites_secret', controlChunks.some(isSecret), controlChunks);

  // 5. Click the [1] marker: side panel with the passage and the quote in <mark>.
  R.step = 'citation';
  await markers.first().click();
  await page.waitForSelector('#panel:not([hidden]) .passage');
  await page.waitForSelector('#panel .passage mark');
  const passage = await page.textContent('#panel .passage');
  const marks = await page.locator('#panel .passage mark').allTextContents();
  const markText = marks.join('');
  check('mark_text_in_passage', marks.length >= 1 && marks.every((m) => m.trim() && passage.includes(m)), marks);
  check('mark_contains_expected', markText.includes(cfg.expect), markText);
  const panelText = await page.textContent('#panel-body');
  check('panel_shows_citation', cites.some((c) => panelText.includes(c.replace(/^\[\d+\]\s*/, '').split('\n')[0].trim().slice(0, 20))),
    { panel: panelText.slice(0, 200) });
  check('panel_shows_title', panelText.includes(cfg.title));
  check('panel_close_button_focused', await page.evaluate(() => document.activeElement.id === 'panel-close'));
  await shot(page, '06-citation-panel');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#panel', { state: 'hidden' });
  check('esc_returns_focus_to_marker', await page.evaluate(() => document.activeElement.classList.contains('marker')));
  // The citation list button opens the same passage.
  await turn.locator('.cite-btn').first().click();
  await page.waitForSelector('#panel:not([hidden]) .passage mark');
  await page.click('#panel-close');

  // 6. Admin: add a user, create a key (shown once), revoke it.
  R.step = 'admin';
  await gotoView(page, 'admin');
  await page.waitForSelector('#users-table tbody tr');
  const dept = `안전관리과${Date.now().toString(36).slice(-4)}`;
  await page.fill('#department-name', dept);
  await page.press('#department-name', 'Enter');
  await page.waitForSelector(`#departments-table tr[data-department="${dept}"]`);
  check('admin_added_department', true);
  const uiUser = `ui_${Date.now().toString(36)}`;
  await page.fill('#user-name', uiUser);
  await page.selectOption('#user-clearance', '공개');
  await page.selectOption('#user-role', 'user');
  await page.check(`#user-departments input[value="${dept}"]`);
  await page.click('#user-form button[type="submit"]');
  await page.waitForSelector(`#users-table tr[data-user="${uiUser}"]`);
  const userRowText = await page.textContent(`#users-table tr[data-user="${uiUser}"]`);
  check('admin_added_user', userRowText.includes('공개') && userRowText.includes(dept), userRowText);
  await page.selectOption('#key-user', uiUser);
  await page.click('#key-form button[type="submit"]');
  await page.waitForSelector('#new-key:not([hidden])');
  const newKey = await page.inputValue('#new-key-value');
  check('admin_created_key_shown_once', newKey.startsWith('dsn_'), newKey.slice(0, 8));
  await shot(page, '07-admin-key-created');
  const keyRow = page.locator('#keys-table tbody tr', { hasText: uiUser }).first();
  await keyRow.locator('button').click();
  await keyRow.locator('button').click(); // second click confirms
  await page.waitForFunction((u) => [...document.querySelectorAll('#keys-table tbody tr')]
    .some((r) => r.textContent.includes(u) && r.dataset.status === 'revoked'), uiUser);
  check('admin_revoked_key', true);
  check('new_key_hidden_after_revoke', !(await page.isVisible('#new-key')));
  await shot(page, '08-admin-key-revoked');

  // 7. The revoked key can no longer log in.
  R.step = 'revoked-login';
  await logout(page);
  check('logout_clears_session', (await page.evaluate(() => sessionStorage.getItem('dasan.key'))) === null);
  await page.fill('#login-key', newKey);
  await page.press('#login-key', 'Enter');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('로그인하지 못했습니다'));
  check('revoked_key_rejected', await page.isVisible('#view-login'));

  // 8. A 공개 user: the 민감 document appears nowhere.
  R.step = 'public-user';
  await login(page, cfg.userKey);
  check('admin_menu_hidden_for_user', !(await page.isVisible('#nav-admin')));
  const leaks = [];
  // What only the 민감 document says (the user's own question and query are left out of the scan).
  const needles = [cfg.secret.title, cfg.secret.marker, ...(cfg.secret.facts || [])];
  const noSecret = async (where, selector) => {
    const text = await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((e) => e.innerText).join('\n'),
      selector);
    for (const needle of needles) if (text.includes(needle)) leaks.push({ where, needle });
  };
  await gotoView(page, 'docs');
  await page.waitForSelector(`#collections-table tr[data-collection="${cfg.secret.collection}"]`);
  await page.waitForFunction(() => /문서 \d+건/.test(document.querySelector('#docs-status').textContent));
  const userRow = await page.textContent(`#collections-table tr[data-collection="${cfg.secret.collection}"]`);
  const userCounts = await page.locator(`#collections-table tr[data-collection="${cfg.secret.collection}"] td.num`).allTextContents();
  check('user_collection_count_excludes_secret', userCounts[0] === '1', { userCounts, adminRow, userRow });
  check('user_document_list_excludes_secret',
    (await page.locator(`#documents-table tr[data-document="${cfg.secret.documentId}"]`).count()) === 0);
  await noSecret('docs', 'body');
  await shot(page, '09-docs-public-user');

  await gotoView(page, 'search');
  await page.fill('#search-query', cfg.secret.marker);
  await page.press('#search-query', 'Enter');
  await page.waitForFunction(() => /건을 찾았습니다|검색 결과가 없습니다/.test(document.querySelector('#search-status').textContent));
  const searchChunks = await page.locator('#search-results [data-chunk]').evaluateAll((els) => els.map((e) => e.dataset.chunk));
  check('search_excludes_secret', !searchChunks.some(isSecret), searchChunks);
  await noSecret('search', '#search-results, #search-status');
  await shot(page, '10-search-public-user');

  await gotoView(page, 'chat');
  const secretTurn = await askQuestion(page, cfg.secret.question);
  const secretChunks = await secretTurn.locator('[data-chunk]').evaluateAll((els) => els.map((e) => e.dataset.chunk));
  check('chat_excludes_secret', !secretChunks.some(isSecret), secretChunks);
  await noSecret('chat', '.msg-bot');
  const refused = (await secretTurn.locator('.refusal').count()) > 0;
  checks.secret_question_refused = refused;
  if (refused) {
    check('refusal_message_shown', (await secretTurn.locator('.refusal').textContent()).includes('제공된 문서에서 근거를 찾지 못했습니다'));
  }
  await shot(page, '11-chat-public-user');

  const direct = await page.evaluate(async ({ doc, chunk }) => {
    const key = sessionStorage.getItem('dasan.key');
    const get = async (u) => (await fetch(u, { headers: { Authorization: `Bearer ${key}` } })).status;
    return { doc: await get(`/v1/documents/${doc}`), chunk: await get(`/v1/chunks/${chunk}`),
      original: await get(`/v1/documents/${doc}/original`) };
  }, { doc: cfg.secret.documentId, chunk: cfg.secret.chunkId });
  check('direct_urls_404_for_user', direct.doc === 404 && direct.chunk === 404 && direct.original === 404, direct);
  check('secret_appears_nowhere', leaks.length === 0, leaks);

  // 9. Narrow screen (390 px): the same answer and its citation panel still usable.
  R.step = 'narrow';
  await page.setViewportSize({ width: 390, height: 844 });
  const narrowTurn = await askQuestion(page, cfg.question);
  await narrowTurn.scrollIntoViewIfNeeded();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check('narrow_no_horizontal_scroll', overflow <= 392, overflow);
  await shot(page, '12-narrow-chat');
  await narrowTurn.locator('.answer-text .marker').first().click();
  await page.waitForSelector('#panel:not([hidden]) .passage mark');
  const panelBox = await page.locator('#panel').boundingBox();
  check('narrow_panel_full_width', panelBox && panelBox.width >= 380, panelBox);
  await shot(page, '13-narrow-citation-panel');
  await page.keyboard.press('Escape');

  // Expected: 401 for the wrong and the revoked key, 404 for the 민감 document's direct URLs.
  check('only_expected_console_errors', consoleErrors.every((e) => /status of (401|404)/.test(e)), consoleErrors);
  check('no_script_injection', (await page.evaluate(() => window.__xss)) === undefined);
  check('no_page_errors', pageErrors.length === 0, pageErrors);
  check('no_external_requests', externalRequests.length === 0, externalRequests);
}

await R.main({ viewport: { width: 1280, height: 860 } }, run, () => ({ timings }));
