// End to end through the real window: tauri-driver + WebKitWebDriver drive the TokenSim app
// (embedded sandbox in memory on a random port, devices in memory, the scanner's folder
// source pointed at a scratch folder). Run under a display (xvfb-run) and a D-Bus session.
//
//   APP=<tokensim-app binary> [TAURI_DRIVER=tauri-driver] [SHOTS=<folder>] node e2e.mjs
//
// Prints one "test result:" line like cargo's, so scripts/test-report counts the checks.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Builder, By, Key, until } from "selenium-webdriver";
import { fleetChecks } from "./fleet.mjs";
import { mtokenChecks } from "./mtoken.mjs";
import { profileChecks } from "./profiles.mjs";
import { startNotifications } from "./notifications.mjs";
import { startTauriDriver } from "./tauri-driver.mjs";

const app = process.env.APP && resolve(process.env.APP);
if (!app) {
  console.error("set APP to the tokensim-app binary");
  process.exit(2);
}
const shots = resolve(process.env.SHOTS ?? "target/app-screenshots");
mkdirSync(shots, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), "tokensim-e2e-"));
const frames = join(scratch, "frames");
mkdirSync(frames);
// "Open in the browser" goes through xdg-open to the desktop's handler of http(s) URLs: here
// a script that notes the URL, registered as that handler in the test's own XDG folders.
const opened = join(scratch, "opened-urls.txt");
const browser = join(scratch, "browser.sh");
writeFileSync(browser, `#!/bin/sh\necho "$1" >> '${opened}'\n`, { mode: 0o755 });
const xdgConfig = join(scratch, "xdg-config");
const xdgData = join(scratch, "xdg-data");
mkdirSync(join(xdgData, "applications"), { recursive: true });
mkdirSync(xdgConfig, { recursive: true });
writeFileSync(
  join(xdgConfig, "mimeapps.list"),
  "[Default Applications]\nx-scheme-handler/http=tokensim-e2e-browser.desktop\nx-scheme-handler/https=tokensim-e2e-browser.desktop\n",
);
writeFileSync(
  join(xdgData, "applications", "tokensim-e2e-browser.desktop"),
  `[Desktop Entry]\nType=Application\nName=E2E browser\nExec=${browser} %u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n`,
);

// What the app inherits through tauri-driver and WebKitWebDriver.
Object.assign(process.env, {
  TOKENSIM_STORE: "memory",
  TOKENSIM_SANDBOX: "memory",
  TOKENSIM_DATA_DIR: join(scratch, "data"),
  TOKENSIM_FRAMES: frames,
  TOKENSIM_POLL_SECONDS: "2",
  BROWSER: browser,
  XDG_CONFIG_HOME: xdgConfig,
  XDG_DATA_HOME: xdgData,
});

const PIN = "1357";
const results = [];
let driver;
let tauriDriver;

async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push([name, true]);
    console.log(`test e2e::${name} ... ok (${Date.now() - started} ms)`);
  } catch (error) {
    results.push([name, false]);
    console.log(`test e2e::${name} ... FAILED\n  ${error?.stack ?? error}`);
    await shot(`failed-${name}`).catch(() => {});
    // E2E_PAUSE_ON_FAILURE=<seconds> keeps the app up to look at it (a debugger, /proc).
    if (process.env.E2E_PAUSE_ON_FAILURE) {
      console.log(`  paused ${process.env.E2E_PAUSE_ON_FAILURE} s on the failure`);
      const probe = await driver
        .executeAsyncScript(
          "const done = arguments[arguments.length - 1]; setTimeout(() => done('no answer in 5 s'), 5000); window.__TAURI_INTERNALS__.invoke('list_operations', { id: 'e2e-phone' }).then((r) => done(JSON.stringify(r).slice(0, 300)), (e) => done('error ' + JSON.stringify(e)));",
        )
        .catch((e) => `probe failed: ${e}`);
      console.log(`  list_operations now: ${probe}`);
      await driver.sleep(Number(process.env.E2E_PAUSE_ON_FAILURE) * 1000);
    }
    throw error;
  }
}

// WebKitGTK 2.50 with compositing mode off (the app's default, see src-tauri/src/render.rs)
// answers a screenshot only after the page paints again, and a page where nothing changes
// does not paint: the screenshot would never return. While one is taken, a transparent
// outline on the root moves by one pixel each frame: the page repaints, and no pixel changes.
const REPAINT_START = `const root = document.documentElement;
  window.__e2eRepaint = { outline: root.style.outline, offset: root.style.outlineOffset, frame: 0 };
  root.style.outline = "1px solid transparent";
  const tick = () => {
    root.style.outlineOffset = (window.__e2eRepaint.frame++ % 2) + "px";
    window.__e2eRepaint.request = requestAnimationFrame(tick);
  };
  tick();`;
const REPAINT_STOP = `const saved = window.__e2eRepaint;
  if (saved) {
    cancelAnimationFrame(saved.request);
    document.documentElement.style.outline = saved.outline;
    document.documentElement.style.outlineOffset = saved.offset;
    delete window.__e2eRepaint;
  }`;
async function takeScreenshot() {
  await driver.executeScript(REPAINT_START);
  try {
    return await driver.takeScreenshot();
  } finally {
    await driver.executeScript(REPAINT_STOP);
  }
}

