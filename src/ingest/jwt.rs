//! Raw JWTs: decoded to their claims, and verified against a JWKS when
//! `--jwks` is given.
//!
//! Only the header and payload are kept; the signature is checked and then
//! dropped, so no output can print it. Verification accepts asymmetric
//! algorithms only (RS*, PS*, ES256/ES384, EdDSA): `none` and HMAC are
//! refused, since with a public JWKS an HMAC "signature" proves nothing (the
//! classic key-confusion attack). A key's `alg` and `use`, when present, must
//! agree with the token, and a `kid` must name a key in the set.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

use super::json::Key;
use super::source::{Read, Source};
use crate::error::JwksError;
use crate::model::SkippedFile;

/// A JSON Web Key Set met among the sources: not a log. One kept beside
/// the tokens it verifies is skipped; one named as a source is a mistake
/// worth saying.
pub const KEY_SETS: Source = Source {
    name: "JSON Web Key Sets",
    sniff: |obj| obj.has(Key::Keys),
    read: |p, rec| {
        if p.ctx.explicit {
            p.error(
                rec.at.clone(),
                "a JSON Web Key Set: give it with --jwks, not as a source",
            );
        } else {
            p.out.skipped_files.push(SkippedFile {
                path: p.ctx.display.to_string(),
                reason: "a JSON Web Key Set (use it with --jwks)".into(),
            });
        }
        Read::Taken
    },
};

/// A verification key from a JWKS.
#[derive(Debug, Clone)]
pub struct Jwk {
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub usage: Option<String>,
    /// The key's validity, when the set says (`nbf`/`exp`, seconds since
    /// the epoch): a token issued outside it does not verify.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    key: KeyMaterial,
}

#[derive(Debug, Clone)]
enum KeyMaterial {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256(Vec<u8>),
    P384(Vec<u8>),
    Ed25519(Vec<u8>),
}

/// A set of verification keys.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("`{field}` is not base64url: {e}"))
}

fn jwk_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn parse_jwk(obj: &Map<String, Value>) -> Result<Jwk, String> {
    let need = |k: &str| jwk_str(obj, k).ok_or_else(|| format!("key without `{k}`"));
    let key = match need("kty")? {
        "RSA" => KeyMaterial::Rsa {
            n: b64("n", need("n")?)?,
            e: b64("e", need("e")?)?,
        },
        "EC" => {
            let (x, y) = (b64("x", need("x")?)?, b64("y", need("y")?)?);
            let mut point = vec![0x04];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            match need("crv")? {
                "P-256" => KeyMaterial::P256(point),
                "P-384" => KeyMaterial::P384(point),
                other => return Err(format!("unsupported EC curve {other}")),
            }
        }
        "OKP" => match need("crv")? {
            "Ed25519" => KeyMaterial::Ed25519(b64("x", need("x")?)?),
            other => return Err(format!("unsupported OKP curve {other}")),
        },
        "oct" => return Err("symmetric (`oct`) keys cannot verify CI tokens".into()),
        other => return Err(format!("unsupported key type {other}")),
    };
    Ok(Jwk {
        kid: jwk_str(obj, "kid").map(str::to_string),
        alg: jwk_str(obj, "alg").map(str::to_string),
        usage: jwk_str(obj, "use").map(str::to_string),
        not_before: obj.get("nbf").and_then(Value::as_i64),
        not_after: obj.get("exp").and_then(Value::as_i64),
        key,
    })
}

