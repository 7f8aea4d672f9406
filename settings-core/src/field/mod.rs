//! How a field reads its value: the context the generated code drives, the coercers it picks,
//! and the parsing of one raw string.

pub mod coerce;
pub(crate) mod context;
pub mod parse;
