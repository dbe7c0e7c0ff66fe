// The Profiles panel through the real window (issue 16): enroll a device-JWT phone on the
// app's embedded sandbox, call the vendor, the same call with the wrong-secret fault, the
// server's access history in the panel, and the exchanges in the Inspector with the bearer
// token redacted. Called by e2e.mjs with its WebDriver helpers.
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
}