impl Jwks {
    /// Reads `{"keys":[...]}`, a bare array of keys, or a single key.
    pub fn parse(path: &str, text: &str) -> Result<Jwks, JwksError> {
        let err = |reason: String| JwksError {
            path: path.to_string(),
            reason,
        };
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
        let items: Vec<Value> = match value {
            Value::Object(mut o) if o.contains_key("keys") => match o.remove("keys") {
                Some(Value::Array(a)) => a,
                _ => return Err(err("`keys` should be an array".into())),
            },
            Value::Object(o) => vec![Value::Object(o)],
            Value::Array(a) => a,
            _ => return Err(err("expected a JWKS object".into())),
        };
        let mut keys = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let obj = item
                .as_object()
                .ok_or_else(|| err(format!("key {i} is not an object")))?;
            keys.push(parse_jwk(obj).map_err(|r| err(format!("key {i}: {r}")))?);
        }
        if keys.is_empty() {
            return Err(err("the key set is empty".into()));
        }
        Ok(Jwks { keys })
    }

    pub fn load(path: &str) -> Result<Jwks, JwksError> {
        let text = std::fs::read_to_string(path).map_err(|e| JwksError {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        Jwks::parse(path, &text)
    }

    /// Checks `signature` over `signing_input` with the key the header
    /// names. Returns the reason on failure.
    /// `issued_at` is the token's `iat` (seconds), which must fall in the
    /// key's validity.
    fn verify(
        &self,
        header: &Map<String, Value>,
        signing_input: &[u8],
        sig: &[u8],
        issued_at: Option<i64>,
    ) -> Result<(), String> {
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or("the header has no `alg`")?;
        if alg.eq_ignore_ascii_case("none") {
            return Err("alg `none` is refused: an unsigned token proves nothing".into());
        }
        if alg.starts_with("HS") {
            return Err(format!(
                "alg `{alg}` is refused: HMAC with a public key set is the key-confusion attack"
            ));
        }
        // RFC 7515 4.1.11: extensions marked critical must be understood,
        // and rolecall implements none.
        if let Some(crit) = header.get("crit") {
            let names: Vec<&str> = crit
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            return Err(format!(
                "the header marks extensions critical (`crit`: {}) that rolecall does not implement: refused",
                if names.is_empty() {
                    "not a list of names".to_string()
                } else {
                    names.join(", ")
                }
            ));
        }
        let kid = header.get("kid").and_then(Value::as_str);
        let candidates: Vec<&Jwk> = match kid {
            Some(kid) => {
                let found: Vec<&Jwk> = self
                    .keys
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid))
                    .collect();
                if found.is_empty() {
                    return Err(format!("no key with kid `{kid}` in the key set"));
                }
                found
            }
            None => self.keys.iter().collect(),
        };
        let mut last = format!("no key in the set can verify alg `{alg}`");
        for key in candidates {
            if key.usage.as_deref().is_some_and(|u| u != "sig") {
                last = "the key is not a signing key (`use` is not `sig`)".into();
                continue;
            }
            let when = issued_at.unwrap_or_else(|| chrono::Utc::now().timestamp());
            if let Some(end) = key.not_after.filter(|&end| when > end) {
                last = format!(
                    "the key{} expired at {} (exp), before the token was issued",
                    key.kid
                        .as_deref()
                        .map(|k| format!(" `{k}`"))
                        .unwrap_or_default(),
                    chrono::DateTime::from_timestamp(end, 0)
                        .map(|d| d.to_rfc3339())
                        .unwrap_or_else(|| end.to_string())
                );
                continue;
            }
            if key.not_before.is_some_and(|start| when < start) {
                last = "the key was not valid yet (nbf) when the token was issued".into();
                continue;
            }
            if key.alg.as_deref().is_some_and(|a| a != alg) {
                last = format!(
                    "the key is for alg `{}`, the token says `{alg}`",
                    key.alg.as_deref().unwrap_or("")
                );
                continue;
            }
            let outcome = match (&key.key, alg) {
                (
                    KeyMaterial::Rsa { n, e },
                    "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512",
                ) => {
                    let params: &signature::RsaParameters = match alg {
                        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                        "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                        "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                        "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                        _ => &signature::RSA_PSS_2048_8192_SHA512,
                    };
                    RsaPublicKeyComponents { n, e }.verify(params, signing_input, sig)
                }
                (KeyMaterial::P256(point), "ES256") => {
                    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                        .verify(signing_input, sig)
                }
                (KeyMaterial::P384(point), "ES384") => {
                    UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                        .verify(signing_input, sig)
                }
                (KeyMaterial::Ed25519(x), "EdDSA" | "Ed25519") => {
                    UnparsedPublicKey::new(&signature::ED25519, x).verify(signing_input, sig)
                }
                _ => {
                    last = format!("the key type does not fit alg `{alg}`");
                    continue;
                }
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(_) => last = "the signature does not match the key".into(),
            }
        }
        Err(last)
    }
}

/// True when a line looks like a compact JWS (three base64url parts).
pub fn looks_like_jwt(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("eyJ") && s.matches('.').count() == 2
}

/// A decoded token: its claims and, when a key set was given, whether the
/// signature checked out (and why not).
pub struct Decoded {
    pub claims: Map<String, Value>,
    pub verified: Option<bool>,
    pub verify_error: Option<String>,
}