async function shot(name) {
  // Light and dark (the root's data-theme overrides the system's preference).
  for (const theme of ["light", "dark"]) {
    await driver.executeScript("document.documentElement.dataset.theme = arguments[0]", theme);
    // Give WebKit a moment to paint the last DOM change.
    await driver.sleep(500);
    const png = await takeScreenshot();
    writeFileSync(join(shots, `${name}${theme === "dark" ? "-dark" : ""}.png`), png, "base64");
  }
  await driver.executeScript("delete document.documentElement.dataset.theme");
}

const $ = (css) => driver.wait(until.elementLocated(By.css(css)), 20000, `no ${css}`);
// The UI may replace an element between finding it and using it (a poll re-renders a list):
// find it again and retry, a few times, rather than fail on a StaleElementReferenceError.
async function fresh(action) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (error?.name !== "StaleElementReferenceError" || attempt >= 5) throw error;
      await driver.sleep(100);
    }
  }
}
async function click(css) {
  await fresh(async () => {
    const element = await $(css);
    await driver.wait(until.elementIsEnabled(element), 10000, `${css} stays disabled`);
    await element.click();
  });
}
async function type(css, text) {
  await fresh(async () => {
    const element = await $(css);
    await element.clear();
    // An empty text still goes through the keyboard, so the page sees the input event.
    await element.sendKeys(...(text ? [text] : ["x", Key.BACK_SPACE]));
  });
}
async function textOf(css) {
  return fresh(async () => (await $(css)).getText());
}
// Waits until the element's text matches (an earlier notice may still be on screen).
async function waitText(css, pattern) {
  let last = "";
  try {
    await driver.wait(async () => {
      const found = await driver.findElements(By.css(css));
      try {
        last = found.length ? await found[0].getText() : "";
      } catch (error) {
        if (error?.name === "StaleElementReferenceError") return false;
        throw error;
      }
      return pattern.test(last);
    }, 15000);
  } catch {
    throw new Error(`${css}: ${JSON.stringify(last)} does not match ${pattern}`);
  }
  return last;
}

