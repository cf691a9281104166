//! How two replies are compared: exactly (the default) or by meaning.

use super::resp::{escape, Reply, Value};

/// A comparison mode; in scenario files it is selected by a line prefix
/// (see tests/scenarios/README.md).
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Raw bytes must be identical.
    Exact,
    /// `~type`: only the reply type (first byte) must match.
    Type,
    /// `~len`: type and length (bulk length or element count) must match.
    Len,
    /// `~set`: aggregates compared as unordered multisets (maps: of pairs).
    Set,
    /// `~pairs`: flat array or map compared as an unordered set of pairs.
    Pairs,
    /// `~scan`: `[cursor, [keys]]`; cursor ignored, keys unordered.
    Scan,
    /// `~range LO HI`: both replies are integers in LO..=HI.
    Range(i64, i64),
    /// `~near TOL`: integers; negative values exact, others within TOL.
    Near(i64),
    /// `~in a,b,c`: both replies are bulk strings among the given values.
    In(Vec<Vec<u8>>),
    /// `~slowlog`: a SLOWLOG GET reply; each entry's timestamp, duration
    /// and client address are masked, argv and name compared, ids relative
    /// to the oldest entry shown.
    Slowlog,
    /// `~any`: the reply is read but not compared.
    Any,
    /// `~noreply`: the command gets no reply (CLIENT REPLY OFF/SKIP); none is read.
    NoReply,
    /// `!russet RAW`: russet deliberately differs and must reply RAW exactly.
    Russet(Vec<u8>),
}

/// Canonical serialization of a parsed value (identical to the wire bytes).
pub fn serialize(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ser(v, &mut out);
    out
}

fn ser(v: &Value, o: &mut Vec<u8>) {
    let line = |o: &mut Vec<u8>, t: u8, b: &[u8]| {
        o.push(t);
        o.extend_from_slice(b);
        o.extend_from_slice(b"\r\n");
    };
    let blob = |o: &mut Vec<u8>, t: u8, b: &[u8]| {
        o.extend_from_slice(format!("{}{}\r\n", t as char, b.len()).as_bytes());
        o.extend_from_slice(b);
        o.extend_from_slice(b"\r\n");
    };
    match v {
        Value::Simple(b) => line(o, b'+', b),
        Value::Error(b) => line(o, b'-', b),
        Value::Int(i) => line(o, b':', i.to_string().as_bytes()),
        Value::Bulk(b) => blob(o, b'$', b),
        Value::Nil(b'_') => o.extend_from_slice(b"_\r\n"),
        Value::Nil(t) => line(o, *t, b"-1"),
        Value::Double(b) => line(o, b',', b),
        Value::Bool(b) => line(o, b'#', if *b { b"t" } else { b"f" }),
        Value::BigNum(b) => line(o, b'(', b),
        Value::BlobError(b) => blob(o, b'!', b),
        Value::Verbatim(b) => blob(o, b'=', b),
        Value::Array(v) => agg(o, b'*', v),
        Value::Set(v) => agg(o, b'~', v),
        Value::Push(v) => agg(o, b'>', v),
        Value::Map(p) => {
            line(o, b'%', p.len().to_string().as_bytes());
            for (k, v) in p {
                ser(k, o);
                ser(v, o);
            }
        }
        Value::Attr(p, inner) => {
            line(o, b'|', p.len().to_string().as_bytes());
            for (k, v) in p {
                ser(k, o);
                ser(v, o);
            }
            ser(inner, o);
        }
    }
}

fn agg(o: &mut Vec<u8>, t: u8, v: &[Value]) {
    o.extend_from_slice(format!("{}{}\r\n", t as char, v.len()).as_bytes());
    for e in v {
        ser(e, o);
    }
}

fn type_byte(r: &Reply) -> u8 {
    r.raw.first().copied().unwrap_or(0)
}

fn len_of(v: &Value) -> Option<usize> {
    match v {
        Value::Bulk(b) | Value::Verbatim(b) | Value::BlobError(b) => Some(b.len()),
        Value::Array(v) | Value::Set(v) | Value::Push(v) => Some(v.len()),
        Value::Map(p) => Some(p.len()),
        Value::Attr(_, inner) => len_of(inner),
        _ => None,
    }
}

fn sorted(v: &[Value]) -> Vec<Vec<u8>> {
    let mut s: Vec<Vec<u8>> = v.iter().map(serialize).collect();
    s.sort();
    s
}

