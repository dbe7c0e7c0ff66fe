// Operation form-data attributes as a banking app shows them, read by the mobile token
// SDK's rules (mtoken-sdk-android AttributeTypeAdapter, mtoken-sdk-ios WMTOperationAttribute*):
// - an attribute without a string `id` or `label` is dropped;
// - AMOUNT falls back from `amountFormatted`/`currencyFormatted` to `amount` (two decimals)
//   and `currency`; without either it is shown as an attribute of unknown type;
// - AMOUNT_CONVERSION needs `dynamic` (a rate that may still change) and both sides;
// - HEADING is a section heading, its `level` (enrollment server, default 0) its rank.
// Plain machine numbers are formatted for the user's locale.

export type Attribute = Record<string, unknown> & { type?: string; id?: string; label?: string };

export type Rendered =
  | { kind: "amount"; label: string; amount: string; currency: string }
  | { kind: "conversion"; label: string; source: string; target: string; dynamic: boolean }
  | { kind: "keyValue"; label: string; value: string; iban: boolean }
  | { kind: "note"; label: string; note: string }
  | { kind: "heading"; label: string; level: number }
  | { kind: "alert"; level: "info" | "warning" | "error"; title: string; message: string }
  | { kind: "party"; label: string; name: string; description: string; website: string; logo: string }
  | { kind: "image"; label: string; thumbnail: string }
  | { kind: "unknown"; label: string; type: string };

const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/** Groups an IBAN in fours, as banks print it. */
export function formatIban(value: string): string {
  return value.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

/**
 * The user's locale; a machine without one (the C/POSIX locale, which groups no digits)
 * reads amounts in English.
 */
export function userLocale(): string {
  const language = typeof navigator === "undefined" ? "" : (navigator.languages?.[0] ?? navigator.language ?? "");
  try {
    // "C.UTF-8" and the like are no language tags: Intl throws on them.
    const [tag] = Intl.getCanonicalLocales(language);
    const resolved = new Intl.NumberFormat(tag).resolvedOptions().locale;
    return !tag || /posix/i.test(resolved) || /^(c|posix)$/i.test(tag) ? "en-US" : tag;
  } catch {
    return "en-US";
  }
}

/** A number in the user's locale with two decimals ("1,234,567.89" in English). */
export function formatNumber(value: number | string, locale?: string): string {
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) return String(value);
  return new Intl.NumberFormat(locale ?? userLocale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(number);
}

/**
 * The shown amount: the server's formatted text when it is one; a plain machine number
 * ("1234567.89", or the legacy `amount` alone) in the user's locale.
 */
export function amountText(formatted: unknown, amount: unknown, locale?: string): string | null {
  const given = text(formatted);
  if (given && !PLAIN_NUMBER.test(given.trim())) return given;
  if (given) return formatNumber(given.trim(), locale);
  if (typeof amount === "number" || (typeof amount === "string" && PLAIN_NUMBER.test(amount))) return formatNumber(amount, locale);
  return null;
}

function money(a: Attribute, side: "source" | "target", locale?: string): string | null {
  const amount = amountText(a[`${side}AmountFormatted`], a[`${side}Amount`], locale);
  const currency = text(a[`${side}CurrencyFormatted`]) || text(a[`${side}Currency`]);
  return amount === null || !currency ? null : `${amount} ${currency}`;
}

/** The attributes the SDK keeps: those with a string id and label. */
export function keptAttributes(list: unknown): Attribute[] {
  if (!Array.isArray(list)) return [];
  return list.filter(
    (a): a is Attribute => !!a && typeof a === "object" && typeof (a as Attribute).id === "string" && typeof (a as Attribute).label === "string",
  );
}

export function renderAttribute(attribute: Attribute, locale?: string): Rendered {
  const label = text(attribute.label);
  const unknown: Rendered = { kind: "unknown", label, type: text(attribute.type) || "no type" };
  switch (attribute.type) {
    case "AMOUNT": {
      const amount = amountText(attribute.amountFormatted, attribute.amount, locale);
      const currency = text(attribute.currencyFormatted) || text(attribute.currency);
      return amount === null || !currency ? unknown : { kind: "amount", label, amount, currency };
    }
    case "AMOUNT_CONVERSION": {
      const source = money(attribute, "source", locale);
      const target = money(attribute, "target", locale);
      if (typeof attribute.dynamic !== "boolean" || source === null || target === null) return unknown;
      return { kind: "conversion", label, source, target, dynamic: attribute.dynamic };
    }
    case "KEY_VALUE": {
      if (typeof attribute.value !== "string") return unknown;
      const value = attribute.value;
      const iban = IBAN.test(value.replace(/\s+/g, ""));
      return { kind: "keyValue", label, value: iban ? formatIban(value) : value, iban };
    }
    case "NOTE":
      return typeof attribute.note === "string" ? { kind: "note", label, note: attribute.note } : unknown;
    case "HEADING": {
      const level = typeof attribute.level === "number" && attribute.level >= 0 ? Math.floor(attribute.level) : 0;
      return { kind: "heading", label, level };
    }
    case "ALERT": {
      const t = text(attribute.alertType).toUpperCase();
      const level = t === "ERROR" ? "error" : t === "WARNING" ? "warning" : "info";
      return { kind: "alert", level, title: text(attribute.title), message: text(attribute.message) };
    }
    case "PARTY_INFO": {
      const party = (attribute.partyInfo ?? {}) as Record<string, unknown>;
      return {
        kind: "party",
        label,
        name: text(party.name),
        description: text(party.description),
        website: text(party.websiteUrl),
        logo: text(party.logoUrl),
      };
    }
    case "IMAGE":
      return typeof attribute.thumbnailUrl === "string" ? { kind: "image", label, thumbnail: attribute.thumbnailUrl } : unknown;
    default:
      return unknown;
  }
}

/** Only images the CSP allows (data URLs); remote images are not loaded. */
export function safeImage(url: string): string | null {
  return url.startsWith("data:image/") ? url : null;
}

/** The operation's main amount as one line ("1,250.00 EUR"), for lists and notifications. */
export function amountLine(formData: Record<string, unknown> | null | undefined, locale?: string): string {
  const first = keptAttributes(formData?.attributes)
    .map((a) => renderAttribute(a, locale))
    .find((r) => r.kind === "amount");
  return first && first.kind === "amount" ? `${first.amount} ${first.currency}` : "";
}
