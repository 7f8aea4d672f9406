//! The attribute keys, in one place. Each is documented with the syntax it accepts.

/// The attribute's own name: `#[settings(...)]`.
pub const SETTINGS: &str = "settings";

/// Struct: `prefix = "APP_"`. Field, with `nested`: `prefix = "REPLICA_"`.
pub const PREFIX: &str = "prefix";
/// Struct: `crate = path::to::settings`, for a renamed dependency.
pub const CRATE: &str = "crate";

/// Field: `env = "NAME"`: the exact variable name; no prefix applies.
pub const ENV: &str = "env";
/// Field: `alias = "OLD_NAME"`, repeatable: older names that are accepted too.
pub const ALIAS: &str = "alias";
/// Field: bare `default` (`Default::default()`), `default = "text"` (parsed), `default = expr`.
pub const DEFAULT: &str = "default";
/// Field: `skip`: never read; `Default::default()`.
pub const SKIP: &str = "skip";
/// Field: `secret`: never shown, whatever the type.
pub const SECRET: &str = "secret";
/// Field: `nested`: another `#[derive(Settings)]` struct.
pub const NESTED: &str = "nested";
/// Field: `allow_reference`: a non-secret field that may hold a secret-store reference.
pub const ALLOW_REFERENCE: &str = "allow_reference";
/// Field: `delimiter = ";"`: the list separator of a `Vec<T>`.
pub const DELIMITER: &str = "delimiter";
/// Field: `parse_with = path::to::function`: a `fn(&str) -> Result<T, E>` with `E: Display`.
pub const PARSE_WITH: &str = "parse_with";

/// Keys accepted on the struct.
pub const STRUCT_KEYS: &[&str] = &[PREFIX, CRATE];
/// Keys accepted on a field.
pub const FIELD_KEYS: &[&str] = &[
    ENV,
    ALIAS,
    DEFAULT,
    SKIP,
    SECRET,
    NESTED,
    PREFIX,
    DELIMITER,
    PARSE_WITH,
    ALLOW_REFERENCE,
];
