// The Profiles panel through the real window (issue 16): enroll a device-JWT phone on the
// app's embedded sandbox, call the vendor, the same call with the wrong-secret fault, the
// server's access history in the panel, and the exchanges in the Inspector with the bearer
// token redacted; then a face authentication transaction: started as the bank's server,
// superseded by a newer one, captured with a live face, its callback received. Called by
// e2e.mjs with its WebDriver helpers.
import { By, Select } from "selenium-webdriver";

export async function profileChecks({ driver, check, click, type, textOf, $, shot, waitText }) {
  await check("profiles_panel_enrolls_a_jwt_phone_calls_the_vendor_and_shows_a_refusal", async () => {
    await click("#nav-profiles");
    await click("#profile-tab-jwt");
    await type("#profile-user", "e2e-jwt-user");
    await type("#profile-password", "e2e password");
    await click("#profile-enroll");
    await $("[data-testid=profile-account]");
    await click("[data-testid=profile-call]");
    await waitText("[data-testid=profile-result]", /^accepted: device .* by jwt/);
    await new Select(await $("#profile-fault")).selectByValue("wrong-secret");
    await click("[data-testid=profile-call]");
    await waitText("[data-testid=profile-result]", /jwt_invalid_signature.*required: HTTP 401 jwt_invalid_signature/);
    await waitText("[data-testid=profile-accesses]", /jwt_invalid_signature/);
    await shot("profiles-jwt");
    // The API-key tab lists its own accounts only.
    await click("#profile-tab-api-key");
    await $("[data-testid=profile-empty]");
    // The exchanges are in the Inspector, the bearer token redacted.
    await click("#nav-inspector");
    const page = await (await $(".content")).getText();
    if (!page.includes("profile/jwt/api")) throw new Error("the inspector does not list the profile's call");
    const html = await driver.findElement(By.css(".content")).getAttribute("innerHTML");
    if (/Bearer eyJ/.test(html)) throw new Error("a bearer JWT is shown in the inspector");
  });

  await check("profiles_panel_runs_a_facemap_transaction_to_its_callback", async () => {
    await click("#nav-profiles");
    await click("#profile-tab-facemap");
    await $("[data-testid=facemap-empty]");
    await type("#facemap-enrollment", "e2e-enrollment");
    await type("#facemap-user", "e2e-user");
    await click("#facemap-initiate");
    await waitText("[data-testid=facemap-state]", /^CREATED$/);
    await waitText("[data-testid=facemap-expiry]", /^expires at .*\(in 1[45] min\)$/);
    // A newer transaction for the same enrollment ends the older one EXPIRED.
    await click("#facemap-initiate");
    await waitText("[data-testid=facemap-superseded]", /^Superseded by the newer transaction [0-9a-f-]{36}$/);
    // The device shows a live matching face on the newest (listed first).
    await new Select(await $("#facemap-face")).selectByValue("live");
    await click("[data-testid=facemap-capture]");
    await waitText("[data-testid=facemap-result]", /^captured a live face: PASSED$/);
    await waitText("[data-testid=facemap-state]", /^PASSED$/);
    await waitText("[data-testid=facemap-callback]", /^Callback received: PASSED$/);
    const states = await Promise.all(
      (await driver.findElements(By.css("[data-testid=facemap-state]"))).map((e) => e.getText()),
    );
    if (states.join(",") !== "PASSED,EXPIRED") throw new Error(`states ${states}`);
    // A third one, captured with the replay fault: the capture of the finished transaction
    // again is refused, as required.
    await click("#facemap-initiate");
    await waitText("[data-testid=facemap-state]", /^CREATED$/);
    await new Select(await $("#facemap-fault")).selectByValue("replay");
    await click("[data-testid=facemap-capture]");
    await waitText("[data-testid=facemap-result]", /^captured a live face: PASSED — required: the capture accepted, the same capture .* refused with HTTP 409/);
    await new Select(await $("#facemap-fault")).selectByValue("");
    await shot("profiles-facemap");
    await click("#nav-inspector");
    const page = await (await $(".content")).getText();
    if (!page.includes("facemap/initiate")) throw new Error("the inspector does not list the initiate");
    const html = await driver.findElement(By.css(".content")).getAttribute("innerHTML");
    if (/Basic [A-Za-z0-9+/=]{8,}/.test(html)) throw new Error("Basic credentials are shown in the inspector");
  });
}
