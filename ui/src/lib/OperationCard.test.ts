import { describe, expect, it, afterEach } from "vitest";
import { mount, unmount, flushSync } from "svelte";
import OperationCard from "./OperationCard.svelte";
import { formatIban, renderAttribute, safeImage } from "./attributes";
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
      { type: "AMOUNT", label: "Amount", amountFormatted: "10.00", currencyFormatted: "EUR" },
      { type: "AMOUNT", label: "Fee", amountFormatted: "0.50", currencyFormatted: "EUR" },
    ]));
    expect(el.querySelectorAll("[data-testid=amount]").length).toBe(1);
    expect(el.textContent).toContain("Fee");
    expect(el.textContent).toContain("0.50 EUR");
  });

  it("AMOUNT_CONVERSION: source → target", () => {
    const el = render(operation([{ type: "AMOUNT_CONVERSION", label: "Exchange", sourceAmountFormatted: "100", sourceCurrencyFormatted: "EUR", targetAmountFormatted: "2 500", targetCurrencyFormatted: "CZK" }]));
    expect(el.textContent).toContain("100 EUR → 2 500 CZK");
  });

  it("KEY_VALUE: an IBAN is grouped in fours and monospaced", () => {
    const el = render(operation([{ type: "KEY_VALUE", label: "To account", value: "CZ6508000000192000145399" }]));
    const dd = el.querySelector("dd.iban");
    expect(dd?.textContent).toBe("CZ65 0800 0000 1920 0014 5399");
    expect(el.textContent).toContain("To account");
  });

  it("KEY_VALUE: plain text stays as it is", () => {
    const el = render(operation([{ type: "KEY_VALUE", label: "Reference", value: "Invoice 2024/17" }]));
    expect(el.querySelector("dd.iban")).toBeNull();
    expect(el.textContent).toContain("Invoice 2024/17");
  });

  it("NOTE", () => {
    const el = render(operation([{ type: "NOTE", label: "Note", note: "Rent for March" }]));
    expect(el.querySelector(".note dd")?.textContent).toBe("Rent for March");
  });

  it("HEADING", () => {
    const el = render(operation([{ type: "HEADING", label: "Payment details" }]));
    expect(el.querySelector("h4.attr-heading")?.textContent).toBe("Payment details");
  });

  it("ALERT: its level picks the style", () => {
    const el = render(operation([
      { type: "ALERT", alertType: "WARNING", title: "Unusual amount", message: "Check twice" },
      { type: "ALERT", alertType: "ERROR", title: "Blocked payee" },
      { type: "ALERT", alertType: "INFO", title: "FYI" },
    ]));
    expect(el.querySelector(".alert-warning")?.textContent).toContain("Unusual amount");
    expect(el.querySelector(".alert-warning")?.textContent).toContain("Check twice");
    expect(el.querySelector(".alert-error")?.textContent).toContain("Blocked payee");
    expect(el.querySelector(".alert-info")?.textContent).toContain("FYI");
  });

  it("PARTY_INFO: name, description, website; a remote logo is not loaded", () => {
    const el = render(operation([{ type: "PARTY_INFO", label: "Merchant", partyInfo: { name: "Tesla", description: "Cars", websiteUrl: "https://tesla.com", logoUrl: "https://example.org/logo.png" } }]));
    expect(el.querySelector(".party-name")?.textContent).toBe("Tesla");
    expect(el.textContent).toContain("Cars");
    expect(el.textContent).toContain("https://tesla.com");
    expect(el.querySelector("img")).toBeNull();
  });

  it("IMAGE: data URLs show, remote ones are named but not fetched", () => {
    const el = render(operation([
      { type: "IMAGE", label: "Receipt", thumbnailUrl: "data:image/png;base64,iVBORw0KGgo=" },
      { type: "IMAGE", label: "Remote", thumbnailUrl: "https://example.org/a.png" },
    ]));
    expect(el.querySelectorAll("img").length).toBe(1);
    expect(el.textContent).toContain("image not loaded (remote)");
  });

  it("an unknown type shows its label and type", () => {
    const el = render(operation([{ type: "FANCY_NEW", label: "Something" }]));
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
  });
});

describe("attribute helpers", () => {
  it("formatIban groups and strips spaces", () => {
    expect(formatIban("CZ65 0800000019 2000145399")).toBe("CZ65 0800 0000 1920 0014 5399");
  });
  it("renderAttribute falls back to the raw amount", () => {
    expect(renderAttribute({ type: "AMOUNT", label: "A", amount: 5, currency: "EUR" })).toEqual({ kind: "amount", label: "A", amount: "5", currency: "EUR" });
  });
  it("safeImage only allows data images", () => {
    expect(safeImage("javascript:alert(1)")).toBeNull();
    expect(safeImage("data:image/png;base64,AA")).toBe("data:image/png;base64,AA");
  });
});
