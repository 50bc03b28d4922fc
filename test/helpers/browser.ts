import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULT_UI_DIR } from '../../src/http/ui.ts';
import { engine } from './database.ts';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Debian's chromium (156); playwright-core 1.64 drives that major. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
export const SCREENSHOT_DIR = join(root, 'docs/screenshots');

let available: boolean | undefined;

/**
 * Whether browser tests can run here. In CI a missing Chromium (or an unbuilt UI) is an error,
 * not a skip: .ci/run installs it and `npm ci` builds the UI.
 */
export function chromiumAvailable(): boolean {
  if (available === undefined) {
    available = existsSync(CHROMIUM_PATH) && spawnSync(CHROMIUM_PATH, ['--version']).status === 0;
    if (!available && process.env.CI) {
      throw new Error(`Chromium not found at ${CHROMIUM_PATH}; .ci/run installs it`);
    }
  }
  if (available && !existsSync(join(DEFAULT_UI_DIR, 'index.html'))) {
    throw new Error(`The UI is not built (${DEFAULT_UI_DIR}): run \`npm run ui:build\``);
  }
  return available;
}

/**
 * Browser tests run in the pglite vitest project only: the page does not care which database
 * the portal uses, and the postgres project already runs every API test.
 */
export function browserTestsEnabled(): boolean {
  return engine === 'pglite' && chromiumAvailable();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** beforeAll/afterAll wiring: one Chromium per test file. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (browserTestsEnabled()) browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('browser not launched');
    return browser;
  };
}

/** What a page did that the portal's pages must never do. */
export interface PageGuard {
  /** Every request URL (HTTP, WebSocket), in order. */
  requests: string[];
  /** Requests to anywhere but the portal's origin (blob: and data: of the page are fine). */
  offOrigin(): string[];
  /** CSP violations reported by the page (securitypolicyviolation), as "directive blockedURI". */
  cspViolations: string[];
  /** console.error messages and uncaught page errors. */
  errors: string[];
  /** Throws unless no request left the origin and no CSP violation happened. */
  assertClean(options?: { allowErrors?: RegExp[] }): void;
}

/**
 * Records every request a page makes (off-origin ones are also aborted, so a test never reaches
 * out), its console errors and its CSP violations. Call before the first navigation.
 */
export async function guardPage(page: Page, origin: string): Promise<PageGuard> {
  const allowed = new URL(origin);
  const sameOrigin = (raw: string) => {
    if (raw.startsWith('data:') || raw === 'about:blank') return true;
    if (raw.startsWith('blob:')) return raw.startsWith(`blob:${allowed.origin}/`);
    try {
      const url = new URL(raw);
      const scheme =
        url.protocol === 'ws:' ? 'http:' : url.protocol === 'wss:' ? 'https:' : url.protocol;
      return scheme === allowed.protocol && url.host === allowed.host;
    } catch {
      return false;
    }
  };
  const requests: string[] = [];
  const cspViolations: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => {
    requests.push(request.url());
  });
  page.on('websocket', (ws) => {
    requests.push(ws.url());
  });
  await page.route(
    (url) => !sameOrigin(url.toString()),
    (route) => route.abort('blockedbyclient'),
  );
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => {
    errors.push(`pageerror: ${error.message}`);
  });
  await page.exposeFunction('__reportCspViolation', (text: string) => {
    cspViolations.push(text);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as unknown as { __reportCspViolation(t: string): void }).__reportCspViolation(
        `${event.effectiveDirective} ${event.blockedURI}`,
      );
    });
  });
  const offOrigin = () => requests.filter((url) => !sameOrigin(url));
  return {
    requests,
    cspViolations,
    errors,
    offOrigin,
    assertClean(options = {}) {
      const problems: string[] = [];
      for (const url of offOrigin()) problems.push(`request off the origin: ${url}`);
      for (const v of cspViolations) problems.push(`CSP violation: ${v}`);
      const cspErrors = errors.filter((e) => /Content Security Policy/i.test(e));
      for (const e of cspErrors) problems.push(`CSP console error: ${e}`);
      const allow = options.allowErrors;
      if (allow) {
        for (const e of errors) {
          if (cspErrors.includes(e) || allow.some((re) => re.test(e))) continue;
          problems.push(`console error: ${e}`);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('\n'));
    },
  };
}

/** A fresh context (cookies, storage) and page with the guard attached. */
export async function openPage(
  browser: Browser,
  origin: string,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page; guard: PageGuard }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const guard = await guardPage(page, origin);
  return { context, page, guard };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page and returns its serious and critical violations. The source goes in
 * through the DevTools protocol (page.evaluate): `page.addScriptTag` adds an inline <script>,
 * which the UI's CSP blocks, as it should (checked: "Executing inline script violates ...").
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(readFileSync(require.resolve('axe-core'), 'utf8'));
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<any> } }).axe;
    const result = await axe.run();
    return result.violations
      .filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: any) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n: any) => `${n.target.join(' ')}: ${n.failureSummary}`),
      }));
  });
}

/** Saves docs/screenshots/<name>.png when UI_SCREENSHOTS=1 (the README's pictures). */
export async function saveScreenshot(page: Page, name: string): Promise<string | null> {
  if (process.env.UI_SCREENSHOTS !== '1') return null;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
