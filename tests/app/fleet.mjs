// The fleet panel through the real window: 10 devices against the app's embedded sandbox,
// the live chart while they run, the final report, and the sandbox's own count of the
// operations (asked here through its Cloud API, not through the app). Called by e2e.mjs
// with its WebDriver helpers.
import { readFileSync } from "node:fs";
import { By } from "selenium-webdriver";

const DEVICES = 10;
const OPERATIONS = 2;

/** Counts the sandbox's operations of users `prefix-0` … by status. */
async function sandboxCounts(cloud, prefix) {
  const counts = { created: 0, approved: 0, rejected: 0, failed: 0 };
  for (let i = 0; i < DEVICES; i++) {
    const { operations } = await cloud(`/v2/operations?userId=${encodeURIComponent(`${prefix}-${i}`)}`);
    for (const operation of operations) {
      counts.created += 1;
      if (operation.status === "APPROVED") counts.approved += 1;
      else if (operation.status === "REJECTED") counts.rejected += 1;
      else counts.failed += 1;
    }
  }
  return counts;
}

const cells = async (driver, css) => {
  const found = await driver.findElements(By.css(`${css} th, ${css} td`));
  return (await Promise.all(found.map((c) => c.getText()))).map((t) => t.trim()).filter((t) => t).join(" ");
};

