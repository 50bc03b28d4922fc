import type { Page } from 'playwright-core';

/** The boot refresh of a signed-out page (401) and refused cookie calls (403) log as errors. */
export const EXPECTED_ERRORS = [
  /Failed to load resource: the server responded with a status of 40[13]/,
];
export const UI_PASSWORD = 'Training123!';

let counter = 0;
export const uniqueUiEmail = (name: string) => `${name}-${Date.now()}-${++counter}@example.com`;

/** Fills and sends the signup form of a page already on the login view. */
export async function fillSignUpForm(
  page: Page,
  organisation: string,
  email: string,
  password = UI_PASSWORD,
) {
  await page.getByRole('button', { name: 'Create an organisation' }).click();
  await page.getByLabel('Organisation name').fill(organisation);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create organisation' }).click();
}

/** Fills and sends the login form. */
export async function fillLogInForm(page: Page, email: string, password = UI_PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Opens the UI, signs up a new organisation and waits for the tenants dashboard. */
export async function signUpThroughUi(
  page: Page,
  baseUrl: string,
  organisation: string,
  email: string,
) {
  await page.goto(`${baseUrl}/ui/`);
  await fillSignUpForm(page, organisation, email);
  await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
}

/** Opens the UI, logs in and waits for the tenants dashboard. */
export async function logInThroughUi(page: Page, baseUrl: string, email: string) {
  await page.goto(`${baseUrl}/ui/`);
  await fillLogInForm(page, email);
  await page.getByRole('heading', { name: 'Tenants', exact: true }).waitFor();
}
