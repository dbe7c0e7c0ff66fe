// Drives the sandbox's web console in headless Chromium, as a tester would: log in, create
// a registration, wait for its QR code (drawn by the server) and screenshot it, wait for the
// state to change when a device activates, commit it from the table.
//
// Run by crates/sandbox/tests/console.rs, which reads the screenshot with the project's QR
// decoder and activates a simulated device with what it read. One JSON object per line on
// stdout reports each step; anything else goes to stderr.
//
// Environment: TOKENSIM_CONSOLE_URL, TOKENSIM_CONSOLE_USER, TOKENSIM_CONSOLE_PASSWORD,
// TOKENSIM_CONSOLE_SHOT (where the QR screenshot goes), TOKENSIM_CONSOLE_CALLBACK_URL (a
// receiver the console registers as the application's activation callback; its delivery log
// is read at the end), TOKENSIM_CONSOLE_CALLBACKS_SHOT (a screenshot of that log),
// CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const report = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const STEP_TIMEOUT = 30_000;

const url = env("TOKENSIM_CONSOLE_URL");
const profile = mkdtempSync(join(tmpdir(), "tokensim-console-"));
let browser;
try {
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
  page.on("console", (message) => process.stderr.write(`page console: ${message.text()}\n`));

  await page.goto(url + "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("server time"));
  await page.fill("#user", env("TOKENSIM_CONSOLE_USER"));
  await page.fill("#password", env("TOKENSIM_CONSOLE_PASSWORD"));
  await page.getByRole("button", { name: "Use", exact: true }).click();
  // The backend's callback, added from the console's Callbacks section.
  await page.fill("#cbUrl", env("TOKENSIM_CONSOLE_CALLBACK_URL"));
  await page.getByRole("button", { name: "Add callback", exact: true }).click();
  await page.locator("#cbList tr[data-callback-id]").waitFor();
  report({
    event: "callback",
    info: await page.textContent("#cbInfo"),
    listed: await page.textContent("#cbList tr[data-callback-id] .url"),
  });

  await page.fill("#regUser", "console-user");
  await page.getByRole("button", { name: "New registration", exact: true }).click();

  const qr = page.locator("#qr");
  await qr.waitFor({ state: "visible" });
  await page.waitForFunction(() => {
    const image = document.getElementById("qr");
    return image.complete && image.naturalWidth > 0;
  });
  await page.waitForFunction(() => /^\d+:\d\d$/.test(document.getElementById("countdown").textContent));
  await qr.screenshot({ path: env("TOKENSIM_CONSOLE_SHOT") });
  const registrationId = await qr.getAttribute("data-registration-id");
  report({
    event: "qr",
    registrationId,
    qrData: await page.textContent("#qrData"),
    countdown: await page.textContent("#countdown"),
    state: await page.textContent("#regState"),
    svgLink: await page.getAttribute("#qrSvg", "href"),
  });

  // The device activates now (the Rust side does it after reading the screenshot).
  await page.waitForFunction(() => document.getElementById("regState").textContent === "PENDING_COMMIT");
  report({
    event: "state",
    state: "PENDING_COMMIT",
    qrClass: await qr.getAttribute("class"),
    countdown: await page.textContent("#countdown"),
  });

  const row = page.locator(`tr[data-registration-id="${registrationId}"]`);
  await row.locator('button[data-action="commit"]').click();
  await page.waitForFunction(() => document.getElementById("regState").textContent === "ACTIVE");
  await page.waitForFunction(
    (id) => document.querySelector(`tr[data-registration-id="${id}"] .status`)?.textContent === "ACTIVE",
    registrationId,
  );
  // An active registration has nothing left to count down to.
  await page.waitForFunction(() => document.getElementById("countdown").textContent === "—");
  report({ event: "state", state: "ACTIVE", qrClass: await qr.getAttribute("class") });

  // The delivery log shows each state change delivered to the callback.
  await page.waitForFunction(() => {
    const delivered = [...document.querySelectorAll("#cbLog tr[data-event-id]")]
      .filter((row) => row.querySelector(".result")?.textContent === "HTTP 200");
    return ["CREATED", "PENDING_COMMIT", "ACTIVE"]
      .every((s) => delivered.some((row) => row.dataset.subjectStatus === s));
  });
  const rows = await page.$$eval("#cbLog tr[data-event-id]", (all) => all.map((row) => ({
    status: row.dataset.subjectStatus,
    attempt: row.querySelector(".attempt").textContent,
    url: row.querySelector(".url").textContent,
    result: row.querySelector(".result").textContent,
    eventStatus: row.querySelector(".status").textContent,
  })));
  if (process.env.TOKENSIM_CONSOLE_CALLBACKS_SHOT) {
    await page.locator("#callbacks").screenshot({ path: process.env.TOKENSIM_CONSOLE_CALLBACKS_SHOT });
  }
  report({ event: "callbacks", rows });
} catch (error) {
  // What the console itself showed helps more than the locator's complaint alone.
  const shown = await browser?.pages()[0]?.textContent("#reg").catch(() => null);
  report({ event: "error", message: String(error?.stack ?? error), console: shown });
  process.exitCode = 1;
} finally {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
}
