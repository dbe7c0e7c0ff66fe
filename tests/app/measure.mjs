// The desktop app's start-up and memory figures (docs/benchmarks.md, "Desktop app"): in
// each of RUNS cold starts (a new app process, a fresh in-memory sandbox), the time to first
// content, then, with two devices activated through the window and IDLE_SECONDS of rest, the
// resident memory (RSS) of the app process alone and of its WebKit processes. Each figure is
// reported as the median and range over the runs, with the load average before and after.
// Run under a display and a D-Bus session:
//
//   APP=<tokensim-app binary> [RUNS=5] [IDLE_SECONDS=10] node measure.mjs
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, readFileSync, readdirSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Builder, By, Key, until } from "selenium-webdriver";
import { startTauriDriver } from "./tauri-driver.mjs";

const app = process.env.APP && resolve(process.env.APP);
if (!app) {
  console.error("set APP to the tokensim-app binary");
  process.exit(2);
}
const runs = Number(process.env.RUNS ?? 5);
const idleSeconds = Number(process.env.IDLE_SECONDS ?? 10);

// Resident memory (kB) of a process and of every descendant, by command name.
function tree(rootPid) {
  const children = new Map();
  const info = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1] ?? 0);
      info.set(Number(entry), { name, rss });
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const out = [];
  const walk = (pid) => {
    if (info.has(pid)) out.push({ pid, ...info.get(pid) });
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(rootPid);
  return out;
}

// Where a process's resident memory goes: RSS (kB) summed by mapping (a file's name, or
// [heap], [stack], anonymous), the largest first; and its thread count.
function breakdown(pid) {
  const byMapping = new Map();
  let current = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      current = header[1] || "[anonymous]";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) byMapping.set(current, (byMapping.get(current) ?? 0) + Number(rss[1]));
  }
  const threads = readdirSync(`/proc/${pid}/task`).length;
  return { threads, mappings: [...byMapping].sort((a, b) => b[1] - a[1]) };
}