export async function fleetChecks({ driver, check, click, type, textOf, $, shot, cloud, server, scratch }) {
  let prefix = "";

  await check("fleet_runs_with_a_live_chart", async () => {
    await click("#nav-fleet");
    // The form starts from `tokensim fleet`'s defaults (the fleet engine's default plan):
    // no signatures, 32 at once, knowledge keys kept unlocked (no --pbkdf2-per-signature).
    const valueOf = async (css) => (await $(css)).getAttribute("value");
    await driver.wait(async () => (await valueOf("#fleet-concurrency")) === "32", 10000, "the form did not get the command's defaults");
    const defaults = { devices: await valueOf("#fleet-devices"), signatures: await valueOf("#fleet-signatures"), operations: await valueOf("#fleet-operations") };
    if (JSON.stringify(defaults) !== JSON.stringify({ devices: "10", signatures: "0", operations: "1" })) {
      throw new Error(`the panel's defaults are not tokensim fleet's: ${JSON.stringify(defaults)}`);
    }
    if (await (await $("#fleet-pbkdf2")).isSelected()) throw new Error("PBKDF2 per signature is on by default");
    const target = await $("#fleet-target");
    await target.findElement(By.css("option[value=appServer]")).click();
    await type("#fleet-devices", String(DEVICES));
    // One at a time and 60 signatures each: the run lasts long enough for several ticks
    // (250 ms apart). With the knowledge keys kept unlocked (the default since the panel took
    // the command's defaults) 3 signatures each made a run of about half a second, which
    // could end between the test's first and second reading of the chart.
    await type("#fleet-concurrency", "1");
    await type("#fleet-operations", String(OPERATIONS));
    await type("#fleet-signatures", "60");
    await type("#fleet-reject", "0.2");
    await type("#fleet-wrong-pin", "0.1");
    await click("#fleet-v30");
    await click("#fleet-start");
    // While it runs: the chart gets ticks and the progress moves.
    const chart = "[data-testid=fleet-chart]";
    const ticksNow = async () => Number((await (await $(chart)).getAttribute("data-ticks")) ?? 0);
    await driver.wait(async () => (await ticksNow()) >= 1, 30000, "no progress tick while the fleet runs");
    const first = await ticksNow();
    await shot("fleet-running");
    await driver.wait(async () => (await ticksNow()) > first, 30000, "the chart did not update");
    await $("[data-testid=fleet-report]");
    console.log(`  the chart got ${await ticksNow()} ticks during the run`);
    const completed = await $("#fleet-completed");
    const done = `${await completed.getAttribute("data-completed")}/${await completed.getAttribute("data-total")}`;
    if (done !== `${DEVICES}/${DEVICES}`) throw new Error(`progress ends at ${done}`);
    const latencyLines = await driver.findElements(By.css(".latency polyline"));
    const names = await Promise.all(latencyLines.map((l) => l.getAttribute("data-series")));
    for (const step of ["activation", "approve", "reject"]) {
      if (!names.includes(step)) throw new Error(`no ${step} line in the chart: ${names}`);
    }
    const points = (await (await $(".throughput polyline")).getAttribute("points")).split(" ");
    if (points.length < 2) throw new Error(`the throughput line has ${points.length} point(s)`);
    const keys = await textOf("[data-testid=fleet-knowledge-keys]");
    if (keys !== "kept unlocked in memory") throw new Error(`knowledge keys: ${keys}`);
    await shot("fleet-report");
  });

  await check("fleet_report_agrees_with_the_sandbox", async () => {
    const approved = OPERATIONS * DEVICES * 0.8;
    const rejected = OPERATIONS * DEVICES - approved;
    const expected = `${OPERATIONS * DEVICES} ${approved} ${rejected} 0`;
    const fleet = await cells(driver, "[data-testid=fleet-ops]");
    if (fleet !== `fleet ${expected}`) throw new Error(`fleet counts: ${fleet}`);
    const server = await cells(driver, "[data-testid=fleet-server-ops]");
    if (server !== `server ${expected}`) throw new Error(`server counts in the report: ${server}`);
    if (!/agrees/.test(await textOf("[data-testid=fleet-agreement]"))) throw new Error("no agreement verdict");
    const wrongPin = await cells(driver, "[data-fault=wrong-pin]");
    if (!wrongPin.startsWith("wrong-pin 2 2 0")) throw new Error(`wrong-pin verdict: ${wrongPin}`);
    await $("[data-testid=fleet-no-errors]");
    // The sandbox, asked directly, counts the same.
    prefix = await textOf("#fleet-user-prefix");
    const counts = await sandboxCounts(cloud, prefix);
    const direct = `${counts.created} ${counts.approved} ${counts.rejected} ${counts.failed}`;
    if (direct !== expected) throw new Error(`the sandbox's Cloud API counts ${direct}, the report ${expected}`);
  });

  await check("fleet_report_is_saved_as_json", async () => {
    await type("#fleet-folder", scratch);
    await click("#fleet-save-json");
    const path = await textOf("#fleet-saved");
    const saved = JSON.parse(readFileSync(path, "utf8"));
    if (saved.devices !== DEVICES || saved.operations.approved !== OPERATIONS * DEVICES * 0.8) {
      throw new Error(`saved report: ${JSON.stringify(saved.operations)}`);
    }
    if (readFileSync(path, "utf8").includes(server.password)) throw new Error("the Cloud API password is in the saved report");
  });

  await check("fleet_cancel_stops_a_run_and_the_report_says_so", async () => {
    const many = 200;
    await type("#fleet-devices", String(many));
    await type("#fleet-concurrency", "1");
    // This run as the mobile SDK signs: the PIN's PBKDF2 for every PIN signature.
    await click("#fleet-pbkdf2");
    await click("#fleet-start");
    const completed = await $("#fleet-completed");
    await driver.wait(async () => Number(await completed.getAttribute("data-completed")) >= 1, 30000, "no device finished");
    await click("#fleet-cancel");
    const verdict = await textOf("[data-testid=fleet-cancelled]");
    const match = /Cancelled after (\d+) of (\d+) devices/.exec(verdict);
    if (!match || Number(match[2]) !== many || Number(match[1]) >= many) throw new Error(`cancel verdict: ${verdict}`);
    const keys = await textOf("[data-testid=fleet-knowledge-keys]");
    if (keys !== "PBKDF2 per PIN signature") throw new Error(`knowledge keys of the PBKDF2 run: ${keys}`);
    // The panel is ready for another run.
    await driver.wait(async () => (await (await $("#fleet-start")).isEnabled()), 10000, "start stays disabled after cancel");
    await shot("fleet-cancelled");
  });
}
