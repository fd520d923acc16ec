//! The oracles that hold the fast paths to the slow ones, for the tests
//! and the fuzz targets (built only for them): the scanner against
//! serde_json, with every CloudTrail record read both ways.

use serde::de::DeserializeSeed;

use super::cloudtrail::{is_cloudtrail, read_record, IDENTITY};
use super::json::scanner::{document, line_document};
use super::json::{ArrayKind, ArraySink, DocumentSeed, Obj, Raw};
use super::source::Position;

/// Reads `text` as a document both ways, with the scanner and with
/// serde_json, and says how the two differ, if they do. The scanner may give
/// up where serde_json reads on; but when it reads a document, serde_json
/// must read it too, hand over the same elements, and every CloudTrail
/// record in it must come out of [`read_record`] the same whether its
/// identity was read in passing or from its text. The proptest below and
/// the `scanner` fuzz target hold the scanner to this.
pub fn disagreement(text: &str) -> Option<String> {
    let mut fast = Transcript::default();
    let (mut obj, mut scratch) = (Obj::default(), Obj::default());
    if document(text, &mut obj, &mut scratch, &mut fast, Some(&IDENTITY)).is_err() {
        return None;
    }
    fast.element(ArrayKind::Bare, u64::MAX, Ok(&obj));
    let mut slow = Transcript::default();
    let (mut obj, mut scratch) = (Obj::default(), Obj::default());
    let mut de = serde_json::Deserializer::from_str(text);
    let read = DocumentSeed {
        obj: &mut obj,
        scratch: &mut scratch,
        sink: &mut slow,
    }
    .deserialize(&mut de)
    .and_then(|kind| de.end().map(|()| kind));
    match read {
        Err(e) => return Some(format!("serde_json refuses what the scanner read: {e}")),
        Ok(Err(kind)) => return Some(format!("serde_json found {kind}, not an object")),
        Ok(Ok(())) => {}
    }
    slow.element(ArrayKind::Bare, u64::MAX, Ok(&obj));
    // Read as a line: a line the line reader takes (it streams no arrays,
    // so the document reader takes it too) must come out the same.
    let mut line = Transcript::default();
    let mut obj = Obj::default();
    if line_document(text, &mut obj, Some(&IDENTITY)).is_ok() {
        line.element(ArrayKind::Bare, u64::MAX, Ok(&obj));
        if line != slow {
            return Some(format!(
                "as a line:  {:?}\nserde_json: {:?}",
                line.0, slow.0
            ));
        }
    }
    (fast != slow).then(|| format!("scanner:    {:?}\nserde_json: {:?}", fast.0, slow.0))
}

/// What a sink was handed, written out.
#[derive(Default, PartialEq)]
struct Transcript(Vec<String>);

