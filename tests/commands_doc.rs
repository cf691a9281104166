//! docs/COMMANDS.md is generated from the command table; this keeps it current.

#[test]
fn commands_md_matches_the_command_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/COMMANDS.md");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    let generated = russet::commands::table::markdown();
    assert!(
        on_disk == generated,
        "docs/COMMANDS.md is stale: regenerate it with `cargo run --release -- --commands docs/COMMANDS.md`"
    );
    assert!(generated.contains("| SET | -3 | write denyoom | 1, 1, 1 | @write @string @slow |"));
}
