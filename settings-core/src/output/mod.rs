//! What a load gives back besides the struct: the error, the start-up report, the docs, and the
//! redaction that keeps secrets out of all three.

pub mod docs;
pub mod error;
pub mod redact;
pub mod report;
