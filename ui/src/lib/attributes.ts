// Operation form-data attributes as a banking app shows them (the mobile token SDK's types).

export type Attribute = Record<string, unknown> & { type?: string; id?: string; label?: string };

export type Rendered =
  | { kind: "amount"; label: string; amount: string; currency: string }
  | { kind: "conversion"; label: string; source: string; target: string }
  | { kind: "keyValue"; label: string; value: string; iban: boolean }
  | { kind: "note"; label: string; note: string }
  | { kind: "heading"; label: string }
  | { kind: "alert"; level: "info" | "warning" | "error"; title: string; message: string }
  | { kind: "party"; label: string; name: string; description: string; website: string; logo: string }
  | { kind: "image"; label: string; thumbnail: string }
  | { kind: "unknown"; label: string; type: string };

const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;

/** Groups an IBAN in fours, as banks print it. */
export function formatIban(value: string): string {
  return value.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

export function renderAttribute(attribute: Attribute): Rendered {
  const label = text(attribute.label);
  switch (attribute.type) {
    case "AMOUNT": {
      const amount = text(attribute.amountFormatted) || text(attribute.amount);
      const currency = text(attribute.currencyFormatted) || text(attribute.currency);
      return { kind: "amount", label, amount, currency };
    }
    case "AMOUNT_CONVERSION":
      return {
        kind: "conversion",
        label,
        source: `${text(attribute.sourceAmountFormatted)} ${text(attribute.sourceCurrencyFormatted)}`.trim(),
        target: `${text(attribute.targetAmountFormatted)} ${text(attribute.targetCurrencyFormatted)}`.trim(),
      };
    case "KEY_VALUE": {
      const value = text(attribute.value);
      const iban = IBAN.test(value.replace(/\s+/g, ""));
      return { kind: "keyValue", label, value: iban ? formatIban(value) : value, iban };
    }
    case "NOTE":
      return { kind: "note", label, note: text(attribute.note) };
    case "HEADING":
      return { kind: "heading", label };
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
      return { kind: "image", label, thumbnail: text(attribute.thumbnailUrl) };
    default:
      return { kind: "unknown", label, type: text(attribute.type) || "no type" };
  }
}

/** Only images the CSP allows (data URLs); remote images are not loaded. */
export function safeImage(url: string): string | null {
  return url.startsWith("data:image/") ? url : null;
}
