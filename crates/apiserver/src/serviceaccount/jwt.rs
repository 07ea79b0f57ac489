//! Compact JWS tokens signed with ES256 (ECDSA P-256, SHA-256), the signature kube-apiserver
//! makes with an EC `--service-account-signing-key-file`, and the key as a JWK.

use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The DER of a P-256 SubjectPublicKeyInfo up to the key's point: kube names keys by the
/// SHA-256 of the whole SPKI.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The key tokens are signed with.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    /// kube's key id: base64url of the SHA-256 of the public key's SPKI DER.
    pub kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish()
    }
}

impl SigningKey {
    /// Reads a PEM PKCS#8 P-256 private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|e| anyhow::anyhow!("the service account signing key is not PEM: {e}"))?;
        if block.label != "PRIVATE KEY" {
            anyhow::bail!(
                "the service account signing key is a {:?} block; an ECDSA P-256 key in PKCS#8 (\"PRIVATE KEY\") is needed",
                block.label
            );
        }
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &block.contents,
            &SystemRandom::new(),
        )
        .map_err(|e| anyhow::anyhow!("the service account signing key is not an ECDSA P-256 key: {e}"))?;
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let kid = B64.encode(Sha256::digest(&spki));
        Ok(SigningKey { pair, kid })
    }

    /// The key in `path`, created there first when missing (a server run without
    /// `--service-account-signing-key-file` keeps its key in `--cert-dir`).
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
            }
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
            std::fs::write(path, key.serialize_pem()).with_context(|| format!("failed to write {}", path.display()))?;
        }
        let pem = std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))?;
        Self::from_pem(&pem)
    }

    /// `header.claims.signature`, the header naming the algorithm and this key.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let header = json!({"alg": "ES256", "kid": self.kid});
        let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(format!("{signing_input}.{}", B64.encode(signature.as_ref())))
    }

    /// The claims of `token` when this key signed it; `None` for anything else (another key,
    /// another algorithm, a tampered or malformed token).
    pub fn verify(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
        if header["alg"] != "ES256" || header.get("kid").is_some_and(|k| *k != self.kid) {
            return None;
        }
        let public = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, self.pair.public_key().as_ref());
        let signing_input = &token[..header_and_claims_len(token)?];
        public.verify(signing_input.as_bytes(), &B64.decode(signature).ok()?).ok()?;
        serde_json::from_slice(&B64.decode(claims).ok()?).ok()
    }

    /// The public key as a JWK, for `/openid/v1/jwks`.
    pub fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({
            "use": "sig",
            "kty": "EC",
            "kid": self.kid,
            "crv": "P-256",
            "alg": "ES256",
            "x": B64.encode(&point[1..33]),
            "y": B64.encode(&point[33..65]),
        })
    }
}

/// Where the signature starts: after the second dot.
fn header_and_claims_len(token: &str) -> Option<usize> {
    let first = token.find('.')?;
    let second = token[first + 1..].find('.')?;
    Some(first + 1 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap().serialize_pem();
        SigningKey::from_pem(&pem).unwrap()
    }

    #[test]
    fn signed_claims_verify_and_anything_else_does_not() {
        let key = key();
        let token = key.sign(&json!({"sub": "system:serviceaccount:default:robot"})).unwrap();
        assert_eq!(key.verify(&token).unwrap()["sub"], "system:serviceaccount:default:robot");
        let other = self::key();
        assert!(other.verify(&token).is_none(), "another key's token");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64.encode(json!({"sub": "system:serviceaccount:kube-system:admin"}).to_string());
        parts[1] = &forged;
        assert!(key.verify(&parts.join(".")).is_none(), "changed claims");
        assert!(key.verify("a.b").is_none() && key.verify("").is_none() && key.verify("x.y.z.w").is_none());
        let none_alg = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode("{}"));
        assert!(key.verify(&none_alg).is_none(), "alg none");
        assert_eq!(key.jwk()["kid"], key.kid);
        assert!(SigningKey::from_pem("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n").is_err());
    }
}