// Two devices, activated through the window with codes from the sandbox's Cloud API.
async function activateTwo(driver) {
  const text = async (css) => (await driver.wait(until.elementLocated(By.css(css)), 20000)).getText();
  const show = await driver.findElements(By.xpath("//button[text()='Show']"));
  if (show.length) await show[0].click();
  const [url, user, password] = [await text("#server-url"), await text("#cloud-user"), await text("#cloud-password")];
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  for (const name of ["Bench phone 1", "Bench phone 2"]) {
    const response = await fetch(`${url}/powerauth-cloud/v2/registrations`, {
      method: "POST",
      headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
      body: JSON.stringify({ userId: name.replace(/ /g, "-"), appId: "tokensim", commitPhase: "ON_KEY_EXCHANGE" }),
    });
    const { activationQrCodeData } = await response.json();
    await (await driver.findElement(By.css("#nav-add"))).click();
    const field = async (css, value) => {
      const element = await driver.wait(until.elementLocated(By.css(css)), 20000);
      await element.clear();
      await element.sendKeys(value, Key.TAB);
    };
    await field("#code", activationQrCodeData);
    await field("#device-name", name);
    await field("#pin", "1357");
    await field("#pin-again", "1357");
    await (await driver.findElement(By.css("#activate"))).click();
    await driver.wait(until.elementLocated(By.css("[data-testid=activation-done]")), 30000);
  }
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`${app}: ${runs} runs, ${idleSeconds} s idle each; load average before: ${load()}`);
const times = [];
const appRss = [];
const webkitRss = [];
let memory = [];
let appBreakdown;
let windowSettings = "";
for (let run = 0; run < runs; run++) {
  // The app inherits tauri-driver's environment (through WebKitWebDriver): set it first, and
  // start a driver per run, so each run has its own data folder and an in-memory sandbox.
  const scratch = mkdtempSync(join(tmpdir(), "tokensim-measure-"));
  Object.assign(process.env, { TOKENSIM_STORE: "memory", TOKENSIM_SANDBOX: "memory", TOKENSIM_DATA_DIR: scratch });
  const { process: driverProcess, url: driverUrl } = await startTauriDriver({ stdio: "ignore" });
  let lastPid = 0;
  try {
    const started = Date.now();
    const driver = await new Builder()
      .usingServer(driverUrl)
      .withCapabilities({ browserName: "wry", "tauri:options": { application: app } })
      .build();
    try {
      await driver.wait(until.elementLocated(By.css("#nav-devices")), 30000);
      await (await driver.findElement(By.css("#nav-sandbox"))).click();
      await driver.wait(until.elementLocated(By.css("#server-url")), 30000);
      times.push(Date.now() - started);
      await activateTwo(driver);
      await (await driver.findElement(By.css("#nav-devices"))).click();
      await driver.sleep(idleSeconds * 1000);
      const appPid = Number(execFileSync("pgrep", ["-n", "-f", app]).toString().trim());
      lastPid = appPid;
      const environ = readFileSync(`/proc/${appPid}/environ`, "utf8").split("\0");
      if (!environ.includes("TOKENSIM_SANDBOX=memory")) {
        throw new Error("the app did not get TOKENSIM_SANDBOX=memory: it would measure a sandbox on a file");
      }
      // The window settings the app ran with (src-tauri/src/render.rs; TOKENSIM_GL=on turns them off).
      windowSettings = environ.filter((e) => /^(GDK_GL|WEBKIT_[A-Z_]+|TOKENSIM_GL)=/.test(e) && !e.startsWith("WEBKIT_INSPECTOR")).join(" ") || "none";
      memory = tree(appPid);
      const own = memory.find((p) => p.pid === appPid)?.rss ?? 0;
      appRss.push(own);
      webkitRss.push(memory.reduce((sum, p) => sum + p.rss, 0) - own);
      appBreakdown = breakdown(appPid);
      console.log(`run ${run + 1}: first content in ${times.at(-1)} ms; app process ${(own / 1024).toFixed(0)} MB, WebKit processes ${((memory.reduce((sum, p) => sum + p.rss, 0) - own) / 1024).toFixed(0)} MB`);
    } finally {
      await driver.quit();
    }
    // The next run's app would meet this one (the app is single-instance): wait until it
    // has gone, and end it if it lingers.
    for (let i = 0; i < 50 && existsSync(`/proc/${lastPid}`); i++) await new Promise((done) => setTimeout(done, 200));
    if (lastPid && existsSync(`/proc/${lastPid}`)) process.kill(lastPid);
  } finally {
    driverProcess.kill();
    rmSync(scratch, { recursive: true, force: true });
  }
}
// Median and range of a list of figures.
const summary = (values, unit, scale = 1) => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v) => `${(v / scale).toFixed(0)} ${unit}`;
  return `median ${f(sorted[Math.floor(sorted.length / 2)])} (${f(sorted[0])}–${f(sorted.at(-1))} over ${sorted.length} runs)`;
};
console.log(`cold start to first content: ${summary(times, "ms")}`);
console.log(`idle with two devices after ${idleSeconds} s: app process ${summary(appRss, "MB", 1024)} RSS (goal 150 MB); WebKit processes ${summary(webkitRss, "MB", 1024)} RSS`);
console.log(`window settings of the last run: ${windowSettings}`);
console.log("the processes of the last run:");
for (const p of memory) console.log(`  ${p.name} (${p.pid}): ${(p.rss / 1024).toFixed(0)} MB`);
if (appBreakdown) {
  console.log(`the app process of the last run by mapping (RSS), ${appBreakdown.threads} threads:`);
  for (const [name, kb] of appBreakdown.mappings.slice(0, 12)) console.log(`  ${(kb / 1024).toFixed(1).padStart(6)} MB  ${name.replace(/^.*\//, "")}`);
}
console.log(`load average after: ${load()}`);
