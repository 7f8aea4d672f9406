//! AWS Signature Version 4 for JSON 1.1 `POST /` calls, pinned by the published test vectors.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::credentials::Credentials;

/// The headers to add to a signed request: `x-amz-date`, `x-amz-security-token` (with session
/// credentials) and `authorization`.
pub(crate) struct Signed {
    pub headers: Vec<(String, Zeroizing<String>)>,
}

/// The content type of the JSON 1.1 APIs (SSM, Secrets Manager).
pub(crate) const JSON_1_1: &str = "application/x-amz-json-1.1";
/// The content type of the query APIs (STS).
pub(crate) const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Signs a POST to `/`: a JSON 1.1 call (with its `x-amz-target`) or a query API call (STS).
/// `host` includes a non-default port; `amz_date` is `YYYYMMDDTHHMMSSZ`.
#[allow(clippy::too_many_arguments)] // The parts of one request, each signed.
pub(crate) fn sign(
    credentials: &Credentials,
    region: &str,
    service: &str,
    host: &str,
    content_type: &str,
    target: Option<&str>,
    body: &[u8],
    amz_date: &str,
) -> Signed {
    let date = &amz_date[..8];
    let mut headers: Vec<(&str, &str)> = vec![
        ("content-type", content_type),
        ("host", host),
        ("x-amz-date", amz_date),
    ];
    if let Some(target) = target {
        headers.push(("x-amz-target", target));
    }
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token", token.as_str()));
    }
    headers.sort_by_key(|(name, _)| *name);
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    // Both may hold the session token: built at their final size, wiped when dropped.
    let mut lines: Vec<&str> = Vec::new();
    for (name, value) in &headers {
        lines.extend([*name, ":", value.trim(), "\n"]);
    }
    let canonical_headers = crate::wiped::concat(&lines);
    let body_hash = hex(&Sha256::digest(body));
    let canonical_request = crate::wiped::concat(&[
        "POST\n/\n\n",
        &canonical_headers,
        "\n",
        &signed_headers,
        "\n",
        &body_hash,
    ]);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = crate::wiped::concat(&["AWS4", credentials.secret_access_key.as_str()]);
    let k_date = hmac(key.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );
    let mut out = vec![("x-amz-date".to_owned(), Zeroizing::new(amz_date.to_owned()))];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    out.push(("authorization".to_owned(), Zeroizing::new(authorization)));
    Signed { headers: out }
}

fn hmac(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Zeroizing::new(Vec::new()),
    };
    mac.update(data);
    Zeroizing::new(mac.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 15)] as char);
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` for a number of seconds since the Unix epoch (UTC).
pub(crate) fn amz_date(unix_seconds: u64) -> String {
    let days = unix_seconds / 86_400;
    let secs = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: Zeroizing::new(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            ),
            session_token: token.map(|t| Zeroizing::new(t.to_owned())),
        }
    }

    fn authorization(signed: &Signed) -> &str {
        &signed
            .headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1
    }

    /// The published vector for `AmazonSSM.GetParameter` (see shared/STORES.md).
    #[test]
    fn signature_matches_the_test_vector() {
        let body = br#"{"Name":"/x","WithDecryption":true}"#;
        let signed = sign(
            &example(None),
            "us-east-1",
            "ssm",
            "ssm.us-east-1.amazonaws.com",
            JSON_1_1,
            Some("AmazonSSM.GetParameter"),
            body,
            "20150830T123600Z",
        );
        assert_eq!(
            authorization(&signed),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ssm/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=a2f4e139e65ae75fb59a663fb42aa6153d8f9811c9a2caae70a782cfcc030c02"
        );
    }

    #[test]
    fn signature_with_a_session_token_matches_the_test_vector() {
        let body = br#"{"Name":"/x","WithDecryption":true}"#;
        let signed = sign(
            &example(Some("FQoGZXIvYXdzEXAMPLETOKEN==")),
            "us-east-1",
            "ssm",
            "ssm.us-east-1.amazonaws.com",
            JSON_1_1,
            Some("AmazonSSM.GetParameter"),
            body,
            "20150830T123600Z",
        );
        assert!(authorization(&signed).ends_with(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=c35a260c376f3f3972fe0b6195c517f1549475799626d0dd3a4c1a5c5cf28f9a"
        ));
        assert!(signed.headers.iter().any(
            |(n, v)| n == "x-amz-security-token" && v.as_str() == "FQoGZXIvYXdzEXAMPLETOKEN=="
        ));
    }

    #[test]
    fn dates() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
    }
}