/// Decodes a compact JWT and verifies it when `jwks` is given. Fails only
/// when the token cannot be read at all.
pub fn decode(token: &str, jwks: Option<&Jwks>) -> Result<Decoded, String> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("a JWT has three dot-separated parts".into());
    };
    let header_bytes = b64("header", h)?;
    let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|e| format!("the JWT header is not a JSON object: {e}"))?;
    let payload = b64("payload", p)?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload)
        .map_err(|e| format!("the JWT payload is not a JSON object: {e}"))?;
    let (verified, verify_error) = match jwks {
        None => (None, None),
        Some(set) => {
            let signing_input = &token.as_bytes()[..h.len() + 1 + p.len()];
            let iat = claims.get("iat").and_then(Value::as_i64);
            let outcome =
                b64("signature", s).and_then(|sig| set.verify(&header, signing_input, &sig, iat));
            match outcome {
                Ok(()) => (Some(true), None),
                Err(reason) => (Some(false), Some(reason)),
            }
        }
    };
    Ok(Decoded {
        claims,
        verified,
        verify_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    };

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn claims() -> Value {
        serde_json::json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:a/b:ref:refs/heads/main", "aud": "sts.amazonaws.com"})
    }

    fn ed25519_token(kid: &str) -> (String, Jwks) {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let head = enc(&serde_json::json!({"alg": "EdDSA", "kid": kid}));
        let input = format!("{head}.{}", enc(&claims()));
        let sig = URL_SAFE_NO_PAD.encode(pair.sign(input.as_bytes()).as_ref());
        let jwks = Jwks::parse(
            "t",
            &serde_json::json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())}]})
            .to_string(),
        )
        .unwrap();
        (format!("{input}.{sig}"), jwks)
    }

    #[test]
    fn decodes_without_a_key_set() {
        let t = format!(
            "{}.{}.c2ln",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(&claims())
        );
        let d = decode(&t, None).unwrap();
        assert_eq!(d.verified, None);
        assert_eq!(d.claims["sub"], "repo:a/b:ref:refs/heads/main");
    }

    #[test]
    fn verifies_ed25519_and_rejects_tampering() {
        let (token, jwks) = ed25519_token("k1");
        assert_eq!(decode(&token, Some(&jwks)).unwrap().verified, Some(true));
        let mut forged = claims();
        forged["sub"] = "repo:evil/x:ref:refs/heads/main".into();
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], enc(&forged), parts[2]);
        let d = decode(&tampered, Some(&jwks)).unwrap();
        assert_eq!(d.verified, Some(false));
        assert_eq!(
            d.verify_error.as_deref(),
            Some("the signature does not match the key")
        );
    }

    #[test]
    fn verifies_es256() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = pair.public_key().as_ref();
        let (x, y) = (&public[1..33], &public[33..65]);
        let head = enc(&serde_json::json!({"alg": "ES256", "kid": "e1"}));
        let input = format!("{head}.{}", enc(&claims()));
        let sig = URL_SAFE_NO_PAD.encode(pair.sign(&rng, input.as_bytes()).unwrap().as_ref());
        let jwks = Jwks::parse(
            "t",
            &serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "e1", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)}]})
            .to_string(),
        )
        .unwrap();
        assert_eq!(
            decode(&format!("{input}.{sig}"), Some(&jwks))
                .unwrap()
                .verified,
            Some(true)
        );
    }

    #[test]
    fn refuses_a_key_that_expired_before_the_token() {
        let (token, mut jwks) = ed25519_token("k1");
        assert_eq!(decode(&token, Some(&jwks)).unwrap().verified, Some(true));
        jwks.keys[0].not_after = Some(1_000_000);
        let d = decode(&token, Some(&jwks)).unwrap();
        assert_eq!(d.verified, Some(false));
        assert!(
            d.verify_error
                .as_deref()
                .unwrap()
                .contains("expired at 1970-01-12"),
            "{:?}",
            d.verify_error
        );
        jwks.keys[0].not_after = None;
        jwks.keys[0].not_before = Some(i64::MAX);
        assert_eq!(decode(&token, Some(&jwks)).unwrap().verified, Some(false));
    }

    #[test]
    fn refuses_none_hmac_and_unknown_kid() {
        let (_, jwks) = ed25519_token("k1");
        let body = enc(&claims());
        let none = format!("{}.{body}.", enc(&serde_json::json!({"alg": "none"})));
        let d = decode(&none, Some(&jwks)).unwrap();
        assert!(d.verify_error.unwrap().contains("`none` is refused"));
        let hs = format!(
            "{}.{body}.c2ln",
            enc(&serde_json::json!({"alg": "HS256", "kid": "k1"}))
        );
        assert!(decode(&hs, Some(&jwks))
            .unwrap()
            .verify_error
            .unwrap()
            .contains("key-confusion"));
        let other = format!(
            "{}.{body}.c2ln",
            enc(&serde_json::json!({"alg": "EdDSA", "kid": "k9"}))
        );
        assert_eq!(
            decode(&other, Some(&jwks)).unwrap().verify_error.as_deref(),
            Some("no key with kid `k9` in the key set")
        );
    }

    /// A test RSA key (tests/data/jwks) and its public half as a JWK.
    fn rsa_key(file: &str, kid: &str, alg: Option<&str>, usage: &str) -> (RsaKeyPair, Value) {
        let der = std::fs::read(format!(
            "{}/tests/data/jwks/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let pair = RsaKeyPair::from_der(&der).unwrap();
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let mut jwk = serde_json::json!({"kty": "RSA", "kid": kid, "use": usage,
            "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e)});
        if let Some(alg) = alg {
            jwk["alg"] = alg.into();
        }
        (pair, jwk)
    }

    fn rsa_token(pair: &RsaKeyPair, header: Value) -> String {
        let alg = header["alg"].as_str().unwrap().to_string();
        let input = format!("{}.{}", enc(&header), enc(&claims()));
        let padding: &dyn signature::RsaEncoding = match alg.as_str() {
            "PS256" => &signature::RSA_PSS_SHA256,
            _ => &signature::RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(padding, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn set(keys: &[&Value]) -> Jwks {
        Jwks::parse("t", &serde_json::json!({ "keys": keys }).to_string()).unwrap()
    }

    #[test]
    fn verifies_rs256_and_ps256_as_github_and_gitlab_sign() {
        let (pair, jwk) = rsa_key("rsa-2048-test.der", "gh", Some("RS256"), "sig");
        let token = rsa_token(
            &pair,
            serde_json::json!({"alg": "RS256", "kid": "gh", "typ": "JWT"}),
        );
        let d = decode(&token, Some(&set(&[&jwk]))).unwrap();
        assert_eq!((d.verified, d.verify_error), (Some(true), None));
        // PS256 with a key that names no alg.
        let (pair, jwk) = rsa_key("rsa-2048-test.der", "gl", None, "sig");
        let token = rsa_token(&pair, serde_json::json!({"alg": "PS256", "kid": "gl"}));
        let d = decode(&token, Some(&set(&[&jwk]))).unwrap();
        assert_eq!((d.verified, d.verify_error), (Some(true), None));
        // A tampered payload fails.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged =
            enc(&serde_json::json!({"iss": "x", "sub": "repo:evil/x:ref:refs/heads/main"}));
        parts[1] = &forged;
        let d = decode(&parts.join("."), Some(&set(&[&jwk]))).unwrap();
        assert_eq!(d.verified, Some(false));
    }

    #[test]
    fn refuses_a_wrong_rsa_key_a_mismatched_alg_or_kty_an_encryption_key_and_crit() {
        let (pair, _) = rsa_key("rsa-2048-test.der", "k", Some("RS256"), "sig");
        let (_, other) = rsa_key("rsa-2048-other.der", "k", Some("RS256"), "sig");
        let header = serde_json::json!({"alg": "RS256", "kid": "k"});
        let token = rsa_token(&pair, header.clone());
        let why = |jwks: &Jwks, t: &str| decode(t, Some(jwks)).unwrap().verify_error.unwrap();
        // Signed by another key.
        assert_eq!(
            why(&set(&[&other]), &token),
            "the signature does not match the key"
        );
        // The key is for PS256; the token says RS256.
        let (_, ps_only) = rsa_key("rsa-2048-test.der", "k", Some("PS256"), "sig");
        assert!(why(&set(&[&ps_only]), &token).contains("the key is for alg `PS256`"));
        // alg RS256 against an EC key of the same kid.
        let ec = serde_json::json!({"kty": "EC", "crv": "P-256", "kid": "k",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(why(&set(&[&ec]), &token).contains("the key type does not fit alg `RS256`"));
        // An encryption key never verifies a signature.
        let (_, enc_key) = rsa_key("rsa-2048-test.der", "k", Some("RS256"), "enc");
        assert!(why(&set(&[&enc_key]), &token).contains("not a signing key"));
        // An unknown critical header extension is refused, even with the
        // right key.
        let (_, good) = rsa_key("rsa-2048-test.der", "k", Some("RS256"), "sig");
        let crit = rsa_token(
            &pair,
            serde_json::json!({"alg": "RS256", "kid": "k", "crit": ["exp-ext"], "exp-ext": 1}),
        );
        assert!(
            why(&set(&[&good]), &crit).contains("`crit`: exp-ext"),
            "{}",
            why(&set(&[&good]), &crit)
        );
        assert_eq!(
            decode(&token, Some(&set(&[&good]))).unwrap().verified,
            Some(true)
        );
    }

    #[test]
    fn unreadable_tokens_and_key_sets() {
        assert!(decode("eyJ.only", None).is_err());
        assert!(decode("eyJhbGciOiJSUzI1NiJ9.!!!.x", None).is_err());
        assert!(Jwks::parse("k.json", "{\"keys\": []}").is_err());
        assert!(
            Jwks::parse("k.json", r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
                .unwrap_err()
                .to_string()
                .contains("symmetric")
        );
        assert!(looks_like_jwt("eyJa.eyJb.c"));
        assert!(!looks_like_jwt("{\"a\":1}"));
    }
}
