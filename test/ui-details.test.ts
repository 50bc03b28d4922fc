import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { browserTestsEnabled, openPage, useBrowser } from './helpers/browser.ts';
import { EXPECTED_ERRORS, signUpThroughUi, uniqueUiEmail } from './helpers/ui.ts';

/**
 * What the journey test does not reach: the region picker (two regions configured), copying
 * where the Clipboard API is missing, and New Tenant from the keyboard alone.
 */
const enabled = browserTestsEnabled();
const cellsFile = join(mkdtempSync(join(tmpdir(), 'cells-')), 'cells.json');
writeFileSync(
  cellsFile,
  JSON.stringify([
    {
      region: 'eu-west-1',
      cell: 'euw1-01',
      metricsHost: 'euw1-01.m.example',
      logsHost: 'euw1-01.l.example',
      tracesHost: 'euw1-01.t.example',
    },
    {
      region: 'us-east-1',
      cell: 'use1-01',
      metricsHost: 'use1-01.m.example',
      logsHost: 'use1-01.l.example',
      tracesHost: 'use1-01.t.example',
    },
  ]),
);
const server = useTestServer({ env: { CELLS_FILE: cellsFile } });
const browser = useBrowser();
const signUp = (page: Page) =>
  signUpThroughUi(page, server().url, 'Regions Org', uniqueUiEmail('regions'));

describe.skipIf(!enabled)('tenant details in the browser', () => {
  it('offers a region picker when two regions exist, and places the tenant there', async () => {
    const { context, page, guard } = await openPage(browser(), server().url);
    try {
      await signUp(page);
      await page.getByRole('button', { name: 'New Tenant' }).click();
      const dialog = page.getByRole('dialog', { name: 'New Tenant' });
      const region = dialog.getByLabel('Region');
      expect(await region.locator('option').allTextContents()).toEqual([
        'eu-west-1 (default)',
        'us-east-1',
      ]);
      await dialog.getByLabel('Display Name').fill('Checkout US');
      await region.selectOption('us-east-1');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByRole('link', { name: 'Checkout US' }).click();
      await page.getByText('use1-01.m.example', { exact: true }).waitFor();
      expect(await page.locator('.tenant-meta').textContent()).toContain('us-east-1');
      guard.assertClean({ allowErrors: EXPECTED_ERRORS });
    } finally {
      await context.close();
    }
  });

  it('copies through a text selection where the Clipboard API is missing', async () => {
    const { context, page } = await openPage(browser(), server().url);
    try {
      // As on a plain-HTTP page of another host: no navigator.clipboard at all.
      await page.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });
        document.addEventListener('copy', () => {
          (window as unknown as { copied: string[] }).copied ??= [];
          (window as unknown as { copied: string[] }).copied.push(
            document.getSelection()?.toString() ||
              (document.activeElement as HTMLTextAreaElement)?.value,
          );
        });
      });
      await signUp(page);
      await page.getByRole('button', { name: 'New Tenant' }).click();
      await page.getByLabel('Display Name').fill('Copy Target');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByRole('link', { name: 'Copy Target' }).click();
      const id = (await page.getByTestId('tenant-id').textContent())!;
      expect(await page.evaluate(() => navigator.clipboard)).toBeUndefined();
      await page.getByRole('button', { name: 'Copy tenant ID' }).click();
      await page
        .getByRole('button', { name: 'Copy tenant ID' })
        .getByText('Copied')
        .first()
        .waitFor();
      expect(await page.evaluate(() => (window as unknown as { copied: string[] }).copied)).toEqual(
        [id],
      );
      // The snippet's button copies the whole configuration.
      await page.getByRole('button', { name: 'Copy Prometheus (prometheus.yml)' }).click();
      const copied = await page.evaluate(() => (window as unknown as { copied: string[] }).copied);
      expect(copied[1]).toContain(`username: ${id}`);
      expect(copied[1]).toContain('password: <API_KEY>');
    } finally {
      await context.close();
    }
  });

  it('New Tenant works from the keyboard: focus in the dialog, Escape closes, focus returns', async () => {
    const { context, page } = await openPage(browser(), server().url);
    try {
      await signUp(page);
      const open = page.getByRole('button', { name: 'New Tenant' });
      await open.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'New Tenant' });
      await dialog.waitFor();
      expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe(
        'displayName',
      );
      // Focus never reaches the page behind however far one tabs (past the last control it
      // goes to the browser's own UI, which headless shows as <body>, then back to the dialog).
      const where = () =>
        page.evaluate(() => {
          const el = document.activeElement;
          return el?.closest('dialog') ? 'dialog' : el === document.body ? 'browser' : 'page';
        });
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        seen.add(await where());
      }
      expect(seen.has('page')).toBe(false);
      expect(seen.has('dialog')).toBe(true);
      await dialog.getByLabel('Display Name').focus();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('New Tenant');
      // And through to a created tenant with keys only.
      await page.keyboard.press('Enter');
      await page.keyboard.type('Keyboard Service');
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('link', { name: 'Keyboard Service' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
