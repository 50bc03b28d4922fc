/** GET /auth/verify with an Authorization header; returns status, tenant header and body. */
export async function verifyRequest(
  baseUrl: string,
  authorization: string | undefined,
  scope: string | undefined = 'metrics:write',
): Promise<{ status: number; orgId: string | null; body: string }> {
  const url = new URL('/auth/verify', baseUrl);
  if (scope) url.searchParams.set('scope', scope);
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  return { status: res.status, orgId: res.headers.get('x-scope-orgid'), body: await res.text() };
}

export const bearer = (key: string) => `Bearer ${key}`;
export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
