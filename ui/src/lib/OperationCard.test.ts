import { describe, expect, it, afterEach } from "vitest";
import { mount, unmount, flushSync } from "svelte";
import OperationCard from "./OperationCard.svelte";
import { formatIban, formatNumber, renderAttribute, safeImage, userLocale } from "./attributes";
import type { OperationView } from "./bindings";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
});

function operation(attributes: Array<Record<string, unknown>>, extra: Partial<OperationView> = {}): OperationView {
  return {
    id: "op-1",
    name: "authorize_payment",
    data: "A1*A100.50CZK*ICZ6508000000192000145399",
    status: "PENDING",
    signatureKind: "2FA",
    variants: ["possession_knowledge", "possession_biometry"],
    formData: { title: "Confirm payment", message: "Hello, please confirm", attributes },
    created: null,
    expires: null,
    statusReason: null,
    ui: null,
    ...extra,
  };
}

function render(op: OperationView): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted = mount(OperationCard, { target, props: { operation: op } });
  flushSync();
  return target;
}

describe("OperationCard renders every attribute type", () => {
  it("AMOUNT: large, with its currency, in the hero", () => {
    const el = render(operation([{ type: "AMOUNT", id: "operation.amount", label: "Amount", amount: 100.5, amountFormatted: "100.50", currency: "CZK", currencyFormatted: "Kč" }]));
    const hero = el.querySelector("[data-testid=amount]");
    expect(hero?.querySelector(".amount-value")?.textContent).toBe("100.50");
    expect(hero?.querySelector(".amount-currency")?.textContent).toBe("Kč");
    expect(el.querySelector(".operation-title")?.textContent).toBe("Confirm payment");
    expect(el.querySelector(".operation-message")?.textContent).toBe("Hello, please confirm");
  });

  it("a second AMOUNT is a row, not a second hero", () => {
    const el = render(operation([
      { type: "AMOUNT", id: "operation.amount", label: "Amount", amountFormatted: "10.00", currencyFormatted: "EUR" },
      { type: "AMOUNT", id: "operation.fee", label: "Fee", amountFormatted: "0.50", currencyFormatted: "EUR" },
    ]));
    expect(el.querySelectorAll("[data-testid=amount]").length).toBe(1);
    expect(el.textContent).toContain("Fee");
    expect(el.textContent).toContain("0.50 EUR");
  });

  it("AMOUNT_CONVERSION: source → target", () => {
    const el = render(operation([{ type: "AMOUNT_CONVERSION", id: "operation.conversion", label: "Exchange", dynamic: false, sourceAmountFormatted: "100", sourceCurrencyFormatted: "EUR", targetAmountFormatted: "2 500", targetCurrencyFormatted: "CZK" }]));
    // "100" is a plain machine number: shown in the locale; "2 500" is the server's own text.
    expect(el.textContent).toContain("100.00 EUR → 2 500 CZK");
    expect(el.textContent).not.toContain("may still change");
  });

  it("KEY_VALUE: an IBAN is grouped in fours and monospaced", () => {
    const el = render(operation([{ type: "KEY_VALUE", id: "operation.account", label: "To account", value: "CZ6508000000192000145399" }]));
    const dd = el.querySelector("dd.iban");
    expect(dd?.textContent).toBe("CZ65 0800 0000 1920 0014 5399");
    expect(el.textContent).toContain("To account");
  });

  it("KEY_VALUE: plain text stays as it is", () => {
    const el = render(operation([{ type: "KEY_VALUE", id: "operation.reference", label: "Reference", value: "Invoice 2024/17" }]));
    expect(el.querySelector("dd.iban")).toBeNull();
    expect(el.textContent).toContain("Invoice 2024/17");
  });

  it("NOTE", () => {
    const el = render(operation([{ type: "NOTE", id: "operation.note", label: "Note", note: "Rent for March" }]));
    expect(el.querySelector(".note dd")?.textContent).toBe("Rent for March");
  });

  it("HEADING", () => {
    const el = render(operation([{ type: "HEADING", id: "operation.heading", label: "Payment details" }, { type: "HEADING", id: "operation.sub", label: "Fees", level: 2 }]));
    const headings = el.querySelectorAll("h4.attr-heading");
    expect(headings[0]?.textContent).toBe("Payment details");
    expect(headings[0]?.getAttribute("data-level")).toBe("0");
    expect(headings[1]?.getAttribute("data-level")).toBe("2");
  });

  it("ALERT: its level picks the style", () => {
    const el = render(operation([
      { type: "ALERT", id: "a1", label: "", alertType: "WARNING", title: "Unusual amount", message: "Check twice" },
      { type: "ALERT", id: "a2", label: "", alertType: "ERROR", title: "Blocked payee" },
      { type: "ALERT", id: "a3", label: "", alertType: "INFO", title: "FYI" },
    ]));
    expect(el.querySelector(".alert-warning")?.textContent).toContain("Unusual amount");
    expect(el.querySelector(".alert-warning")?.textContent).toContain("Check twice");
    expect(el.querySelector(".alert-error")?.textContent).toContain("Blocked payee");
    expect(el.querySelector(".alert-info")?.textContent).toContain("FYI");
  });

  it("PARTY_INFO: name, description, website; a remote logo is not loaded", () => {
    const el = render(operation([{ type: "PARTY_INFO", id: "operation.party", label: "Merchant", partyInfo: { name: "Tesla", description: "Cars", websiteUrl: "https://tesla.com", logoUrl: "https://example.org/logo.png" } }]));
    expect(el.querySelector(".party-name")?.textContent).toBe("Tesla");
    expect(el.textContent).toContain("Cars");
    expect(el.textContent).toContain("https://tesla.com");
    expect(el.querySelector("img")).toBeNull();
  });

  it("IMAGE: data URLs show, remote ones are named but not fetched", () => {
    const el = render(operation([
      { type: "IMAGE", id: "i1", label: "Receipt", thumbnailUrl: "data:image/png;base64,iVBORw0KGgo=" },
      { type: "IMAGE", id: "i2", label: "Remote", thumbnailUrl: "https://example.org/a.png" },
    ]));
    expect(el.querySelectorAll("img").length).toBe(1);
    expect(el.textContent).toContain("image not loaded (remote)");
  });

  it("an unknown type shows its label and type", () => {
    const el = render(operation([{ type: "FANCY_NEW", id: "operation.new", label: "Something" }]));
    expect(el.textContent).toContain("Something");
    expect(el.textContent).toContain("(FANCY_NEW)");
  });

  it("no form data: the operation name is the title", () => {
    const el = render(operation([], { formData: null, name: "login" }));
    expect(el.querySelector(".operation-title")?.textContent).toBe("login");
    expect(el.querySelector("[data-testid=amount]")).toBeNull();
  });

  it("the footer names the allowed factors", () => {
    const el = render(operation([]));
    expect(el.querySelector("footer")?.textContent).toContain("2FA: possession_knowledge, possession_biometry");
    const one = render(operation([], { signatureKind: "1FA", variants: [] }));
    expect(one.querySelector("footer")?.textContent).toContain("1FA: this device alone, no PIN");
  });
});

