// The app as a mobile token with several devices, through the real window: a notification
// that opens the right operation on the right device, every device's operations at once, a
// 1FA operation approved without a PIN, a proximity check read from a QR code, the message
// inbox, and a PENDING_COMMIT activation committed by the bank. Called by e2e.mjs with its
// WebDriver helpers.
import { readFileSync, rmSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { By } from "selenium-webdriver";

export async function mtokenChecks(t) {
  const { driver, check, click, type, textOf, $, shot, cloud, rest, frames, qrFile, notifications, expect, waitText, gone, PIN, opened } = t;
  const devices = {};

  async function activate(name, user, commitOnKeyExchange = true) {
    const registration = await cloud("/v2/registrations", { userId: user, appId: "tokensim", commitPhase: commitOnKeyExchange ? "ON_KEY_EXCHANGE" : "ON_COMMIT" });
    await click("#nav-add");
    await type("#code", registration.activationQrCodeData);
    await type("#device-name", name);
    await type("#pin", PIN);
    await type("#pin-again", PIN);
    await click("#activate");
    await $("[data-testid=activation-done]");
    await click("#open-new-device");
    await $("[data-testid=device-detail]");
    return { id: name.toLowerCase().replace(/[^a-z0-9]+/g, "-"), user, activationId: registration.registrationId };
  }

  async function payment(device, extra = {}) {
    const created = await cloud("/v2/operations", {
      userId: device.user,
      template: "payment",
      parameters: { amount: "1234567.89", currency: "EUR", iban: "CZ6508000000192000145399" },
      ...extra,
    });
    return created.operationId;
  }

  const card = (id) => `article[data-operation-id="${id}"]`;

  await check("two_devices_are_activated", async () => {
    devices.one = await activate("QA phone 1", "qa-user-1");
    devices.two = await activate("QA phone 2", "qa-user-2");
    await click("#nav-devices");
    const names = await Promise.all((await driver.findElements(By.css(".device-name"))).map((e) => e.getText()));
    for (const name of ["QA phone 1", "QA phone 2"]) if (!names.includes(name)) throw new Error(`${name} is not listed: ${names}`);
  });

  await check("a_notification_names_device_and_operation_and_a_click_opens_it_on_that_device", async () => {
    // Operations shows QA phone 1; the operation is for QA phone 2.
    await click("#nav-inbox");
    await click(`#inbox-device option[value="${devices.one.id}"]`);
    const before = notifications.shown.length;
    const operationId = await payment(devices.two);
    const shown = await driver.wait(
      async () => notifications.shown.slice(before).find((n) => n.body.includes("QA phone 2")) ?? null,
      20000,
      "no notification for QA phone 2",
    );
    expect("notification", `${shown.summary} | ${shown.body}`, /QA phone 2 \| Confirm payment 1,234,567\.89\s*€, QA phone 2/);
    // The badge says which device.
    expect("badge title", await (await $("[data-testid=pending-total]")).getAttribute("title"), /QA phone 2: 1/);
    await shot("notification-arrived");
    notifications.click(shown.id);
    await $(`.card.focused ${card(operationId)}`);
    expect("device", await textOf(`.card.focused [data-testid=operation-device]`), /^QA phone 2$/);
    expect("selected device", await (await $("#inbox-device")).getAttribute("value"), new RegExp(`^${devices.two.id}$`));
    await shot("notification-opened");
    // Approve it there, with QA phone 2's PIN.
    await click(`${card(operationId)} ~ .row .approve`);
    await type("#approve-pin", PIN);
    await click("#approve-confirm");
    await waitText("[data-testid=notice]", /^Approved: Confirm payment 1,234,567\.89\s*€ on QA phone 2/);
    const operation = await cloud(`/v2/operations/${operationId}`);
    if (operation.status !== "APPROVED") throw new Error(`the server says ${operation.status}`);
  });

  await check("the_window_announces_a_new_operation_and_every_device_shows_at_once", async () => {
    await click("#nav-devices");
    const first = await payment(devices.one);
    const second = await payment(devices.two);
    const toast = `[data-testid=arrival][data-operation-id="${first}"]`;
    await $(toast);
    expect("toast", await textOf(toast), /Confirm payment 1,234,567\.89\s*€[\s\S]*QA phone 1/);
    await click(`${toast} .toast-open`);
    await $(`.card.focused ${card(first)}`);
    await click('#inbox-device option[value="all"]');
    await $(card(first));
    await $(card(second));
    const chips = await Promise.all((await driver.findElements(By.css("[data-testid=operation-device]"))).map((e) => e.getText()));
    for (const name of ["QA phone 1", "QA phone 2"]) if (!chips.includes(name)) throw new Error(`no ${name} in every device's list: ${chips}`);
    await shot("operations-every-device");
    for (const [id, device] of [[first, "QA phone 1"], [second, "QA phone 2"]]) {
      await click(`${card(id)} ~ .row .reject`);
      await click("#reject-confirm");
      await waitText("[data-testid=notice]", new RegExp(`^Rejected: Confirm payment on ${device} \\(I did not start this operation\\)`));
    }
  });

  await check("history_shows_amounts_dates_and_reasons_in_words_newest_first", async () => {
    // A user's reject reason goes to additionalData, never to statusReason (the enrollment
    // server), so the reason a history shows is the back end's: cancel one with a reason.
    const canceled = await payment(devices.two);
    await rest("/rest/v3/operation/cancel", { operationId: canceled, statusReason: "PREARRANGED_REASON" });
    await click(`#inbox-device option[value="${devices.two.id}"]`);
    // WebKit may deliver the select's change after the click returns; the view resets its
    // history card when the device changes, so wait until it shows that device.
    await waitText(".content", /Nothing to approve on QA phone 2/);
    await click("#history-show");
    await type("#history-pin", PIN);
    await click("#history-confirm");
    const rows = await driver.wait(async () => {
      const found = await driver.findElements(By.css("[data-testid=history] tbody tr"));
      return found.length >= 3 ? found : null;
    }, 10000, "no history");
    const newest = await rows[0].getText();
    expect("newest row", newest, /Confirm payment[\s\S]*1,234,567\.89\s*€[\s\S]*Canceled by the bank[\s\S]*Prearranged reason/);
    expect("date", newest, /\d{4}|\d{1,2}:\d{2}/);
    expect("rejected row", await rows[1].getText(), /Confirm payment[\s\S]*1,234,567\.89\s*€[\s\S]*Rejected/);
    const all = await textOf("[data-testid=history]");
    if (/UNEXPECTED_OPERATION|INCORRECT_DATA|PREARRANGED_REASON/.test(all)) throw new Error(`raw reasons: ${all}`);
    expect("older row", await rows[2].getText(), /Approved/);
    await shot("history");
  });

  await check("a_1fa_operation_is_approved_without_a_pin", async () => {
    const template = await rest("/rest/v3/operation/template/create", {
      templateName: "login_1fa",
      operationType: "login",
      dataTemplate: "A2",
      signatureType: ["POSSESSION"],
      maxFailureCount: 5,
      expiration: 300,
    });
    if (!template.id) throw new Error(`no template: ${JSON.stringify(template)}`);
    const attemptsBefore = (await rest("/rest/v3/activation/status", { activationId: devices.one.activationId })).failedAttempts;
    const created = await rest("/rest/v3/operation/create", {
      userId: devices.one.user,
      applications: ["tokensim"],
      templateName: "login_1fa",
      parameters: {},
    });
    await click("#nav-inbox");
    await click(`#inbox-device option[value="${devices.one.id}"]`);
    await driver.wait(async () => {
      if ((await driver.findElements(By.css(card(created.id)))).length) return true;
      await click("#inbox-refresh");
      return false;
    }, 20000, "the 1FA operation never arrived");
    expect("factors", await textOf(`${card(created.id)} footer`), /1FA: this device alone, no PIN/);
    await click(`${card(created.id)} ~ .row .approve`);
    if ((await driver.findElements(By.css("#approve-pin"))).length) throw new Error("a PIN is asked for a 1FA operation");
    await shot("approve-1fa");
    await click("#approve-1fa");
    await waitText("[data-testid=notice]", /^Approved/);
    const detail = await rest("/rest/v3/operation/detail", { operationId: created.id });
    if (detail.status !== "APPROVED" || detail.signatureType?.length === 0) throw new Error(`the server says ${JSON.stringify(detail.status)}`);
    const attemptsAfter = (await rest("/rest/v3/activation/status", { activationId: devices.one.activationId })).failedAttempts;
    if (attemptsAfter !== attemptsBefore) throw new Error("the 1FA approval touched the PIN attempts");
  });

  await check("a_proximity_check_is_read_from_a_qr_code_and_sent_with_the_approval", async () => {
    const created = await rest("/rest/v3/operation/create", {
      userId: devices.one.user,
      applications: ["tokensim"],
      templateName: "payment",
      parameters: { amount: "99.50", currency: "EUR", iban: "CZ6508000000192000145399" },
      proximityCheckEnabled: true,
    });
    const { proximityOtp } = await rest("/rest/v3/operation/detail", { operationId: created.id });
    if (!proximityOtp) throw new Error("the sandbox gave no proximity OTP");
    // The bank's page shows a QR code: a deeplink with the operation id and the OTP.
    for (const f of readdirSync(frames)) rmSync(join(frames, f));
    qrFile(`mtoken://operation?oid=${encodeURIComponent(created.id)}&potp=${proximityOtp}`, join(frames, "proximity.png"));
    await click("#inbox-refresh");
    await driver.wait(async () => {
      if ((await driver.findElements(By.css(card(created.id)))).length) return true;
      await click("#inbox-refresh");
      return false;
    }, 20000, "the proximity operation never arrived");
    await click(`${card(created.id)} ~ .row .approve`);
    expect("QR_SCAN screen", await textOf("[data-testid=proximity]"), /Scan the QR code/);
    await shot("approve-proximity");
    await click("#proximity-source-folder");
    await $("#approve-pin");
    await type("#approve-pin", PIN);
    await click("#approve-confirm");
    await waitText("[data-testid=notice]", /^Approved: Confirm payment 99\.50\s*€ on QA phone 1/);
    const detail = await rest("/rest/v3/operation/detail", { operationId: created.id });
    if (detail.status !== "APPROVED") throw new Error(`the server says ${detail.status}`);
  });

  await check("a_wrong_proximity_code_is_refused_by_the_server", async () => {
    const created = await rest("/rest/v3/operation/create", {
      userId: devices.one.user,
      applications: ["tokensim"],
      templateName: "payment",
      parameters: { amount: "10.00", currency: "EUR", iban: "CZ6508000000192000145399" },
      proximityCheckEnabled: true,
    });
    await driver.wait(async () => {
      if ((await driver.findElements(By.css(card(created.id)))).length) return true;
      await click("#inbox-refresh");
      return false;
    }, 20000, "the operation never arrived");
    await click(`${card(created.id)} ~ .row .approve`);
    await type("#proximity-otp", "00000000");
    await click("#proximity-continue");
    await type("#approve-pin", PIN);
    await click("#approve-confirm");
    await $("[data-card] [data-testid=error]");
    const detail = await rest("/rest/v3/operation/detail", { operationId: created.id });
    if (detail.status === "APPROVED") throw new Error("approved with a wrong proximity OTP");
  });

  // An operation from a template of the sandbox's enrollment-server part (form data, ui).
  async function fromTemplate(name, template, parameters = {}) {
    await rest("/rest/v3/operation/template/create", {
      templateName: name,
      operationType: name,
      dataTemplate: "A1*A${amount}${currency}",
      signatureType: ["POSSESSION_KNOWLEDGE"],
      maxFailureCount: 5,
      expiration: 300,
      ...template,
    });
    const created = await rest("/rest/v3/operation/create", {
      userId: devices.one.user,
      applications: ["tokensim"],
      templateName: name,
      parameters: { amount: "10.00", currency: "EUR", ...parameters },
    });
    await click("#nav-inbox");
    await click(`#inbox-device option[value="${devices.one.id}"]`);
    await driver.wait(async () => {
      if ((await driver.findElements(By.css(card(created.id)))).length) return true;
      await click("#inbox-refresh");
      return false;
    }, 20000, `the ${name} operation never arrived`);
    return created.id;
  }

  await check("an_info_screen_the_sdk_attribute_rules_and_a_review_screen", async () => {
    const id = await fromTemplate("card_abroad", {
      formData: {
        title: "Card payment",
        message: "Confirm the card payment",
        attributes: [
          { type: "AMOUNT", id: "operation.amount", label: "Amount", amount: "${amount}", currency: "${currency}" },
          { type: "KEY_VALUE", label: "Without an id", value: "never shown" },
          { type: "KEY_VALUE", id: "operation.nolabel", value: "never shown either" },
          { type: "HEADING", id: "operation.exchange", label: "Exchange", level: 1 },
          { type: "AMOUNT_CONVERSION", id: "operation.conversion", label: "Conversion", dynamic: true, sourceAmount: 100, sourceCurrency: "EUR", targetAmount: 2500, targetCurrency: "CZK" },
        ],
      },
      ui: {
        preApprovalScreen: { type: "INFO", heading: "A payment abroad", message: "The merchant is outside the EU.", items: ["Check the merchant", "Check the amount"] },
        postApprovalScreen: { type: "REVIEW", heading: "Paid", message: "Your card payment went through.", payload: { attributes: [{ type: "NOTE", id: "operation.thanks", label: "Note", note: "Thank you" }] } },
      },
    }, { amount: "1234567.89" });
    const text = await textOf(card(id));
    // The legacy AMOUNT (no amountFormatted) in the locale; attributes without id or label dropped.
    expect("amount", await textOf(`${card(id)} [data-testid=amount]`), /1,234,567\.89\s*€/);
    if (/never shown/.test(text)) throw new Error(`an attribute without id or label is shown: ${text}`);
    expect("heading level", await (await $(`${card(id)} h4.attr-heading`)).getAttribute("data-level"), /^1$/);
    expect("conversion", text, /100\.00 € → 2,500\.00 CZK\s*· the rate may still change/);
    await click(`${card(id)} ~ .row .approve`);
    const screen = await textOf("[data-testid=pre-approval]");
    expect("INFO screen", screen, /A payment abroad[\s\S]*outside the EU[\s\S]*Check the merchant[\s\S]*Check the amount/);
    expect("type", await (await $("[data-testid=pre-approval]")).getAttribute("data-type"), /^INFO$/);
    await shot("approve-pre-info");
    await click("#pre-continue");
    await type("#approve-pin", PIN);
    await click("#approve-confirm");
    const post = await $("[data-testid=post-approval]");
    expect("REVIEW", await post.getText(), /Paid[\s\S]*went through[\s\S]*Thank you/);
    expect("type", await post.getAttribute("data-type"), /^REVIEW$/);
    await shot("approved-review");
  });

  await check("risk_flags_flip_the_buttons_warn_with_a_slider_and_block_on_call", async () => {
    const id = await fromTemplate("risky_payment", { riskFlags: "XFC" });
    await $(`${card(id)} ~ [data-testid=hint-on-call]`);
    await $(`${card(id)} ~ [data-testid=hint-flipped]`);
    const [approveX, rejectX, rejectPrimary] = await driver.executeScript(
      "const row = document.querySelector(arguments[0]).parentElement.querySelector('.decision'); const a = row.querySelector('.approve').getBoundingClientRect().left; const r = row.querySelector('.reject'); return [a, r.getBoundingClientRect().left, r.classList.contains('primary')];",
      card(id),
    );
    if (!(rejectX < approveX) || !rejectPrimary) throw new Error("the buttons are not flipped in place and style");
    await shot("risk-flags");
    await click(`${card(id)} ~ .row .approve`);
    expect("WARNING", await (await $("[data-testid=pre-approval]")).getAttribute("data-type"), /^WARNING$/);
    if ((await driver.findElements(By.css("#approve-pin"))).length) throw new Error("the PIN is asked before the warning is passed");
    await shot("approve-pre-warning-slider");
    await driver.executeScript(
      "const s = document.querySelector('#approve-slider'); s.value = 100; s.dispatchEvent(new Event('input', { bubbles: true })); s.dispatchEvent(new Event('change', { bubbles: true }));",
    );
    await type("#approve-pin", PIN);
    await click("#approve-confirm");
    await waitText("[data-testid=notice]", /^Approved/);
  });

  await check("merchant_redirect_and_generic_post_approval_screens", async () => {
    const redirect = await fromTemplate("shop_payment", {
      signatureType: ["POSSESSION"],
      ui: { postApprovalScreen: { type: "MERCHANT_REDIRECT", heading: "Thank you", message: "Back to the shop", payload: { redirectText: "Return to the shop", redirectUrl: "https://shop.example.com/return", countdown: 5 } } },
    });
    await click(`${card(redirect)} ~ .row .approve`);
    await click("#approve-1fa");
    const post = await $("[data-testid=post-approval]");
    expect("type", await post.getAttribute("data-type"), /^MERCHANT_REDIRECT$/);
    expect("redirect", await post.getText(), /Thank you[\s\S]*after 5 s/);
    await shot("approved-merchant-redirect");
    await click("#post-redirect");
    await driver.wait(async () => {
      try {
        return readFileSync(opened, "utf8").includes("https://shop.example.com/return");
      } catch {
        return false;
      }
    }, 10000, "the merchant's page was not opened");
    const generic = await fromTemplate("generic_payment", {
      signatureType: ["POSSESSION"],
      ui: { postApprovalScreen: { type: "GENERIC", heading: "Saved", message: "The bank says more:", payload: { points: 42 } } },
    });
    await click(`${card(generic)} ~ .row .approve`);
    await click("#approve-1fa");
    const genericPost = await $("[data-testid=post-approval]");
    expect("type", await genericPost.getAttribute("data-type"), /^GENERIC$/);
    expect("payload", await genericPost.getText(), /Saved[\s\S]*"points": 42/);
  });

  await check("the_message_inbox_lists_opens_and_marks_read", async () => {
    for (const subject of ["Your statement", "New card"]) {
      await cloud("/v2/inbox/messages", { userId: devices.one.user, type: "text", subject, summary: `${subject} is ready`, body: `${subject}: the body` });
    }
    await click("#nav-messages");
    await click(`#messages-device option[value="${devices.one.id}"]`);
    await click("#messages-refresh");
    await driver.wait(async () => (await driver.findElements(By.css("[data-testid=message]"))).length === 2, 10000, "the messages are not listed");
    expect("unread", await textOf("[data-testid=messages-unread]"), /^2 unread$/);
    await shot("messages");
    const first = (await driver.findElements(By.css("[data-testid=message] .message-head")))[0];
    await first.click();
    expect("body", await textOf("[data-testid=message-body]"), /: the body/);
    await waitText("[data-testid=messages-unread]", /^1 unread$/);
    await click("#messages-read-all");
    await waitText("[data-testid=messages-unread]", /^0 unread$/);
    // The server agrees: read again from the server, nothing is unread.
    await click("#messages-refresh");
    await driver.sleep(500);
    const unread = await driver.findElements(By.css('[data-testid=message][data-read="false"]'));
    if (unread.length) throw new Error(`${unread.length} messages still unread on the server`);
  });

  await check("a_pending_commit_device_says_what_the_bank_must_do_and_the_list_agrees_after_the_commit", async () => {
    const device = await activate("QA phone 3", "qa-user-3", false);
    expect("state", await textOf("#device-state"), /^PENDING_COMMIT$/);
    expect("hint", await textOf("[data-testid=pending-commit-hint]"), /bank still has to commit/);
    await shot("device-pending-commit");
    await cloud(`/v2/registrations/${device.activationId}/commit`, {});
    await click("[data-testid=pending-commit-hint] button");
    await waitText("#device-state", /^ACTIVE$/);
    await gone("[data-testid=pending-commit-hint]");
    await click("#nav-devices");
    const rows = await driver.findElements(By.css("[data-testid=device-row]"));
    for (const row of rows) {
      const text = await row.getText();
      if (text.includes("QA phone 3") && !/ACTIVE/.test(text)) throw new Error(`the list says: ${text}`);
    }
  });
}
