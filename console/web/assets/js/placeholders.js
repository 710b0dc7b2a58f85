// Placeholders of canned responses, written {{name}}: the console fills them in
// before the responder sees the text (mirrors hotline.ExpandPlaceholders).

const PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** expandPlaceholders replaces each {{name}} whose name is in values; others stay. */
export function expandPlaceholders(body, values) {
  return body.replace(PATTERN, (m, name) => (Object.hasOwn(values, name) ? values[name] : m));
}

/** unknownPlaceholders lists the names in body that are not in known. */
export function unknownPlaceholders(body, known) {
  return [...body.matchAll(PATTERN)].map((m) => m[1]).filter((n) => !known.includes(n));
}
