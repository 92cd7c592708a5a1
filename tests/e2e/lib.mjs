// What the browser tests share: the run's record (checks, screenshots, page and console errors,
// requests that leave the server), and launching Debian's Chromium by path in a throwaway
// profile (never a browser a tool downloads), running the test, and printing its one JSON line
// {ok, error, step, checks, screenshots, seconds, page_errors, console_errors, external_requests, …}
// with exit code 0 only when every check passed.

import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export class Run {
  constructor(name, { fullPage = false } = {}) {
    this.name = name;
    this.cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
    this.base = this.cfg.url.replace(/\/$/, '');
    this.origin = new URL(this.base).origin;
    mkdirSync(this.cfg.artifacts, { recursive: true });
    this.fullPage = fullPage;
    this.checks = {};
    this.screenshots = [];
    this.pageErrors = [];
    this.consoleErrors = [];
    this.externalRequests = [];
    this.step = 'start';
    this.t0 = Date.now();
    this.check = this.check.bind(this);
    this.shot = this.shot.bind(this);
  }

  check(name, cond, detail) {
    this.checks[name] = cond ? true : `실패: ${JSON.stringify(detail ?? null).slice(0, 400)}`;
    if (!cond) throw new Error(`${name}: ${JSON.stringify(detail ?? null).slice(0, 400)}`);
  }

  async shot(page, name, fullPage = this.fullPage) {
    const file = path.join(this.cfg.artifacts, `${name}.png`);
    await page.screenshot({ path: file, fullPage });
    this.screenshots.push(file);
  }

  /** Record a page's errors, console errors and every request that does not go to the server. */
  watch(page) {
    page.on('pageerror', (e) => this.pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') this.consoleErrors.push(m.text()); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(this.origin) && !u.startsWith('data:') && !u.startsWith('blob:')) this.externalRequests.push(u);
    });
    return page;
  }

  /** Launch Chromium with ``contextOptions`` (viewport …), run ``test(context)``, print the result. */
  async main(contextOptions, test, extra = () => ({})) {
    const profile = mkdtempSync(path.join(tmpdir(), `dasan-${this.name}-e2e-`));
    let ok = false;
    let error = null;
    let ctx = null;
    try {
      ctx = await chromium.launchPersistentContext(profile, {
        executablePath: this.cfg.chromium || '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        locale: 'ko-KR',
        timeout: 60000,
        ...contextOptions,
      });
      await test(ctx);
      ok = true;
    } catch (e) {
      error = `${this.step}: ${e && e.message ? e.message : String(e)}`;
      try {
        const page = ctx && ctx.pages()[0];
        if (page) await this.shot(page, `${this.name}-failure-${this.step}`);
      } catch { /* best effort */ }
    } finally {
      if (ctx) await ctx.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    }
    console.log(JSON.stringify({
      ok, error, step: this.step, checks: this.checks, screenshots: this.screenshots,
      seconds: (Date.now() - this.t0) / 1000, page_errors: this.pageErrors,
      console_errors: this.consoleErrors.slice(0, 20), external_requests: this.externalRequests, ...extra(),
    }));
    process.exit(ok ? 0 : 1);
  }
}
