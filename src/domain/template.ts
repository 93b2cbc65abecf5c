/** `{{name}}` templates for notes and task titles. Unknown names render empty. Pure. */
export function renderTemplate(template: string, values: Record<string, string | number | undefined>): string {
  return template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (_match, name: string) => {
    const value = values[name];
    return value === undefined ? '' : String(value);
  });
}

/** The first `length` characters, cut at a word boundary, with an ellipsis when cut. */
export function excerpt(text: string, length: number): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= length) return clean;
  const cut = clean.slice(0, length);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > length * 0.6 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}
