//! Vectors: the activation key schedule on both sides, the vault key wrap and the device
//! private key in the vault (Java `BigInteger` bytes).

use crate::common::{b64, cases};
use powerauth::keys::{ActivationKeys, derive_master_secret};
use powerauth::vault::{
    decrypt_device_private_key, decrypt_vault_key, derive_biometry_key_from_vault,
    encrypt_device_private_key, encrypt_vault_key,
};
use powerauth::{PrivateKey, PublicKey, SymmetricKey};

#[test]
fn vault_v3() {
    let list = cases("reference/vault-v3.json");
    let mut lengths = std::collections::BTreeSet::new();
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let server_private = PrivateKey::from_bytes(&b64(input, "serverPrivateKey")).unwrap();
        let server_public = PublicKey::from_sec1(&b64(input, "serverPublicKey")).unwrap();
        let device_private = PrivateKey::from_bytes(&b64(input, "devicePrivateKey")).unwrap();
        let device_public = PublicKey::from_sec1(&b64(input, "devicePublicKey")).unwrap();

        // Both sides of the key exchange agree on every key.
        let client_master = derive_master_secret(&device_private, &server_public);
        let server_master = derive_master_secret(&server_private, &device_public);
        assert_eq!(client_master, server_master);
        assert_eq!(
            client_master.expose_bytes().as_slice(),
            b64(output, "masterSecretKey")
        );
        let keys = ActivationKeys::derive(&client_master);
        for (field, key) in [
            ("transportKey", &keys.transport),
            ("signaturePossessionKey", &keys.possession),
            ("signatureKnowledgeKey", &keys.knowledge),
            ("signatureBiometryKey", &keys.biometry),
            ("vaultEncryptionKey", &keys.vault),
        ] {
            assert_eq!(key.expose_bytes().as_slice(), b64(output, field), "{field}");
        }

        // Server wraps the vault key; the client unwraps it.
        let wrapped = b64(output, "encryptedVaultEncryptionKey");
        assert_eq!(
            encrypt_vault_key(&keys.transport, &keys.vault).as_slice(),
            wrapped
        );
        let unwrapped = decrypt_vault_key(&keys.transport, &wrapped).unwrap();
        assert_eq!(unwrapped, keys.vault);

        // The device private key in the vault, as Java's BigInteger bytes.
        let java_bytes = b64(output, "devicePrivateKeyJavaBytes");
        assert_eq!(device_private.expose_java_bytes().as_slice(), java_bytes);
        lengths.insert(java_bytes.len());
        let stored = b64(output, "encryptedDevicePrivateKey");
        assert_eq!(
            encrypt_device_private_key(&keys.vault, &device_private),
            stored
        );
        let opened = decrypt_device_private_key(&unwrapped, &stored).unwrap();
        assert_eq!(opened.expose_bytes(), device_private.expose_bytes());

        // Adding biometry later: the same biometry key, and the vault key checks out.
        let biometry = derive_biometry_key_from_vault(&unwrapped, &stored, &server_public).unwrap();
        assert_eq!(biometry, keys.biometry);
        let wrong_vault = SymmetricKey::from_bytes([0x5A; 16]);
        assert!(derive_biometry_key_from_vault(&wrong_vault, &stored, &server_public).is_err());
    }
    assert_eq!(list.len(), 14);
    // The file covers both the 32-byte and the 33-byte (leading 0x00) Java forms.
    assert!(
        lengths.contains(&32) && lengths.contains(&33),
        "{lengths:?}"
    );
}
