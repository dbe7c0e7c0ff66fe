// The Profiles panel through the real window (issue 16): enroll a device-JWT phone on the
// app's embedded sandbox, call the vendor, the same call with the wrong-secret fault, the
// server's access history in the panel, and the exchanges in the Inspector with the bearer
// token redacted; then a face authentication transaction: started as the bank's server,
// superseded by a newer one, captured with a live face, its callback received; OAuth device
// authorization and client credentials; a signed-token phone's attach, signed and forged.
// Called by e2e.mjs with its WebDriver helpers.
import { By, Select, until } from "selenium-webdriver";

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

  // OAuth 2.0 (RFC 8628) end to end in the window: a point-of-sale client registered on the
  // embedded sandbox, the device authorization started, the sandbox's verification page shown
  // inside the app (an iframe) and used as a person would (the device picked, the code filled
  // in from the link, Approve), the device's polling states until the tokens arrive, then the
  // API called with them. Then client credentials: a token, clearing the storage, and the
  // next call authenticating again.
  await check("profiles_panel_authorizes_an_oauth_device_on_the_verification_page_inside_the_app", async () => {
    await click("#nav-profiles");
    await click("#profile-tab-oauth");
    await new Select(await $("#oauth-mode")).selectByValue("device");
    await type("#oauth-device-id", "/vendor/acme/serial/e2e-1234");
    await click("#oauth-register");
    await $("[data-testid=oauth-account][data-mode=device]");
    await click("[data-testid=oauth-device-start]");
    const userCode = await textOf("[data-testid=oauth-user-code]");
    if (!/^[B-Z]{4}-[B-Z]{4}$/.test(userCode)) throw new Error(`unexpected user code ${userCode}`);
    // The device polls before anyone approved: authorization_pending.
    await driver.wait(async () => {
      const state = await (await $("[data-testid=oauth-flow-state]")).getAttribute("data-state");
      return state === "authorization_pending";
    }, 20000, "the device never polled (authorization_pending)");
    const frame = await $("#oauth-verification-page");
    await shot("profiles-oauth-device-pending");
    await driver.switchTo().frame(frame);
    try {
      await driver.wait(until.elementLocated(By.css("input[name=device_id]")), 15000, "the page lists no device");
      const listed = await driver.findElement(By.css("#devices")).getText();
      if (!listed.includes("/vendor/acme/serial/e2e-1234")) throw new Error(`the page lists ${listed}`);
      const radio = await driver.findElement(By.css("input[name=device_id][value='/vendor/acme/serial/e2e-1234']"));
      if (!(await radio.isSelected())) await radio.click();
      const typed = await driver.findElement(By.css("#user_code")).getAttribute("value");
      if (typed !== userCode) throw new Error(`the page's code field holds ${typed}, not the link's ${userCode}`);
      const approve = await driver.findElement(By.css("#approve"));
      // WebKitGTK's WebDriver misplaces a native click inside a scrolled iframe: the page's
      // own button is clicked from its script (its submit handler and fetch run as usual).
      await driver.executeScript("arguments[0].click()", approve);
      let said = "";
      await driver.wait(async () => {
        said = await driver.findElement(By.css("#result")).getAttribute("textContent");
        return /Approved: \/vendor\/acme\/serial\/e2e-1234/.test(said);
      }, 15000).catch(() => {
        throw new Error(`the page did not approve; it says: ${said}`);
      });
    } finally {
      await driver.switchTo().defaultContent();
    }
    // The next poll (at the server's 5 s interval) gets the tokens.
    await waitText("[data-testid=oauth-flow-state]", /^Approved: tokens received and stored/);
    await waitText("[data-testid=oauth-expiry]", /expires in (19|20) min .* refresh token stored/);
    await click("[data-testid=oauth-call]");
    await waitText("[data-testid=oauth-result]", /^the API accepted the token from storage/);
    await shot("profiles-oauth-device");

    // Client credentials, tokens in memory: a token, reused, then the storage cleared.
    await new Select(await $("#oauth-mode")).selectByValue("client-credentials");
    await click("#oauth-register");
    const cc = "[data-testid=oauth-account][data-mode=client-credentials]";
    await $(cc);
    await click(`${cc} [data-testid=oauth-token]`);
    await waitText(`${cc} [data-testid=oauth-result]`, /^access token by the client credentials grant/);
    await click(`${cc} [data-testid=oauth-token]`);
    await waitText(`${cc} [data-testid=oauth-result]`, /^access token from storage/);
    await click(`${cc} [data-testid=oauth-clear]`);
    await waitText(`${cc} [data-testid=oauth-expiry]`, /^no token stored/);
    await click(`${cc} [data-testid=oauth-token]`);
    await waitText(`${cc} [data-testid=oauth-result]`, /^access token by the client credentials grant/);
    // A refusal in the profile's words: the wrong client secret.
    await click(`${cc} [data-testid=oauth-clear]`);
    await new Select(await $("#oauth-fault")).selectByValue("wrong-secret");
    await click(`${cc} [data-testid=oauth-token]`);
    await waitText(`${cc} [data-testid=oauth-result]`, /invalid_client.*check the client id and secret/);
    await new Select(await $("#oauth-fault")).selectByValue("");
    // No token or secret in the window.
    const html = await driver.findElement(By.css(".content")).getAttribute("innerHTML");
    if (/client_secret|access_token"/.test(html)) throw new Error("a secret is shown in the window");
  });

  // Signed device tokens: a phone attaches its user with an HS256 token from the app server,
  // the access history says the access was signed, and a token signed with another secret
  // (the wrong-secret fault) is refused with the 401 the fault requires.
  await check("profiles_panel_attaches_with_a_signed_token_and_a_forged_one_is_refused", async () => {
    await click("#nav-profiles");
    await click("#profile-tab-signed-token");
    await type("#signed-user", "e2e-signed-user");
    await click("#signed-enroll");
    await click("[data-testid=signed-attach]");
    await waitText("[data-testid=profile-result]", /^accepted: .*\(signed\)/);
    await waitText("[data-testid=profile-accesses]", /signed-token[\s\S]*yes[\s\S]*accepted/);
    await new Select(await $("#signed-fault")).selectByValue("wrong-secret");
    await click("[data-testid=signed-attach]");
    await waitText("[data-testid=profile-result]", /required: HTTP 401/);
    const shown = await (await $("[data-testid=profile-result]")).getAttribute("class");
    if (/\bwarn\b/.test(shown)) throw new Error("the refusal the fault requires is shown as a failure");
    await driver.wait(
      async () => (await driver.findElements(By.css("[data-testid=profile-accesses] td.warn"))).length > 0,
      5000,
      "the refused access is not in the server's history",
    );
    // The event-id field and the fault select beside it are as tall as each other and share
    // their bottom line (WebKit's native select is taller than a text field of the same padding).
    const [field, select] = await driver.executeScript(
      "return ['#signed-event', '#signed-fault'].map((css) => { const r = document.querySelector(css).getBoundingClientRect(); return [r.top, r.height]; });",
    );
    if (Math.abs(field[1] - select[1]) > 0.5 || Math.abs(field[0] - select[0]) > 0.5) {
      throw new Error(`event id field at ${field[0]} px, ${field[1]} px tall; fault select at ${select[0]} px, ${select[1]} px tall`);
    }
    await shot("profiles-signed-token");
  });
}
