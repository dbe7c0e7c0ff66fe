// A message as a tester reads it: a capital first letter, a full stop, no HTTP status codes
// or protocol codes (the inspector keeps those), and no clause said twice.

/** "the server answered HTTP 401 ERR_AUTHENTICATION/…: wrong PIN" → "wrong PIN". */
const SERVER_ANSWERED = /the server answered HTTP \d{3}(?: [A-Z0-9_]+(?:\/[A-Za-z0-9_.]+)?)?: /g;
const CLOUD_ANSWERED = /the Cloud API answered \d{3}[^:]*:.*$/;
const HTTP_CODE = /\s*\(?\bHTTP \d{3}\b[^).,;]*\)?/g;

export function plain(message: string): string {
  let text = message.trim();
  text = text.replace(SERVER_ANSWERED, "");
  text = text.replace(CLOUD_ANSWERED, "the Cloud API refused it");
  text = text.replace(HTTP_CODE, "");
  // "X (x …)": the inner text repeats the outer one; keep the inner.
  const doubled = /^(.+?) \((.+)\)\.?$/.exec(text);
  if (doubled && doubled[2].toLowerCase().startsWith(doubled[1].toLowerCase())) text = doubled[2];
  // A sentence said twice in a row.
  text = text.replace(/(\b[^.:;]{12,}?)[.:;] \1/gi, "$1");
  text = text.replace(/\s{2,}/g, " ").trim();
  if (!text) return text;
  text = text[0].toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/** A hint as a sentence of its own. */
export function hintWords(hint: string): string {
  const text = plain(hint);
  return text;
}
