// An operation's `ui` as the mobile token SDK reads it (mtoken-sdk-android
// OperationUIData, PreApprovalScreenDeserializer, PostApprovalScreenDeserializer), and the
// words the app uses for statuses and reject reasons.
import { keptAttributes, userLocale, type Attribute } from "./attributes";

export type PreApproval = {
  /** INFO, WARNING, QR_SCAN, or UNKNOWN for a type this app does not know. */
  type: "INFO" | "WARNING" | "QR_SCAN" | "UNKNOWN";
  heading: string;
  message: string;
  items: string[];
  /** SLIDER: the user slides to go on instead of pressing a button. */
  slider: boolean;
};

export type PostApproval =
  | { type: "REVIEW"; heading: string; message: string; attributes: Attribute[] }
  | { type: "MERCHANT_REDIRECT"; heading: string; message: string; redirectText: string; redirectUrl: string; countdown: number }
  | { type: "GENERIC"; heading: string; message: string; payload: unknown };

export type OperationUi = {
  flipButtons: boolean;
  blockApprovalOnCall: boolean;
  preApproval: PreApproval | null;
  postApproval: PostApproval | null;
};

const str = (v: unknown) => (typeof v === "string" ? v : "");
const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

export function readUi(ui: unknown): OperationUi {
  const o = obj(ui) ?? {};
  const pre = obj(o.preApprovalScreen);
  const post = obj(o.postApprovalScreen);
  let preApproval: PreApproval | null = null;
  if (pre) {
    const t = str(pre.type);
    preApproval = {
      type: t === "INFO" || t === "WARNING" || t === "QR_SCAN" ? t : "UNKNOWN",
      heading: str(pre.heading),
      message: str(pre.message),
      items: Array.isArray(pre.items) ? pre.items.filter((i): i is string => typeof i === "string") : [],
      slider: pre.approvalType === "SLIDER",
    };
  }
  let postApproval: PostApproval | null = null;
  if (post) {
    const heading = str(post.heading);
    const message = str(post.message);
    const payload = obj(post.payload) ?? {};
    switch (post.type) {
      case "REVIEW":
        postApproval = { type: "REVIEW", heading, message, attributes: keptAttributes(payload.attributes) };
        break;
      case "MERCHANT_REDIRECT":
        postApproval = {
          type: "MERCHANT_REDIRECT",
          heading,
          message,
          redirectText: str(payload.redirectText),
          redirectUrl: str(payload.redirectUrl),
          countdown: typeof payload.countdown === "number" ? payload.countdown : 0,
        };
        break;
      default:
        // The SDK reads every other type as GENERIC.
        postApproval = { type: "GENERIC", heading, message, payload: post.payload ?? null };
    }
  }
  return {
    flipButtons: o.flipButtons === true,
    blockApprovalOnCall: o.blockApprovalOnCall === true,
    preApproval,
    postApproval,
  };
}

/** The reject reasons the mobile API documents, in the user's words. */
export const rejectReasons: [string, string][] = [
  ["UNEXPECTED_OPERATION", "I did not start this operation"],
  ["INCORRECT_DATA", "The details are wrong"],
  ["UNKNOWN", "Another reason"],
];

/** A status reason (`statusReason`, a reject reason) in words; unknown ones as they are. */
export function reasonWords(reason: string | null | undefined): string {
  if (!reason) return "";
  const known: Record<string, string> = {
    ...Object.fromEntries(rejectReasons),
    UNKNOWN: "No reason given",
    PREAUTHORIZATION_FAILED: "Refused before approval",
    AUTHORIZATION_FAILED: "Too many failed approvals",
    OPERATION_EXPIRED: "It expired",
  };
  return known[reason] ?? reason.toLowerCase().replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** A status in words. */
export function statusWords(status: string | null | undefined): string {
  const known: Record<string, string> = {
    PENDING: "Waiting",
    APPROVED: "Approved",
    REJECTED: "Rejected",
    CANCELED: "Canceled by the bank",
    EXPIRED: "Expired",
    FAILED: "Failed",
  };
  return status ? (known[status] ?? status) : "";
}

/** A date and time in the user's locale. */
export function when(iso: string | null | undefined, locale?: string): string {
  if (!iso) return "";
  // The mobile API's "+0000" offsets: make them ISO-8601 that Date reads.
  const date = new Date(iso.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale ?? userLocale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}