describe("the mobile token SDK's attribute rules", () => {
  it("drops attributes without an id or a label", () => {
    const el = render(operation([
      { type: "KEY_VALUE", label: "No id", value: "hidden 1" },
      { type: "KEY_VALUE", id: "x", value: "hidden 2" },
      { type: "KEY_VALUE", id: "y", label: "Kept", value: "shown" },
    ]));
    expect(el.textContent).not.toContain("hidden");
    expect(el.textContent).toContain("shown");
  });
  it("AMOUNT falls back to amount and currency, in the locale", () => {
    const el = render(operation([{ type: "AMOUNT", id: "operation.amount", label: "Amount", amount: 1234567.891, currency: "EUR" }]));
    expect(el.querySelector(".amount-value")?.textContent).toBe("1,234,567.89");
    expect(el.querySelector(".amount-currency")?.textContent).toBe("EUR");
  });
  it("an AMOUNT without any amount, or a conversion without `dynamic`, is an attribute of unknown type", () => {
    expect(renderAttribute({ type: "AMOUNT", id: "a", label: "A", currency: "EUR" }).kind).toBe("unknown");
    expect(renderAttribute({ type: "AMOUNT_CONVERSION", id: "c", label: "C", sourceAmount: 1, sourceCurrency: "EUR", targetAmount: 2, targetCurrency: "CZK" }).kind).toBe("unknown");
  });
  it("a dynamic conversion says its rate may change", () => {
    const el = render(operation([{ type: "AMOUNT_CONVERSION", id: "c", label: "Rate", dynamic: true, sourceAmount: 100, sourceCurrency: "EUR", targetAmount: 2500, targetCurrency: "CZK" }]));
    expect(el.textContent).toContain("100.00 EUR → 2,500.00 CZK");
    expect(el.textContent).toContain("the rate may still change");
  });
});

describe("attribute helpers", () => {
  it("a system language that is no language tag (C.UTF-8) reads amounts in English", () => {
    const languages = Object.getOwnPropertyDescriptor(Navigator.prototype, "languages");
    Object.defineProperty(navigator, "languages", { value: ["C.UTF-8"], configurable: true });
    try {
      expect(userLocale()).toBe("en-US");
      expect(formatNumber(1250)).toBe("1,250.00");
    } finally {
      if (languages) Object.defineProperty(navigator, "languages", languages);
    }
  });
  it("formatIban groups and strips spaces", () => {
    expect(formatIban("CZ65 0800000019 2000145399")).toBe("CZ65 0800 0000 1920 0014 5399");
  });
  it("renderAttribute falls back to the raw amount with two decimals (the SDK's legacy rule)", () => {
    expect(renderAttribute({ type: "AMOUNT", id: "a", label: "A", amount: 5, currency: "EUR" }, "en-US")).toEqual({ kind: "amount", label: "A", amount: "5.00", currency: "EUR" });
  });
  it("safeImage only allows data images", () => {
    expect(safeImage("javascript:alert(1)")).toBeNull();
    expect(safeImage("data:image/png;base64,AA")).toBe("data:image/png;base64,AA");
  });
});
