/**
 * The API starts some messages with the field they are about ("displayName: must not be
 * empty"); shown next to that field the prefix is noise: "Must not be empty".
 */
export function fieldMessage(field: string, message: string): string {
  const prefix = `${field}: `;
  const text = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
