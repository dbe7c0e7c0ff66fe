import { describe, expect, it } from "vitest";
import { readUi, reasonWords, statusWords, when } from "./operation";

describe("an operation's ui, read as the mobile token SDK reads it", () => {
  it("a pre-approval screen with its type, items and SLIDER", () => {
    const ui = readUi({ flipButtons: true, blockApprovalOnCall: true, preApprovalScreen: { type: "WARNING", heading: "H", message: "M", items: ["a", "b"], approvalType: "SLIDER" } });
    expect(ui.flipButtons && ui.blockApprovalOnCall).toBe(true);
    expect(ui.preApproval).toEqual({ type: "WARNING", heading: "H", message: "M", items: ["a", "b"], slider: true });
  });
  it("an unknown pre-approval type is UNKNOWN; no ui is no screens", () => {
    expect(readUi({ preApprovalScreen: { type: "FUTURE", heading: "", message: "" } }).preApproval?.type).toBe("UNKNOWN");
    expect(readUi(null)).toEqual({ flipButtons: false, blockApprovalOnCall: false, preApproval: null, postApproval: null });
  });
  it("post-approval REVIEW, MERCHANT_REDIRECT, and anything else as GENERIC", () => {
    const review = readUi({ postApprovalScreen: { type: "REVIEW", heading: "H", message: "M", payload: { attributes: [{ type: "NOTE", id: "n", label: "L", note: "x" }, { type: "NOTE", note: "no id" }] } } });
    expect(review.postApproval?.type === "REVIEW" && review.postApproval.attributes.length).toBe(1);
    const redirect = readUi({ postApprovalScreen: { type: "MERCHANT_REDIRECT", heading: "H", message: "M", payload: { redirectText: "Back", redirectUrl: "https://shop", countdown: 5 } } });
    expect(redirect.postApproval).toEqual({ type: "MERCHANT_REDIRECT", heading: "H", message: "M", redirectText: "Back", redirectUrl: "https://shop", countdown: 5 });
    expect(readUi({ postApprovalScreen: { type: "SOMETHING", heading: "H", message: "M", payload: { a: 1 } } }).postApproval).toEqual({ type: "GENERIC", heading: "H", message: "M", payload: { a: 1 } });
  });
});

describe("words", () => {
  it("reject reasons and statuses in words", () => {
    expect(reasonWords("INCORRECT_DATA")).toBe("The details are wrong");
    expect(reasonWords("SOME_NEW_REASON")).toBe("Some new reason");
    expect(reasonWords(null)).toBe("");
    expect(statusWords("CANCELED")).toBe("Canceled by the bank");
  });
  it("the mobile API's dates in the locale", () => {
    expect(when("2018-07-02T14:43:13+0000", "en-US")).toMatch(/Jul 2, 2018/);
    expect(when("not a date")).toBe("not a date");
  });
});
