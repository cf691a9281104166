//! RESP: the request parser (RESP multibulk and inline commands) and the reply
//! writer (RESP2 and RESP3).

mod parser;
mod reply;

pub use parser::{split_args, Frame, ParseLimits, ProtocolError, RequestParser};
pub use reply::Reply;
