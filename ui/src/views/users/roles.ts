/** Roles and plans as the users page names them. */

export type Role = 'owner' | 'admin' | 'viewer';

export const ROLES: readonly Role[] = ['owner', 'admin', 'viewer'];

export const ROLE_HINTS: Record<Role, string> = {
  owner: 'everything, including users, owners and the plan',
  admin: 'tenants, keys and users (not owners, not the plan)',
  viewer: 'reads everything, changes nothing',
};

/** The roles someone with `viewerRole` may hand out: only owners grant owner. */
export function grantableRoles(viewerRole: Role): Role[] {
  if (viewerRole === 'owner') return [...ROLES];
  if (viewerRole === 'admin') return ['admin', 'viewer'];
  return [];
}

/** Whether the signed-in user may change or remove this user at all (the API enforces it too). */
export function canManage(viewer: { id: string; role: Role }, user: { id: string; role: Role }) {
  if (viewer.id === user.id) return false; // not yourself: no removing, no self-demotion by slip
  if (viewer.role === 'owner') return true;
  if (viewer.role === 'admin') return user.role !== 'owner';
  return false;
}

export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** "password: must be at least 10 characters" next to the password field reads as "Must be…". */
export function fieldMessage(field: string, message: string): string {
  const prefix = `${field}: `;
  return message.startsWith(prefix) ? capitalise(message.slice(prefix.length)) : message;
}