let server;
async function cloud(path, body) {
  const auth = Buffer.from(`${server.user}:${server.password}`).toString("base64");
  const response = await fetch(`${server.url}/powerauth-cloud${path}`, {
    method: body ? "POST" : "GET",
    headers: { authorization: `Basic ${auth}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

// The sandbox's PowerAuth Server API (/rest/v3 is open on a local sandbox).
async function rest(path, request) {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ requestObject: request }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body.responseObject;
}

// A new registration from the Sandbox page; waits for its code (the page keeps the last one).
async function newRegistration(user) {
  await click("#nav-sandbox");
  const before = await driver.findElements(By.css("#reg-code"));
  const previous = before.length ? await before[0].getText() : "";
  await type("#reg-user", user);
  await click("#new-registration");
  await driver.wait(async () => {
    const found = await driver.findElements(By.css("#reg-code"));
    return found.length > 0 && (await found[0].getText()) !== previous;
  }, 15000, "no new registration");
  return textOf("#reg-code");
}

// The failed PIN attempts the server counts for an activation.
async function failedAttempts(activationId) {
  return (await rest("/rest/v3/activation/status", { activationId })).failedAttempts;
}

// Waits until the element is gone.
async function gone(css, timeout = 10000) {
  await driver.wait(async () => (await driver.findElements(By.css(css))).length === 0, timeout, `${css} is still shown`);
}

// Puts a picture on the clipboard as image/png (xclip keeps serving it in the background).
function clipboardImage(file) {
  const copied = spawnSync("xclip", ["-selection", "clipboard", "-t", "image/png", "-i", file], { stdio: ["ignore", "ignore", "ignore"], timeout: 5000 });
  if (copied.status !== 0) throw new Error(`xclip failed: ${copied.error ?? copied.status}`);
}

function clipboardText() {
  return spawnSync("xclip", ["-selection", "clipboard", "-o"], { timeout: 5000 }).stdout?.toString() ?? "";
}

// A QR code PNG of `text` (Debian's qrencode), written where the scanner's folder source looks.
function qrFile(text, file, scale = 6) {
  const made = spawnSync("qrencode", ["-o", file, "-s", String(scale), "-m", "4"], { input: text });
  if (made.status !== 0) throw new Error(`qrencode: ${made.stderr}`);
}

// The activation report's failed step and its error (title, sentence, hint).
async function failedActivation() {
  const report = "[data-testid=activation-report]";
  const error = await $(`${report} [data-testid=error]`);
  // The doctor's step is the last failed one (the exchange it diagnoses fails before it).
  const failedSteps = await driver.wait(async () => {
    const found = await driver.findElements(By.css(`${report} [data-outcome=failed] strong`));
    return found.length ? found : null;
  }, 10000, "no failed step in the activation report");
  return {
    step: await failedSteps.at(-1).getText(),
    title: await textOf(`${report} .error-title`),
    message: await textOf(`${report} .error-message`),
    hint: await textOf(`${report} [data-testid=error-hint]`),
    element: error,
  };
}

async function tryActivation(code, otp = "") {
  await click("#nav-add");
  await type("#code", code);
  await type("#pin", PIN);
  await type("#pin-again", PIN);
  await type("#otp", otp);
  await click("#activate");
  return failedActivation();
}

function expect(what, actual, pattern) {
  if (!pattern.test(actual)) throw new Error(`${what}: ${JSON.stringify(actual)} does not match ${pattern}`);
}

async function openDevice() {
  await click("#nav-devices");
  await click(".device-open");
  await $("[data-testid=device-detail]");
}

async function deviceNotice() {
  return textOf("[data-testid=device-notice]");
}

async function newPayment() {
  await click("#nav-sandbox");
  const before = await driver.findElements(By.css("#created-operation"));
  const previous = before.length ? await before[0].getText() : "";
  await click("#new-payment");
  await driver.wait(async () => {
    const found = await driver.findElements(By.css("#created-operation"));
    return found.length > 0 && (await found[0].getText()) !== previous;
  }, 15000, "no operation created");
  return textOf("#created-operation");
}

async function openInbox(operationId) {
  await click("#nav-inbox");
  const card = `article[data-operation-id="${operationId}"]`;
  await driver.wait(async () => {
    if ((await driver.findElements(By.css(card))).length) return true;
    await click("#inbox-refresh");
    await driver.sleep(500);
    return (await driver.findElements(By.css(card))).length > 0;
  }, 20000, `operation ${operationId} never reached the inbox`);
  return card;
}

// Every desktop notification the app sends, and the tray's label updates (the
// appindicator's XAyatanaNewLabel signal), as the session bus carries them.
let busLog = "";
let busMonitor;
let screenQr;

let failed = false;
let notifications;
try {
  notifications = await startNotifications();
  busMonitor = spawn("dbus-monitor", [
    "--session",
    "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
    "type='signal',member='XAyatanaNewLabel'",
  ]);
  busMonitor.stdout.on("data", (chunk) => (busLog += chunk));
  busMonitor.on("error", (e) => console.log(`  dbus-monitor: ${e.message}`));
  let driverUrl;
  ({ process: tauriDriver, url: driverUrl } = await startTauriDriver({
    stdio: ["ignore", "inherit", "inherit"],
    // The app's working folder: where WebKit saves a download (the diagnostics bundle).
    cwd: scratch,
  }));
  const startedAt = Date.now();
  driver = await new Builder()
    .usingServer(driverUrl)
    .withCapabilities({ browserName: "wry", "tauri:options": { application: app } })
    .build();

  await check("window_opens_with_the_embedded_sandbox", async () => {
    await $("#nav-sandbox");
    console.log(`  session to interactive window: ${Date.now() - startedAt} ms`);
    await click("#nav-sandbox");
    await $("#server-url");
    const showButtons = await driver.findElements(By.xpath("//button[text()='Show']"));
    if (showButtons.length) await showButtons[0].click();
    server = { url: await textOf("#server-url"), user: await textOf("#cloud-user"), password: await textOf("#cloud-password") };
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(server.url)) throw new Error(`unexpected server URL ${server.url}`);
    await cloud("/v2/registrations?userId=nobody");
  });

  // The app's default (src-tauri/src/render.rs): it started itself again with the settings that
  // keep the GL driver out of its process, and Mesa's driver (with libLLVM) is not mapped.
  await check("the_app_process_loads_no_gl_driver", async () => {
    // This run's app: the one started under this run's tauri-driver (another run may use the same binary).
    const parent = (pid) => {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    };
    const ours = (pid) => {
      for (let p = pid; p > 1; p = parent(p)) if (p === tauriDriver.pid) return true;
      return false;
    };
    const found = spawnSync("pgrep", ["-xf", app], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).map(Number).filter(ours);
    if (found.length !== 1) throw new Error(`expected one app process running ${app} under tauri-driver, found ${JSON.stringify(found)}`);
    const pid = found[0];
    const environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
    for (const setting of ["GDK_GL=disable", "WEBKIT_DISABLE_DMABUF_RENDERER=1", "WEBKIT_DISABLE_COMPOSITING_MODE=1"]) {
      if (!environ.includes(setting)) throw new Error(`the app runs without ${setting}`);
    }
    if (!environ.some((e) => e.startsWith("WEBKIT_WEB_RENDER_DEVICE_FILE=/dev/dri/renderD"))) {
      throw new Error("the app runs without WEBKIT_WEB_RENDER_DEVICE_FILE");
    }
    const gl = readFileSync(`/proc/${pid}/maps`, "utf8")
      .split("\n")
      .map((line) => line.split(/\s+/)[5] ?? "")
      .filter((file) => /libLLVM|_dri\.so|libgallium/.test(file));
    if (gl.length) throw new Error(`the app process maps the GL driver: ${[...new Set(gl)].join(", ")}`);
  });

  // E2E_ONLY=mtoken runs only the mobile-token checks (each activates its own devices);
  // E2E_ONLY=profiles only the Profiles panel's.
  const only = process.env.E2E_ONLY ?? "";
  const runs = (group) => only === "" || only === group;
  if (runs("main")) {
  await check("registration_qr_is_read_by_the_scanner", async () => {
    await type("#reg-user", "e2e-user");
    await click("#new-registration");
    const qr = await $("#reg-qr");
    const expected = await textOf("#reg-code");
    const src = await qr.getAttribute("src");
    await shot("sandbox-registration");
    writeFileSync(join(frames, "activation.png"), Buffer.from(src.replace(/^data:image\/png;base64,/, ""), "base64"));
    await click("#nav-add");
    await click("#source-folder");
    await driver.wait(async () => (await (await $("#code")).getAttribute("value")) === expected, 15000, "the scanner never read the code");
    // The preview does not stay up once the code is read.
    expect("scanner status", await textOf("[data-testid=scanner-status]"), /Read a QR code \(activation\)/);
    if ((await driver.findElements(By.css(".preview img"))).length) throw new Error("the preview of the read frame stays up");
    // The sources are one line of equal buttons, the file picker (a label) included.
    const sources = await driver.executeScript(
      "return ['#source-folder', '#paste', 'label.button:has(#qr-file)'].map((css) => { const r = document.querySelector(css).getBoundingClientRect(); return [css, r.top, r.height]; });",
    );
    for (const [css, top, height] of sources.slice(1)) {
      if (Math.abs(top - sources[0][1]) > 0.5 || Math.abs(height - sources[0][2]) > 0.5) {
        throw new Error(`${css} at ${top} px, ${height} px tall; the folder source at ${sources[0][1]} px, ${sources[0][2]} px tall`);
      }
    }
    await shot("add-device-scanned");
  });

  await check("sandbox_panel_keeps_its_qr_copies_the_code_and_opens_the_console", async () => {
    // Back from Add device: the registration and its QR are still there.
    await click("#nav-sandbox");
    const expected = await textOf("#reg-code");
    await $("#reg-qr");
    // The page opened at its top, not where Add device was scrolled to.
    const top = await driver.executeScript("return document.querySelector('.content').scrollTop");
    if (top !== 0) throw new Error(`the page opened scrolled to ${top}`);
    // The code stays inside its card.
    const [codeRight, cardRight] = await driver.executeScript(
      "const c = document.querySelector('#reg-code').getBoundingClientRect(); const k = document.querySelector('#reg-code').closest('.card').getBoundingClientRect(); return [c.right, k.right];",
    );
    if (codeRight > cardRight) throw new Error(`the code overflows its card (${codeRight} > ${cardRight})`);
    await click("#copy-code");
    await waitText("#copy-code", /Copied/);
    await driver.wait(async () => clipboardText() === expected, 5000, "the clipboard does not hold the code");
    await click("#open-console");
    await driver.wait(async () => {
      try {
        return readFileSync(opened, "utf8").includes(`${server.url}/`);
      } catch {
        return false;
      }
    }, 10000, "the console was not opened in the browser");
    if ((await driver.findElements(By.css("[data-testid=error]"))).length) throw new Error(`an error is shown: ${await textOf("[data-testid=error]")}`);
  });

  await check("destructive_actions_ask_first_and_an_empty_server_form_is_explained", async () => {
    await click("#nav-sandbox");
    await click("details summary");
    await click("#fresh-sandbox");
    expect("confirmation", await textOf("[data-testid=confirm]"), /every device activated on the current server stops working/);
    await shot("sandbox-confirm-fresh");
    await click("[data-testid=confirm] button:not(.danger)");
    await gone("[data-testid=confirm]");
    expect("server", await textOf("#server-url"), new RegExp(`^${server.url}$`));
    await click("#use-outside");
    const error = await textOf("details [data-testid=error]");
    expect("empty form", error, /Fill in the server URL and the mobileSdkConfig first\./);
    if (/format version|ends inside/.test(error)) throw new Error(`jargon for an empty form: ${error}`);
    await click("details summary");
  });

  let activationCode;
  await check("a_corrupt_code_is_explained_in_the_doctor_s_words", async () => {
    // The registration the scanner read (the Sandbox page keeps it).
    await click("#nav-sandbox");
    activationCode = await textOf("#reg-code");
    // One changed character: the CRC-16 in the code's last characters no longer matches.
    const corrupt = (activationCode.startsWith("A") ? "B" : "A") + activationCode.slice(1);
    const failure = await tryActivation(corrupt);
    expect("failed step", failure.step, /^Read the activation code$/);
    expect("title", failure.title, /The activation cannot work/);
    expect("sentence", failure.message, /checksum doesn't match: a character was mistyped or two were swapped/);
    expect("hint", failure.hint, /Check the code for typos/);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'end'})", failure.element);
    await shot("activation-corrupt-code");
    await type("#code", activationCode);
  });

  await check("activation_with_a_new_pin", async () => {
    await type("#device-name", "E2E phone");
    await type("#pin", PIN);
    await type("#pin-again", PIN);
    await click("#activate");
    const done = await $("[data-testid=activation-done]");
    const words = await done.getText();
    if (!words.includes("ACTIVE")) throw new Error(`activation said: ${words}`);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'end'})", done);
    await shot("activation-report");
    // The report stays until the tester moves on.
    await driver.sleep(3000);
    await $("[data-testid=activation-done]");
    // No step claims success for an answer that failed, and no HTTP code is in the words.
    const steps = await textOf("[data-testid=activation-report] .steps");
    if (/HTTP \d{3}/.test(steps)) throw new Error(`HTTP codes in the report: ${steps}`);
    await click("#open-new-device");
    await $("[data-testid=device-detail]");
    await shot("device");
  });

  await check("a_used_code_and_a_wrong_otp_are_refused_at_key_exchange_with_the_hint", async () => {
    const used = await tryActivation(activationCode);
    expect("failed step", used.step, /^Key exchange with the server$/);
    expect("sentence", used.message, /unknown, expired, already used, or belongs to another application/);
    expect("hint", used.hint, /sk the server for a new activation code/);
    if (/OTP/.test(used.hint)) throw new Error(`no OTP was given, yet the hint says: ${used.hint}`);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'end'})", used.element);
    await shot("activation-used-code");
    const init = await rest("/rest/v3/activation/init", {
      userId: "otp-user",
      applicationId: "tokensim",
      activationOtp: "84736",
      activationOtpValidation: "ON_KEY_EXCHANGE",
    });
    const wrongOtp = await tryActivation(`${init.activationCode}#${init.activationSignature}`, "11111");
    expect("failed step", wrongOtp.step, /^Key exchange with the server$/);
    expect("hint", wrongOtp.hint, /heck the activation OTP/);
    await type("#otp", "");
  });

  let operationId;
  let firstActivation;
  await check("an_empty_pin_never_reaches_the_server", async () => {
    await openDevice();
    firstActivation = await textOf("#device-activation-id");
    const before = await failedAttempts(firstActivation);
    operationId = await newPayment();
    const card = await openInbox(operationId);
    await click(`${card} ~ .row .approve`);
    // One focused PIN step: the field has the focus.
    const focused = await driver.executeScript("return document.activeElement && document.activeElement.id");
    if (focused !== "approve-pin") throw new Error(`the focus is on ${focused}, not the PIN field`);
    await click("#approve-confirm");
    expect("the step says why", await textOf("[data-testid=pin-missing]"), /Type the PIN first: nothing was sent/);
    await shot("approve-empty-pin");
    // Sign data with possession + PIN and no PIN, and remove on the server without one.
    await openDevice();
    await click("#sign-data");
    await click("#pin-confirm");
    await $("[data-testid=pin-missing]");
    if ((await driver.findElements(By.css("#signed-header"))).length) throw new Error("a header was made without a PIN");
    await click("#remove-device");
    await click("#remove-confirm");
    await $("[data-testid=pin-missing]");
    await click(".pin-cancel");
    const after = await failedAttempts(firstActivation);
    if (after !== before) throw new Error(`the server counted ${after - before} failed attempts for an empty PIN`);
    const registration = await cloud(`/v2/registrations/${firstActivation}`);
    if (registration.registrationStatus !== "ACTIVE") throw new Error(`the registration is ${registration.registrationStatus}`);
  });

  await check("payment_arrives_and_is_approved_with_the_pin", async () => {
    const card = await openInbox(operationId);
    const amount = await textOf(`${card} [data-testid=amount]`);
    // Formatted for the locale, not "1250.00".
    expect("amount", amount, /1,250\.00\s*(EUR|€)/);
    await shot("inbox-payment");
    await click(`${card} ~ .row .approve`);
    await type("#approve-pin", PIN);
    await shot("approve-pin");
    await click("#approve-confirm");
    const notice = await waitText("[data-testid=notice]", /^Approved/);
    expect("notice names the operation and the device", notice, /Approved: Confirm payment 1,250\.00\s*(EUR|€) on E2E phone/);
    // The badge follows at once, not one poll later, and no listing that started before the
    // approval brings it back (2.5 s: past the next poll).
    await gone("[data-testid=pending-total]", 1500);
    for (const until = Date.now() + 2500; Date.now() < until; await driver.sleep(100)) {
      if ((await driver.findElements(By.css("[data-testid=pending-total]"))).length) throw new Error("the badge came back after the approval");
    }
    await shot("approved");
  });

  await check("sandbox_reports_the_operation_approved", async () => {
    const operation = await cloud(`/v2/operations/${operationId}`);
    if (operation.status !== "APPROVED") throw new Error(`status ${operation.status}`);
  });

  await check("wrong_pin_is_refused_with_a_readable_error", async () => {
    const second = await newPayment();
    const card = await openInbox(second);
    await click(`${card} ~ .row .approve`);
    await type("#approve-pin", "9999");
    await click("#approve-confirm");
    const error = await textOf("[data-testid=error]");
    if (!/refused the signature/i.test(error) || !/attempts left/i.test(error)) throw new Error(`error shown: ${error}`);
    if (/HTTP \d{3}|ERR_/.test(error)) throw new Error(`HTTP or protocol codes in the error: ${error}`);
    // The error is beside the button, not at the top of the page.
    const [errorTop, buttonTop] = await driver.executeScript(
      "return [document.querySelector('[data-testid=error]').getBoundingClientRect().top, document.querySelector('#approve-confirm').getBoundingClientRect().top];",
    );
    if (Math.abs(errorTop - buttonTop) > 250) throw new Error(`the error is ${errorTop - buttonTop} px from the button`);
    await shot("wrong-pin");
    const operation = await cloud(`/v2/operations/${second}`);
    if (operation.status !== "PENDING") throw new Error(`after a wrong PIN the operation is ${operation.status}`);
  });

  await check("a_new_operation_raises_a_notification_and_the_tray_count", async () => {
    await driver.wait(async () => /New operation to approve/.test(busLog), 15000, "no Notify call on the session bus");
    const said = notifications.shown.map((n) => `${n.summary} | ${n.body}`).join("\n");
    expect("the notification names the operation and the device", said, /Confirm payment 1,250\.00\s*(EUR|€), E2E phone/);
    const labels = [...busLog.matchAll(/XAyatanaNewLabel[^\n]*\n\s*string "([^"]*)"/g)].map((m) => m[1]);
    if (!labels.includes("1")) throw new Error(`the tray label never showed 1 pending operation: ${JSON.stringify(labels)}`);
    const badge = await textOf("[data-testid=pending-total]");
    if (badge !== "1") throw new Error(`the window's badge shows ${badge}`);
  });

  let activationId;
  await check("offline_qr_from_the_folder_is_signed_and_the_sandbox_verifies_the_code", async () => {
    await openDevice();
    activationId = await textOf("#device-activation-id");
    // The QR's data lines: operation id, title, message, operation data, flags (B: biometry allowed).
    const data = ["7d3c1e0a-4b8f-4f7e-9a61-2c5d8e9f0a11", "Payment", "Pay 100 CZK", "A1*A100CZK*Q238400856/0300**D20190629*NOffline e2e", "B"].join("\n");
    const { offlineData } = await rest("/rest/v3/signature/offline/personalized/create", { activationId, data });
    qrFile(offlineData, join(frames, "offline.png"));
    await click("#nav-offline");
    await click("#offline-source-folder");
    await $("[data-testid=offline-preview]");
    const amount = await textOf("[data-testid=offline-preview] [data-testid=amount]");
    expect("amount", amount, /100(\.00)?\s*CZK/);
    await type("#offline-pin", PIN);
    await shot("offline-preview");
    await click("#offline-sign");
    const code = await $("[data-testid=offline-code]");
    const signature = await code.getAttribute("data-signature");
    expect("shown code", await code.getText(), /^\d{4}-\d{4}-\d{4}-\d{4}$/);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'end'})", code);
    await shot("offline-code");
    const lines = offlineData.split("\n");
    const [id, , , opData] = lines;
    const nonce = lines[lines.length - 2];
    const body = lines.length > 7 ? `${id}&${opData}&${lines[5]}` : `${id}&${opData}`;
    const b64 = (t) => Buffer.from(t).toString("base64");
    const verified = await rest("/rest/v3/signature/offline/verify", {
      activationId,
      data: `POST&${b64("/operation/authorize/offline")}&${nonce}&${b64(body)}`,
      signature,
      allowBiometry: true,
    });
    if (verified.signatureValid !== true) throw new Error(`the sandbox refused the offline code: ${JSON.stringify(verified)}`);
  });

  await check("screen_region_selection_reads_a_qr_shown_in_another_window", async () => {
    const expected = await newRegistration("screen-user");
    const png = join(scratch, "screen-qr.png");
    writeFileSync(png, Buffer.from((await (await $("#reg-qr")).getAttribute("src")).replace(/^data:image\/png;base64,/, ""), "base64"));
    // A second window, right of the app's (the screen is 1920×1080, the app 1200×700 at 0,0).
    screenQr = spawn("display", ["-geometry", "+1400+200", png], { stdio: "ignore" });
    await driver.sleep(1500);
    await click("#nav-add");
    await click("#source-screen");
    const surface = await $("[data-testid=region-surface]");
    await surface.click();
    // Keyboard only: the selection starts in the middle third (180 px of a 960 px preview, so
    // 360 px of the screen at 780,360); 30 steps right and 9 up put it over the QR window, and
    // 8 Shift+steps right and down widen it to hold the whole code with its quiet zone (a
    // registration's QR is about 400 px).
    await surface.sendKeys(...Array(30).fill(Key.ARROW_RIGHT), ...Array(9).fill(Key.ARROW_UP));
    // (Shift stays down until NULL lets the modifiers go.)
    await surface.sendKeys(Key.SHIFT, ...Array(8).fill(Key.ARROW_RIGHT), ...Array(8).fill(Key.ARROW_DOWN), Key.NULL);
    expect("selection", await textOf("[data-testid=region-size]"), /^520×520 at 1380,180$/);
    await shot("screen-region");
    await surface.sendKeys(Key.ENTER);
    await driver.wait(async () => (await (await $("#code")).getAttribute("value")) === expected, 15000, "the region scan never read the code");
  });

  await check("a_code_pasted_from_the_clipboard_fills_the_field", async () => {
    const code = "AAAAA-AAAAA-AAAAA-AAAAA#paste";
    // xclip stays in the background to serve the selection: do not wait on its output pipes.
    const copied = spawnSync("xclip", ["-selection", "clipboard"], { input: code, stdio: ["pipe", "ignore", "ignore"], timeout: 5000 });
    if (copied.status !== 0) throw new Error(`xclip failed: ${copied.error ?? copied.status}`);
    await type("#code", "");
    await (await $("#code")).sendKeys(Key.chord(Key.CONTROL, "v"));
    await driver.wait(async () => (await (await $("#code")).getAttribute("value")) === code, 5000, "Ctrl+V pasted nothing");
  });

  await check("a_qr_picture_pasted_from_the_clipboard_is_read", async () => {
    const expected = await newRegistration("paste-user");
    const png = join(scratch, "paste-qr.png");
    writeFileSync(png, Buffer.from((await (await $("#reg-qr")).getAttribute("src")).replace(/^data:image\/png;base64,/, ""), "base64"));
    clipboardImage(png);
    await click("#nav-add");
    await type("#code", "");
    await click("#paste");
    await driver.wait(async () => (await (await $("#code")).getAttribute("value")) === expected, 10000, "the pasted picture was not read");
    // A picture without a QR code: one plain sentence, no doubled text, no decoder jargon.
    const blank = join(scratch, "blank.png");
    spawnSync("convert", ["-size", "200x200", "xc:white", blank]);
    clipboardImage(blank);
    await click("#paste");
    const error = await textOf("[data-testid=error]");
    expect("no QR", error, /No QR code found in the picture\./);
    if (/ZXing|variants|\(no QR/i.test(error)) throw new Error(`jargon or doubled text: ${error}`);
    await shot("paste-no-qr");
  });

  await check("sign_data_vault_unlock_pin_change_and_a_fault", async () => {
    await openDevice();
    await type("#sign-text", '{"amount":"10"}');
    await click("#sign-data");
    await type("#device-pin", PIN);
    await click("#pin-confirm");
    expect("header", await textOf("#signed-header"), /^X-PowerAuth-Authorization: PowerAuth .*pa_activation_id="[^"]+".*pa_signature_type="possession_knowledge"/);
    await click("#unlock-vault");
    await type("#device-pin", PIN);
    await click("#pin-confirm");
    expect("vault", await deviceNotice(), /vault unlocked/);
    // A fault armed for the next call: the right PIN goes out wrong, and the server counts it.
    await click('#fault option[value="wrong-pin"]');
    expect("armed", await deviceNotice(), /Fault armed/);
    await click("#unlock-vault");
    await type("#device-pin", PIN);
    await click("#pin-confirm");
    expect("error", await textOf("[data-testid=pin-step] [data-testid=error]"), /vault did not open|refused|wrong PIN/i);
    await driver.wait(async () => /^1 failed of/.test(await textOf("#device-attempts")), 5000, "the failed attempt is not counted");
    await click(".pin-cancel");
    const NEW_PIN = "24680";
    await click("#change-pin");
    await type("#device-pin", PIN);
    await type("#device-new-pin", NEW_PIN);
    await click("#pin-confirm");
    expect("changed", await deviceNotice(), /PIN changed/);
    await click("#unlock-vault");
    await type("#device-pin", NEW_PIN);
    await click("#pin-confirm");
    expect("new PIN", await deviceNotice(), /vault unlocked/);
    await click("#unlock-vault");
    await shot("device-actions");
    await click(".pin-cancel");
  });

  await check("reject_with_a_reason_reaches_the_server", async () => {
    const payment = await newPayment();
    const card = await openInbox(payment);
    await click(`${card} ~ .row .reject`);
    await click('#reject-reason option[value="INCORRECT_DATA"]');
    await shot("reject");
    await click("#reject-confirm");
    await waitText("[data-testid=notice]", /^Rejected: Confirm payment on E2E phone \(The details are wrong\)/);
    const operation = await cloud(`/v2/operations/${payment}`);
    // The enrollment server keeps a rejection's reason in the operation's additionalData
    // (`rejectReason`), where the Cloud API's detail shows it.
    const reason = operation.additionalData?.rejectReason;
    if (operation.status !== "REJECTED" || reason !== "INCORRECT_DATA") {
      throw new Error(`the server says ${operation.status} / ${reason}`);
    }
  });

  await check("biometry_enrol_approve_invalidate_and_remove", async () => {
    // The PIN is the one the previous check changed it to.
    await openDevice();
    await click("#biometry-enroll");
    await type("#device-pin", "24680");
    await click("#pin-confirm");
    await waitText("[data-testid=device-notice]", /Biometry enrolled/);
    const first = await newPayment();
    let card = await openInbox(first);
    await click(`${card} ~ .row .approve`);
    await click("#approve-biometry");
    await waitText("[data-testid=notice]", /^Approved/);
    const approved = await cloud(`/v2/operations/${first}`);
    if (approved.status !== "APPROVED") throw new Error(`approved with biometry, the server says ${approved.status}`);
    // The OS enrollment changes: the biometry key is gone, so biometry can no longer sign.
    await openDevice();
    await click("#biometry-change");
    await waitText("[data-testid=device-notice]", /no longer works/);
    const second = await newPayment();
    card = await openInbox(second);
    await click(`${card} ~ .row .approve`);
    // No biometry offered on a device without (working) biometry.
    await $("#approve-pin");
    await driver.sleep(1000);
    if ((await driver.findElements(By.css("#approve-biometry"))).length) throw new Error("biometry is offered on a device without biometry");
    await click(".pin-cancel");
    const pending = await cloud(`/v2/operations/${second}`);
    if (pending.status !== "PENDING") throw new Error(`after the enrollment changed the operation is ${pending.status}`);
    // The device no longer counts biometry as enrolled: enrolling again takes the PIN, and
    // then the removal goes through.
    await openDevice();
    await click("#biometry-enroll");
    await type("#device-pin", "24680");
    await click("#pin-confirm");
    await waitText("[data-testid=device-notice]", /Biometry enrolled/);
    await click("#biometry-remove");
    await waitText("[data-testid=device-notice]", /Biometry removed/);
    await shot("biometry");
  });

  await check("inspector_exports_a_diagnostics_bundle_without_secrets", async () => {
    await click("#nav-inspector");
    await click("#export-diagnostics");
    // The file the user gets: WebKit saves the download in the app's working folder.
    const saved = await driver.wait(
      async () => readdirSync(scratch).find((f) => /^tokensim-diagnostics-\d+\.json$/.test(f)) ?? null,
      10000,
      "no diagnostics bundle was saved",
    );
    await driver.sleep(300);
    const text = readFileSync(join(scratch, saved), "utf8");
    const bundle = JSON.parse(text);
    if (!bundle.exchanges?.length || !bundle.devices?.length) throw new Error("the bundle has no exchanges or devices");
    if (!text.includes("activation/create")) throw new Error("the bundle lacks the activation exchange");
    for (const secret of [PIN, "24680", server.password]) {
      if (text.includes(`"${secret}"`) || text.includes(`pin=${secret}`)) throw new Error(`the bundle holds a secret: ${secret}`);
    }
  });

  await check("inspector_shows_device_and_time_newest_first_and_updates_live", async () => {
    await click("#nav-inspector");
    await $(".timeline li");
    const text = await textOf(".timeline");
    if (!text.includes("activation/create")) throw new Error("no activation exchange in the inspector");
    const devicesShown = await driver.executeScript("return [...document.querySelectorAll('[data-testid=exchange-device]')].map((e) => e.textContent.trim())");
    if (!devicesShown.includes("E2E phone")) throw new Error(`no device column naming E2E phone: ${devicesShown.slice(0, 5)}`);
    expect("time column", await textOf("[data-testid=exchange-time]"), /\d{1,2}:\d{2}:\d{2}/);
    // Newest first: the activation (one of the first exchanges) is not on top.
    expect("first row", await textOf(".timeline li"), /^(?![\s\S]*activation\/create)/);
    const rows = (await driver.findElements(By.css(".timeline li"))).length;
    // Another part of the app makes a call while the inspector is open: it shows up by itself.
    await driver.executeAsyncScript(
      "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('list_operations', { id: arguments[0] }).then(done, done);",
      "e2e-phone",
    );
    await driver.wait(async () => (await driver.findElements(By.css(".timeline li"))).length > rows, 5000, "the inspector did not update live");
    expect("newest on top", await textOf(".timeline li"), /operation\/list/);
    // The profiles' access history under the timeline is read from the server, itself an
    // exchange: reading it again for each new exchange would fill the timeline on its own.
    const reads = () =>
      driver.executeScript("return [...document.querySelectorAll('.timeline li')].filter((e) => e.textContent.includes('profile/accesses')).length");
    await driver.sleep(1000);
    const settled = await reads();
    await driver.sleep(3000);
    const later = await reads();
    if (later > settled) throw new Error(`the inspector fills up on its own: ${settled} → ${later} access-history reads in 3 s`);
    await shot("inspector");
  });

  await check("server_doctor_in_the_sandbox_panel", async () => {
    await click("#nav-sandbox");
    await click("#doctor-run");
    await waitText("#doctor-overall", /can work with it|works, with warnings/);
    const versions = await $('[data-check="protocol-versions"]');
    expect("versions", await versions.getAttribute("class"), /verdict-ok/);
    expect("application", await textOf('[data-check="application"]'), /signed a temporary key/);
    await shot("server-doctor");
  });

  await check("snapshot_timeline_restore_with_resync_diff_and_cmdtool_export", async () => {
    await openDevice();
    await type("#snapshot-name", "before-unlock");
    await click("#snapshot-save");
    await waitText("#snapshot-timeline", /before-unlock/);
    // A call the server verifies moves its counter past the snapshot's.
    await click("#unlock-vault");
    await type("#device-pin", "24680");
    await click("#pin-confirm");
    expect("vault", await deviceNotice(), /vault unlocked/);
    await click("#snapshot-timeline li button.small");
    await waitText("#snapshot-diff", /<redacted> moved 1 step forward/);
    await click("[data-testid=snapshot-restore]");
    await waitText("#restore-report", /resync/);
    const file = join(scratch, "status.json");
    await type("#cmdtool-export-path", file);
    await click("#cmdtool-export");
    await waitText("[data-testid=snapshots] ~ section .success", /mode 0600/);
    const status = JSON.parse(readFileSync(file, "utf8"));
    if (typeof status.activationId !== "string" || status.version !== 3) {
      throw new Error(`the status file is not the cmd-tool's: ${Object.keys(status)}`);
    }
    await shot("device-snapshots");
  });

  await check("rename_and_remove_on_the_server", async () => {
    await click("#nav-devices");
    await click(".device-row .rename");
    await type("#rename-input", "Renamed phone");
    await click("#rename-save");
    await driver.wait(async () => (await textOf(".device-name")) === "Renamed phone", 5000, "the new name is not listed");
    await openDevice();
    await click("#forget-device");
    expect("confirmation", await textOf("[data-testid=confirm]"), /Forget Renamed phone here\?/);
    await click("[data-testid=confirm] button:not(.danger)");
    await click("#remove-device");
    await type("#device-pin", "24680");
    await shot("remove-confirm");
    await click("#remove-confirm");
    await $("[data-testid=no-devices]");
    const registration = await cloud(`/v2/registrations/${activationId}`);
    if (registration.registrationStatus !== "REMOVED") {
      throw new Error(`after removal the server says ${JSON.stringify(registration)}`);
    }
  });

  }

  if (runs("mtoken")) await mtokenChecks({ driver, check, click, type, textOf, $, shot, cloud, rest, server, scratch, frames, qrFile, notifications, expect, waitText, gone, PIN, opened });

  if (runs("main")) await fleetChecks({ driver, check, click, type, textOf, $, shot, cloud, server, scratch });
  if (runs("profiles")) await profileChecks({ driver, check, click, type, textOf, $, shot, waitText });
} catch (error) {
  // Outside a check (the driver, the session, a group's set-up): say what stopped the run.
  console.log(`test e2e::setup ... FAILED\n  ${error?.stack ?? error}`);
  failed = true;
} finally {
  if (screenQr) screenQr.kill();
  if (busMonitor) busMonitor.kill();
  if (notifications) notifications.stop();
  if (driver) await driver.quit().catch(() => {});
  if (tauriDriver) tauriDriver.kill();
  rmSync(scratch, { recursive: true, force: true });
}

const passed = results.filter(([, ok]) => ok).length;
const failures = results.length - passed;
console.log(`test result: ${failed || failures ? "FAILED" : "ok"}. ${passed} passed; ${failures + (failed && !failures ? 1 : 0)} failed; screenshots in ${shots}`);
process.exit(failed || failures ? 1 : 0);
