//! Parsing scenario files (format: tests/scenarios/README.md).

use super::compare::Mode;

/// One command to send to both servers.
#[derive(Debug, Clone)]
pub struct Step {
    /// `file:line` or a description, for reports.
    pub location: String,
    /// Run only in this protocol (2 or 3), or in both.
    pub proto: Option<u8>,
    pub mode: Mode,
    pub args: Vec<Vec<u8>>,
}

/// A case: commands run on a fresh connection after FLUSHALL.
#[derive(Debug, Clone)]
pub struct Case {
    pub steps: Vec<Step>,
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments the way redis-cli does (sdssplitargs):
/// whitespace separates; "double quotes" allow \n \r \t \b \a \\ \" \xHH;
/// 'single quotes' allow only \'. A closing quote must be followed by
/// whitespace or the end of the line.
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= b.len() {
                    return Err("unbalanced double quotes".into());
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && hex(b[i + 2]).is_some()
                    && hex(b[i + 3]).is_some()
                {
                    cur.push(hex(b[i + 2]).unwrap() * 16 + hex(b[i + 3]).unwrap());
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return Err("unbalanced single quotes".into());
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

fn num(tok: Option<Vec<u8>>, what: &str) -> Result<i64, String> {
    tok.and_then(|t| String::from_utf8(t).ok()?.parse().ok())
        .ok_or_else(|| format!("{what} needs an integer argument"))
}

/// Parses one command line (directive prefixes and the command).
pub fn parse_line(line: &str, location: String) -> Result<Step, String> {
    let mut toks = split_args(line)?.into_iter().peekable();
    let mut mode = Mode::Exact;
    let mut proto = None;
    while let Some(t) = toks.peek() {
        let t = String::from_utf8_lossy(t).to_string();
        if !(t.starts_with('~') || t.starts_with('!') || t.starts_with('@')) {
            break;
        }
        toks.next();
        let new_mode = match t.as_str() {
            "@2" => {
                proto = Some(2);
                continue;
            }
            "@3" => {
                proto = Some(3);
                continue;
            }
            "~type" => Mode::Type,
            "~len" => Mode::Len,
            "~set" => Mode::Set,
            "~pairs" => Mode::Pairs,
            "~scan" => Mode::Scan,
            "~slowlog" => Mode::Slowlog,
            "~any" => Mode::Any,
            "~noreply" => Mode::NoReply,
            "~range" => Mode::Range(num(toks.next(), "~range")?, num(toks.next(), "~range")?),
            "~near" => Mode::Near(num(toks.next(), "~near")?),
            "~in" => Mode::In(
                toks.next()
                    .ok_or("~in needs a list")?
                    .split(|&c| c == b',')
                    .map(|s| s.to_vec())
                    .collect(),
            ),
            "!russet" => Mode::Russet(toks.next().ok_or("!russet needs the raw reply")?),
            other => return Err(format!("unknown directive {other}")),
        };
        if mode != Mode::Exact {
            return Err("at most one comparison directive per line".into());
        }
        mode = new_mode;
    }
    let args: Vec<Vec<u8>> = toks.collect();
    if args.is_empty() {
        return Err("directive without a command".into());
    }
    Ok(Step {
        location,
        proto,
        mode,
        args,
    })
}

/// Parses a scenario file into cases (blank-line separated).
pub fn parse_file(name: &str, text: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut cur: Option<Case> = None;
    for (i, line) in text.lines().enumerate() {
        let loc = format!("{name}:{}", i + 1);
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.is_empty() {
            cases.extend(cur.take());
            continue;
        }
        let step = parse_line(trimmed, loc.clone()).map_err(|e| format!("{loc}: {e}"))?;
        cur.get_or_insert_with(|| Case { steps: Vec::new() })
            .steps
            .push(step);
    }
    cases.extend(cur);
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_redis_cli() {
        let v = split_args(r#"SET "a b" "\x00\xffz\n" '' ""  x"#).unwrap();
        assert_eq!(
            v,
            vec![
                b"SET".to_vec(),
                b"a b".to_vec(),
                b"\x00\xffz\n".to_vec(),
                vec![],
                vec![],
                b"x".to_vec()
            ]
        );
        assert!(split_args(r#"GET "a"b"#).is_err());
    }

    #[test]
    fn parses_directives() {
        let s = parse_line("@3 ~range 0 10 TTL k", "x".into()).unwrap();
        assert_eq!(s.proto, Some(3));
        assert_eq!(s.mode, Mode::Range(0, 10));
        assert_eq!(s.args, vec![b"TTL".to_vec(), b"k".to_vec()]);
        let s = parse_line(r#"!russet "+OK\r\n" FOO"#, "x".into()).unwrap();
        assert_eq!(s.mode, Mode::Russet(b"+OK\r\n".to_vec()));
    }
}
