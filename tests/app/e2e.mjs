// End to end through the real window: tauri-driver + WebKitWebDriver drive the TokenSim app
// (embedded sandbox in memory on a random port, devices in memory, the scanner's folder
// source pointed at a scratch folder). Run under a display (xvfb-run) and a D-Bus session.
//
//   APP=<tokensim-app binary> [TAURI_DRIVER=tauri-driver] [SHOTS=<folder>] node e2e.mjs
//
// Prints one "test result:" line like cargo's, so scripts/test-report counts the checks.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import net from "node:net";
import { Builder, By, until } from "selenium-webdriver";
import { fleetChecks } from "./fleet.mjs";

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

// What the app inherits through tauri-driver and WebKitWebDriver.
Object.assign(process.env, {
  TOKENSIM_STORE: "memory",
  TOKENSIM_SANDBOX: "memory",
  TOKENSIM_DATA_DIR: join(scratch, "data"),
  TOKENSIM_FRAMES: frames,
  TOKENSIM_POLL_SECONDS: "2",
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
    throw error;
  }
}

async function shot(name) {
  // Give WebKit a moment to paint the last DOM change.
  await driver.sleep(700);
  const png = await driver.takeScreenshot();
  writeFileSync(join(shots, `${name}.png`), png, "base64");
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolvePort, reject) => {
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        resolvePort();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`tauri-driver did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

const $ = (css) => driver.wait(until.elementLocated(By.css(css)), 20000, `no ${css}`);
async function click(css) {
  const element = await $(css);
  await driver.wait(until.elementIsEnabled(element), 10000, `${css} stays disabled`);
  await element.click();
}
async function type(css, text) {
  const element = await $(css);
  await element.clear();
  await element.sendKeys(text);
}
async function textOf(css) {
  return (await $(css)).getText();
}

let server;
async function cloud(path) {
  const auth = Buffer.from(`${server.user}:${server.password}`).toString("base64");
  const response = await fetch(`${server.url}/powerauth-cloud${path}`, { headers: { authorization: `Basic ${auth}` } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
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
  const card = `[data-operation-id="${operationId}"]`;
  await driver.wait(async () => {
    if ((await driver.findElements(By.css(card))).length) return true;
    await click("#inbox-refresh");
    await driver.sleep(500);
    return (await driver.findElements(By.css(card))).length > 0;
  }, 20000, `operation ${operationId} never reached the inbox`);
  return card;
}

let failed = false;
try {
  tauriDriver = spawn(process.env.TAURI_DRIVER ?? "tauri-driver", ["--port", "4444"], { stdio: ["ignore", "inherit", "inherit"] });
  await waitForPort(4444, 15000);
  const startedAt = Date.now();
  driver = await new Builder()
    .usingServer("http://127.0.0.1:4444/")
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
    await shot("add-device-scanned");
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
    await $("[data-testid=device-detail]");
    await shot("device");
  });

  let operationId;
  await check("payment_arrives_and_is_approved_with_the_pin", async () => {
    operationId = await newPayment();
    const card = await openInbox(operationId);
    const amount = await textOf(`${card} [data-testid=amount]`);
    if (!amount.includes("1250.00")) throw new Error(`amount shown: ${amount}`);
    await shot("inbox-payment");
    await click(`${card} ~ .row .approve`);
    await type("#approve-pin", PIN);
    await shot("approve-pin");
    await click("#approve-confirm");
    const notice = await textOf("[data-testid=notice]");
    if (!notice.startsWith("Approved")) throw new Error(`notice: ${notice}`);
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
    await shot("wrong-pin");
    const operation = await cloud(`/v2/operations/${second}`);
    if (operation.status !== "PENDING") throw new Error(`after a wrong PIN the operation is ${operation.status}`);
  });

  await check("inspector_shows_the_exchanges_without_secrets", async () => {
    await click("#nav-inspector");
    await $(".timeline li");
    const text = await textOf(".timeline");
    if (!text.includes("activation/create")) throw new Error("no activation exchange in the inspector");
    await shot("inspector");
  });

  await fleetChecks({ driver, check, click, type, textOf, $, shot, cloud, server, scratch });
} catch {
  failed = true;
} finally {
  if (driver) await driver.quit().catch(() => {});
  if (tauriDriver) tauriDriver.kill();
  rmSync(scratch, { recursive: true, force: true });
}

const passed = results.filter(([, ok]) => ok).length;
const failures = results.length - passed;
console.log(`test result: ${failed || failures ? "FAILED" : "ok"}. ${passed} passed; ${failures + (failed && !failures ? 1 : 0)} failed; screenshots in ${shots}`);
process.exit(failed || failures ? 1 : 0);