fn sorted_pairs(v: &Value) -> Option<Vec<Vec<u8>>> {
    let mut s: Vec<Vec<u8>> = match v {
        Value::Map(p) => p
            .iter()
            .map(|(k, v)| [serialize(k), serialize(v)].concat())
            .collect(),
        Value::Array(a) if a.len() % 2 == 0 => a
            .chunks(2)
            .map(|c| [serialize(&c[0]), serialize(&c[1])].concat())
            .collect(),
        _ => return None,
    };
    s.sort();
    Some(s)
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

/// Compares the reference reply with russet's. `Err` explains a mismatch.
pub fn compare(mode: &Mode, reference: &Reply, russet: &Reply) -> Result<(), String> {
    let exact = || {
        if reference.raw == russet.raw {
            Ok(())
        } else {
            Err("replies differ".to_string())
        }
    };
    let (a, b) = (&reference.value, &russet.value);
    match mode {
        Mode::Exact => exact(),
        Mode::Any | Mode::NoReply => Ok(()),
        Mode::Russet(raw) => {
            if &russet.raw == raw {
                Ok(())
            } else {
                Err(format!("russet should reply \"{}\"", escape(raw)))
            }
        }
        Mode::Type => {
            if type_byte(reference) == type_byte(russet) {
                Ok(())
            } else {
                Err("reply types differ".into())
            }
        }
        Mode::Len => {
            if type_byte(reference) == type_byte(russet) && len_of(a) == len_of(b) {
                Ok(())
            } else {
                Err("reply types or lengths differ".into())
            }
        }
        Mode::Set => match (a, b) {
            (Value::Map(_), Value::Map(_)) => {
                if sorted_pairs(a) == sorted_pairs(b) {
                    Ok(())
                } else {
                    Err("maps differ (unordered)".into())
                }
            }
            _ => match (a.elements(), b.elements()) {
                (Some(x), Some(y)) if type_byte(reference) == type_byte(russet) => {
                    if sorted(x) == sorted(y) {
                        Ok(())
                    } else {
                        Err("elements differ (unordered)".into())
                    }
                }
                _ => exact(),
            },
        },
        Mode::Pairs => match (sorted_pairs(a), sorted_pairs(b)) {
            (Some(x), Some(y)) if type_byte(reference) == type_byte(russet) => {
                if x == y {
                    Ok(())
                } else {
                    Err("pairs differ (unordered)".into())
                }
            }
            _ => exact(),
        },
        Mode::Scan => {
            let parts = |v: &Value| -> Option<Vec<Vec<u8>>> {
                let e = v.elements()?;
                if e.len() != 2 || !matches!(e[0], Value::Bulk(_)) {
                    return None;
                }
                Some(sorted(e[1].elements()?))
            };
            match (parts(a), parts(b)) {
                (Some(x), Some(y)) if type_byte(reference) == type_byte(russet) => {
                    if x == y {
                        Ok(())
                    } else {
                        Err("scanned keys differ (unordered, cursor ignored)".into())
                    }
                }
                _ => exact(),
            }
        }
        Mode::Slowlog => {
            // Entries are [id, time, duration, argv, addr, name]; ids are
            // compared relative to the oldest shown (earlier cases may have
            // logged a different number of slow commands).
            let masked = |v: &Value| -> Option<Vec<(i64, Vec<u8>)>> {
                let entries: Option<Vec<(i64, Vec<u8>)>> = v
                    .elements()?
                    .iter()
                    .map(|e| {
                        let f = e.elements().filter(|f| f.len() == 6)?;
                        let mut kept = serialize(&f[3]);
                        kept.extend(serialize(&f[5]));
                        Some((int_of(&f[0])?, kept))
                    })
                    .collect();
                let entries = entries?;
                let base = entries.iter().map(|e| e.0).min().unwrap_or(0);
                Some(entries.into_iter().map(|(id, k)| (id - base, k)).collect())
            };
            match (masked(a), masked(b)) {
                (Some(x), Some(y)) if type_byte(reference) == type_byte(russet) => {
                    if x == y {
                        Ok(())
                    } else {
                        Err("slowlog entries differ (time, duration, address masked)".into())
                    }
                }
                _ => exact(),
            }
        }
        Mode::Range(lo, hi) => {
            let ok = |v: &Value| int_of(v).is_some_and(|i| (*lo..=*hi).contains(&i));
            match (ok(a), ok(b)) {
                (true, true) => Ok(()),
                (false, _) => Err(format!("reference reply not an integer in {lo}..={hi}")),
                (_, false) => Err(format!("russet reply not an integer in {lo}..={hi}")),
            }
        }
        Mode::Near(tol) => match (int_of(a), int_of(b)) {
            (Some(x), Some(y)) if x < 0 || y < 0 => {
                if x == y {
                    Ok(())
                } else {
                    Err("negative integer replies differ".into())
                }
            }
            (Some(x), Some(y)) => {
                if (x - y).abs() <= *tol {
                    Ok(())
                } else {
                    Err(format!("integers differ by more than {tol}"))
                }
            }
            _ => exact(),
        },
        Mode::In(allowed) => {
            let ok = |v: &Value| matches!(v, Value::Bulk(b) if allowed.contains(b));
            match (ok(a), ok(b)) {
                (true, true) => Ok(()),
                (false, _) => Err("reference reply not one of the allowed values".into()),
                (_, false) => Err("russet reply not one of the allowed values".into()),
            }
        }
    }
}