impl<'de> ArraySink<'de> for Transcript {
    fn element(&mut self, array: ArrayKind, index: u64, obj: Result<&Obj<'de>, &'static str>) {
        let entry = match obj {
            Err(kind) => format!("{array:?} {index}: {kind}"),
            Ok(o) => {
                let pairs: Vec<String> = o
                    .pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.get()))
                    .collect();
                let mut rows = Vec::new();
                let outcome = is_cloudtrail(o).then(|| {
                    let at = Position {
                        file: 0,
                        record: 0,
                        line: 0,
                    };
                    read_record(o, at, (None, None), &mut |row| {
                        rows.push(format!("{row:?}"));
                        0
                    })
                });
                format!(
                    "{array:?} {index}: {pairs:?} {:?} {outcome:?} {rows:?}",
                    o.duplicate
                )
            }
        };
        self.0.push(entry);
    }

    fn row(&mut self, index: u64, row: Raw<'de>) {
        self.0.push(format!("row {index}: {}", row.get()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::json::Key;

    use proptest::prelude::*;

    /// A value: mostly valid, sometimes an object written as a string or
    /// an invalid token (one in twenty).
    fn leaf() -> impl Strategy<Value = String> {
        let valid = prop::sample::select(vec![
            r#""x""#,
            r#""Role""#,
            r#""a\u0041\n""#,
            r#""ASIAEXAMPLE""#,
            r#""2025-05-14T00:00:00Z""#,
            r#""{\"type\":\"Role\",\"arn\":\"a\"}""#,
            r#""{\"sessionIssuer\":{\"arn\":\"r\"}}""#,
            "null",
            "1",
            "-0.5e3",
            "true",
            "[]",
            "{}",
            r#"[1,"2",{}]"#,
        ]);
        let invalid = prop::sample::select(vec!["tru", "01", "\"\t\"", "[1,]", r#""\q""#]);
        prop_oneof![19 => valid, 1 => invalid].prop_map(str::to_string)
    }

    /// An object of some of `keys` (repeats allowed) with values from
    /// `value`.
    fn object_of(
        keys: Vec<&'static str>,
        value: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = String> {
        prop::collection::vec((prop::sample::select(keys), value), 0..6).prop_map(|pairs| {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
    }

    /// A CloudTrail-like record whose identity nests the way the record
    /// path reads it, with every level sometimes odd.
    fn record() -> impl Strategy<Value = String> {
        let innermost = object_of(
            vec!["type", "Type", "arn", "federatedProvider", "x", r"k\u0065y"],
            leaf(),
        );
        let context = object_of(
            vec![
                "sessionIssuer",
                "webIdFederationData",
                "attributes",
                "sessionissuer",
            ],
            prop_oneof![3 => innermost, 1 => leaf()],
        );
        let identity = object_of(
            vec![
                "type",
                "arn",
                "accessKeyId",
                "principalId",
                "userName",
                "sessionContext",
                "sessioncontext",
                "x",
            ],
            prop_oneof![1 => context, 2 => leaf()],
        );
        let name = prop::sample::select(vec!["AssumeRoleWithWebIdentity", "ListBuckets"]);
        // Mostly the same keys record after record (the layout the scanner
        // predicts from), sometimes a key that only starts or ends like
        // it, an escaped spelling, or other spacing.
        let first = prop::sample::select(vec![
            "eventName",
            "eventName",
            "eventName",
            "eventNam",
            "eventNamex",
            r"event\u004eame",
            "eventSource",
        ]);
        let sep = prop::sample::select(vec![",", ",", " , ", ",\n  "]);
        (name, prop_oneof![4 => identity, 1 => leaf()], leaf(), first, sep).prop_map(
            |(name, identity, other, first, sep)| {
                format!(
                    r#"{{"{first}":"{name}"{sep}"eventSource" :"sts.amazonaws.com"{sep}"userIdentity":{identity}{sep}"tlsDetails":{other}}}"#
                )
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn scanner_and_serde_agree(records in prop::collection::vec(record(), 0..4)) {
            let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
            prop_assert_eq!(disagreement(&text), None, "{}", text);
        }
    }

    #[test]
    fn identity_read_in_passing_matches_the_text_path() {
        let identities = [
            r#"{"type":"AssumedRole","arn":"a","accessKeyId":"ASIA1","sessionContext":{"sessionIssuer":{"type":"Role","arn":"r"},"webIdFederationData":{"federatedProvider":"p"},"attributes":{}}}"#,
            r#"{"type":"AssumedRole","sessionContext":"{\"sessionIssuer\":{\"arn\":\"r\"}}"}"#,
            r#"{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"r","arn":"s"}}}"#,
            r#"{"type":"AssumedRole","sessionContext":{"sessionIssuer":7}}"#,
            r#"{"type":"AssumedRole","sessionContext":null,"type":"Role"}"#,
            r#"{"Type":"WebIdentityUser","userName":"repo:o/r:ref:refs/heads/main","identityProvider":"token.actions.githubusercontent.com"}"#,
            r#"{"type":"AssumedRole","arn":"b","accessKeyId":"ASIA2","sessionContext":{"sessionIssuer":{"type":"Role","arn":"q"},"attributes":{}}}"#,
            r#"{"type":"AssumedRole","arnx":"b","accessKeyId":"ASIA2","sessionContext":{"sessionIssuer":{"typ":"Role","arn":"q"}}}"#,
        ];
        for identity in identities {
            let text = format!(
                r#"{{"Records":[{{"eventName":"ListBuckets","eventSource":"s3.amazonaws.com","userIdentity":{identity}}}]}}"#
            );
            assert_eq!(disagreement(&text), None, "{text}");
            let mut obj = Obj::default();
            let mut scratch = Obj::default();
            assert!(document(
                &text,
                &mut obj,
                &mut scratch,
                &mut Transcript::default(),
                Some(&IDENTITY)
            )
            .is_ok());
        }
        // One after another, each twice: identities read against the
        // layout of the one before, the same and different.
        let records: Vec<String> = identities
            .iter()
            .chain(&identities)
            .flat_map(|i| [i, i])
            .map(|i| format!(r#"{{"eventName":"A","userIdentity":{i}}}"#))
            .collect();
        let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        assert_eq!(disagreement(&text), None, "{text}");
    }

    #[test]
    fn records_read_with_the_layout_of_the_one_before_match_serde() {
        let docs = [
            // The same keys, then one key changed, escaped, longer, shorter.
            r#"{"Records":[{"eventName":"A","eventSource":"s"},{"eventName":"B","eventSource":"s"}]}"#,
            r#"{"Records":[{"eventName":"A","x":1},{"eventNamex":"B","x":1},{"eventNam":"C","x":1}]}"#,
            r#"{"Records":[{"eventName":"A"},{"event\u004eame":"B"}]}"#,
            r#"{"Records":[{"eventName":"A","eventSource":"s"},{"eventSource":"s","eventName":"B"}]}"#,
            r#"{"Records":[{"eventName":"A","eventSource":"s"},{"eventName":"B"},{}, {"eventName" : "C" , "eventSource":"s"}]}"#,
        ];
        for text in docs {
            assert_eq!(disagreement(text), None, "{text}");
        }
    }

    #[test]
    fn a_line_reads_its_identity_in_passing_as_the_text_path_does() {
        let mut obj = Obj::default();
        let line = r#"{"eventName":"GetObject","userIdentity":{"type":"AssumedRole","accessKeyId":"ASIAX"}}"#;
        assert_eq!(line_document(line, &mut obj, Some(&IDENTITY)), Ok(()));
        assert!(obj.nested.is_some(), "identity read in passing");
        assert!(obj.get(Key::UserIdentity).is_some());
        assert_eq!(disagreement(line), None);
    }
}
