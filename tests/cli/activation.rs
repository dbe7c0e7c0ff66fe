//! Activation by code, by `CODE#SIGNATURE` payload and by QR image in every protocol
//! version, and the doctor's explanations of codes that cannot work.

use crate::common::{World, qr_png};
use powerauth::ProtocolVersion;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_payload_and_image_activate_in_every_version() {
    let world = World::start().await;
    let image = world.dir.path().join("qr.png");
    for version in ProtocolVersion::ALL {
        for source in ["code", "qr", "image"] {
            let user = format!("{source}-{version}");
            let (activation_id, code, signature) = world.init(&user).await;
            let payload = format!("{code}#{signature}");
            let value = match source {
                "code" => code.clone(),
                "qr" => payload.clone(),
                _ => {
                    std::fs::write(&image, qr_png(&payload, 4)).unwrap();
                    image.display().to_string()
                }
            };
            let flag = format!("--{source}");
            let out = world
                .json(&world.activate(&[
                    &flag,
                    &value,
                    "--name",
                    &user,
                    "--version",
                    version.as_str(),
                ]))
                .await;
            assert_eq!(out["activationId"], activation_id.as_str(), "{user}");
            assert_eq!(out["version"], version.as_str());
            assert_eq!(out["state"], "PENDING_COMMIT", "{user}");
            world.commit(&activation_id).await;
            let id = out["id"].as_str().unwrap();
            let status = world.json(&["--device", id, "status"]).await;
            assert_eq!(status["state"], "ACTIVE", "{user}");
            assert_eq!(status["inSync"], true, "{user}");
        }
    }
    let devices = world.json(&["devices", "list"]).await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 12);
    assert_eq!(devices["store"], "encrypted-file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_explains_bad_codes_before_sending_anything() {
    let world = World::start().await;
    let (_, code, signature) = world.init("alice").await;
    let activate = |qr: String| {
        let world = &world;
        async move {
            world
                .run(&world.activate(&["--json", "--trace", "--qr", &qr]))
                .await
        }
    };

    // A typo: the checksum catches it, nothing is sent.
    let mut typo: Vec<char> = code.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let run = activate(format!("{typo}#{signature}")).await;
    let error = run.failed(3, "activation-code");
    assert!(
        error["error"].as_str().unwrap().contains("checksum"),
        "{error}"
    );
    assert!(
        !run.stderr.contains("/pa/v3/"),
        "nothing may be sent: {}",
        run.stderr
    );

    // Another code's signature: not this application's QR code, nothing is sent.
    let (_, other_code, _) = world.init("bob").await;
    let run = activate(format!("{other_code}#{signature}")).await;
    let error = run.failed(3, "activation-signature");
    assert!(
        error["hint"].as_str().unwrap().contains("--config"),
        "{error}"
    );
    assert!(!run.stderr.contains("/pa/v3/"), "{}", run.stderr);

    // Used once, then again: the server refuses and the hint says why.
    let payload = format!("{code}#{signature}");
    activate(payload.clone()).await.ok();
    let run = activate(payload).await;
    let error = run.failed(3, "rejected");
    assert!(
        error["hint"].as_str().unwrap().contains("already used"),
        "{error}"
    );

    // A configuration that is not one.
    let run = world
        .run(&[
            "--json",
            "activate",
            "--server",
            world.url(),
            "--config",
            "bm90IGEgY29uZmln",
            "--qr",
            "AAAAA-AAAAA-AAAAA-AAAAA",
        ])
        .await;
    run.failed(2, "config");
    // Only the first activation was stored.
    let devices = world.json(&["devices"]).await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_qr_image_is_a_clear_error() {
    let world = World::start().await;
    let garbage = world.dir.path().join("garbage.png");
    std::fs::write(&garbage, b"\x89PNG\r\n\x1a\n not really a picture").unwrap();
    let blank = world.dir.path().join("blank.png");
    let mut png = std::io::Cursor::new(Vec::new());
    image::GrayImage::from_pixel(200, 200, image::Luma([255]))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    std::fs::write(&blank, png.into_inner()).unwrap();
    for (file, words) in [(&garbage, "cannot be decoded"), (&blank, "no QR code")] {
        let run = world
            .run(&world.activate(&["--json", "--image", &file.display().to_string()]))
            .await;
        let error = run.failed(1, "qr-image");
        assert!(error["error"].as_str().unwrap().contains(words), "{error}");
    }
}
