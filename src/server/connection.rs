//! One task per connection: read, parse every complete command in the buffer,
//! run each, and send all their replies with a single write.

use super::{Blocked, Client, ClientHandle, ReplyMode, Server};
use crate::commands::{self, After};
use crate::config;
use crate::protocol::{Frame, ParseLimits, Reply, RequestParser};
use crate::pubsub::{Message, Subscriptions};
use crate::util::now_ms;
use bytes::{Buf, BytesMut};
use smallvec::SmallVec;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_CHUNK: usize = 16 * 1024;

/// Admits a just-accepted connection, in accept order: client ids increase
/// with connection order (as Redis documents) and `maxclients` is checked
/// against a registry that already counts every earlier connection.
pub fn admit(srv: &Arc<Server>, stream: TcpStream, peer: SocketAddr) {
    let (maxclients, protected) = {
        let c = srv.config.read();
        let protected = c.flag(config::PROTECTED_MODE) && c.text(config::REQUIREPASS).is_empty();
        (c.num(config::MAXCLIENTS) as usize, protected)
    };
    let refusal: Option<&'static [u8]> = if srv.clients.len() >= maxclients {
        Some(b"-ERR max number of clients reached\r\n")
    } else if protected && !peer.ip().is_loopback() {
        Some(PROTECTED_MODE_ERROR)
    } else {
        None
    };
    if let Some(msg) = refusal {
        srv.stats.rejected_connections.incr();
        tokio::spawn(async move {
            let mut stream = stream;
            let _ = stream.write_all(msg).await;
        });
        return;
    }
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let handle = Arc::new(ClientHandle::new(
        srv.next_client_id(),
        peer.to_string(),
        laddr,
        now_ms(),
    ));
    srv.clients.add(handle.clone());
    tokio::spawn(serve(srv.clone(), stream, handle));
}

async fn serve(srv: Arc<Server>, mut stream: TcpStream, handle: Arc<ClientHandle>) {
    let _ = stream.set_nodelay(true);
    let mut client = Client::new(handle.clone());
    client.authenticated = !srv.auth_required();
    let result = std::panic::AssertUnwindSafe(session(&srv, &mut stream, &mut client));
    if let Err(e) = futures_catch(result).await {
        tracing::error!("connection {} ended by an internal error: {}", handle.id, e);
    }
    commands::pubsub::unsubscribe_all(&srv, &mut client);
    commands::ops::stop_monitor(&srv, &mut client);
    let ks = &srv.keyspace;
    commands::transaction::unwatch_all(
        &mut client,
        &mut crate::store::Store::new(ks, ks.lock_none(), 0, 0),
    );
    srv.clients.remove(handle.id);
}

/// Runs the session future, turning a panic into an error so that one broken
/// command can never take the process down.
async fn futures_catch<F: std::future::Future<Output = ()>>(
    f: std::panic::AssertUnwindSafe<F>,
) -> Result<(), String> {
    use std::pin::pin;
    let mut f = pin!(f.0);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                std::task::Poll::Ready(Err(msg))
            }
        }
    })
    .await
}

async fn session(srv: &Server, stream: &mut TcpStream, client: &mut Client) {
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut wbuf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut parser = RequestParser::default();
    let mut shutdown = srv.shutdown_signal();
    let handle = client.handle.clone();
    // After a blocking command returns, the commands pipelined behind it
    // are already buffered: run them before reading again.
    let mut buffered = false;
    loop {
        if handle.killed.load(Ordering::Relaxed) {
            return;
        }
        let (idle_timeout, query_limit, max_bulk) = {
            let c = srv.config.read();
            (
                c.num(config::TIMEOUT),
                c.num(config::CLIENT_QUERY_BUFFER_LIMIT) as usize,
                c.num(config::PROTO_MAX_BULK_LEN),
            )
        };
        if !buffered {
            // Like Redis, `timeout` never closes a subscriber or a monitor.
            let idle_timeout = if client.subscriptions() > 0 || client.monitor {
                0
            } else {
                idle_timeout
            };
            if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
                rbuf.reserve(READ_CHUNK);
            }
            let read = async {
                if idle_timeout > 0 {
                    match tokio::time::timeout(
                        Duration::from_secs(idle_timeout as u64),
                        stream.read_buf(&mut rbuf),
                    )
                    .await
                    {
                        Ok(r) => r,
                        Err(_) => Ok(0),
                    }
                } else {
                    stream.read_buf(&mut rbuf).await
                }
            };
            let message = next_message(client.subs.as_mut());
            let n = tokio::select! {
                r = read => match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                },
                m = message => {
                    if let Some(subs) = client.subs.as_mut() {
                        let mut out = Reply::new(&mut wbuf, client.resp);
                        subs.take(m, &mut out);
                        subs.drain_into(&mut out);
                    }
                    if !flush(srv, stream, client, &mut wbuf).await {
                        return;
                    }
                    continue;
                }
                _ = handle.kill.notified() => return,
                _ = shutdown.changed() => return,
            };
            srv.stats.net_input_bytes.add(n as u64);
            handle
                .last_interaction_ms
                .store(now_ms(), Ordering::Relaxed);
        }
        buffered = false;

        let (consumed, after) = run_buffered(srv, client, &mut parser, &rbuf, &mut wbuf, max_bulk);
        rbuf.advance(consumed);
        handle.query_buffer.store(rbuf.len(), Ordering::Relaxed);
        if after == After::Shutdown {
            let _ = stream.write_all(&wbuf).await;
            srv.request_shutdown();
            return;
        }
        // Like Redis's beforeSleep, replies go out once the worker has run
        // every other connection that is ready: a client with many
        // connections then gets its replies in one burst instead of being
        // woken for each (redis-benchmark: 25x fewer context switches).
        if !wbuf.is_empty() {
            tokio::task::yield_now().await;
        }
        if !flush(srv, stream, client, &mut wbuf).await {
            return;
        }
        match after {
            After::Close => {
                let _ = stream.shutdown().await;
                return;
            }
            After::Block => {
                if !wait_unblocked(srv, stream, client, &mut rbuf, &mut wbuf, &mut shutdown).await {
                    return;
                }
                buffered = true;
                continue;
            }
            After::Postponed => {
                let _held = HeldByPause::new(srv, &handle);
                tokio::select! {
                    _ = srv.pause.wait() => {}
                    _ = handle.kill.notified() => return,
                    _ = shutdown.changed() => return,
                }
                buffered = true;
                continue;
            }
            After::Continue | After::Shutdown => {}
        }
        if rbuf.len() > query_limit {
            tracing::warn!(
                "closing client {}: query buffer of {} bytes exceeds client-query-buffer-limit",
                client.id,
                rbuf.len()
            );
            return;
        }
    }
}

/// Marks a client held by CLIENT PAUSE as blocked (CLIENT LIST flag `b`,
/// INFO blocked_clients) until dropped, as Redis counts postponed clients.
struct HeldByPause<'a> {
    srv: &'a Server,
    handle: &'a ClientHandle,
}

impl<'a> HeldByPause<'a> {
    fn new(srv: &'a Server, handle: &'a ClientHandle) -> HeldByPause<'a> {
        handle.paused.store(true, Ordering::Relaxed);
        srv.keyspace.blocked_clients.fetch_add(1, Ordering::Relaxed);
        HeldByPause { srv, handle }
    }
}

impl Drop for HeldByPause<'_> {
    fn drop(&mut self) {
        self.handle.paused.store(false, Ordering::Relaxed);
        self.srv
            .keyspace
            .blocked_clients
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Writes out `wbuf`; false if the connection is gone or was killed
/// meanwhile (a subscriber that stopped reading stays stuck in the write
/// until its output limit has it killed).
async fn flush(
    srv: &Server,
    stream: &mut TcpStream,
    client: &mut Client,
    wbuf: &mut Vec<u8>,
) -> bool {
    if wbuf.is_empty() {
        return true;
    }
    let handle = &client.handle;
    srv.stats.net_output_bytes.add(wbuf.len() as u64);
    handle.output_buffer.store(wbuf.len(), Ordering::Relaxed);
    let written = tokio::select! {
        r = stream.write_all(wbuf) => r.is_ok(),
        _ = handle.kill.notified() => false,
    };
    if !written {
        return false;
    }
    handle.output_buffer.store(0, Ordering::Relaxed);
    if let Some(subs) = client.subs.as_mut() {
        subs.written();
    }
    wbuf.clear();
    if wbuf.capacity() > 4 * 1024 * 1024 {
        *wbuf = Vec::with_capacity(READ_CHUNK);
    }
    true
}

/// The next message for a subscribed client; never ready otherwise.
async fn next_message(subs: Option<&mut Subscriptions>) -> Message {
    match subs {
        Some(s) => match s.rx.recv().await {
            Some(m) => m,
            // The sender lives in `s.me`: the queue cannot close.
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Parses and runs every complete command in `rbuf`, appending the replies
/// to `wbuf`. Returns the bytes consumed and what the connection must do:
/// anything but `Continue` stops at that command (a protocol error replies
/// and closes).
fn run_buffered(
    srv: &Server,
    client: &mut Client,
    parser: &mut RequestParser,
    rbuf: &[u8],
    wbuf: &mut Vec<u8>,
    max_bulk: i64,
) -> (usize, After) {
    let mut consumed = 0;
    loop {
        let limits = ParseLimits {
            max_bulk_len: max_bulk,
            unauthenticated: !client.authenticated,
        };
        match parser.parse(&rbuf[consumed..], limits) {
            Ok(None) => return (consumed, After::Continue),
            Ok(Some((frame, used))) => {
                let base = consumed;
                consumed += used;
                let after = match frame {
                    Frame::Empty => After::Continue,
                    Frame::Multibulk => {
                        let window = &rbuf[base..];
                        let args: SmallVec<[&[u8]; 16]> =
                            parser.spans.iter().map(|&(s, e)| &window[s..e]).collect();
                        run(srv, client, &args, wbuf)
                    }
                    Frame::Inline => {
                        let owned = std::mem::take(&mut parser.inline_args);
                        let after = {
                            let args: SmallVec<[&[u8]; 16]> =
                                owned.iter().map(|a| a.as_slice()).collect();
                            run(srv, client, &args, wbuf)
                        };
                        parser.inline_args = owned;
                        after
                    }
                };
                match after {
                    After::Continue => {}
                    // Not consumed: it runs again once the pause ends.
                    After::Postponed => return (base, after),
                    _ => return (consumed, after),
                }
            }
            Err(e) => {
                wbuf.extend_from_slice(b"-ERR ");
                wbuf.extend_from_slice(e.0.as_bytes());
                wbuf.extend_from_slice(b"\r\n");
                return (consumed, After::Close);
            }
        }
    }
}

/// Parks a client in a blocking command until it is served, times out, is
/// unblocked (its reply goes to `wbuf`) or goes away (false). Bytes that
/// arrive meanwhile are kept in `rbuf` for after; pub/sub messages are
/// written out as they come.
async fn wait_unblocked(
    srv: &Server,
    stream: &mut TcpStream,
    client: &mut Client,
    rbuf: &mut BytesMut,
    wbuf: &mut Vec<u8>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let Some(mut blocked) = client.blocked.take() else {
        return true;
    };
    let waiter = blocked.waiter.clone();
    let deadline = blocked.deadline_ms;
    let wait_ms = deadline - now_ms();
    let sleep = async move {
        if deadline > 0 {
            tokio::time::sleep(Duration::from_millis(wait_ms.max(0) as u64)).await
        } else {
            std::future::pending().await
        }
    };
    tokio::pin!(sleep);
    let (reply, open) = loop {
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 2 {
            rbuf.reserve(READ_CHUNK);
        }
        tokio::select! {
            r = &mut blocked.reply => break (r.ok(), true),
            _ = &mut sleep => {
                let timeout = commands::blocking::timeout_reply(&waiter);
                break (settle(&mut blocked, Some(timeout)).await, true);
            }
            r = stream.read_buf(rbuf) => match r {
                Ok(n) if n > 0 => srv.stats.net_input_bytes.add(n as u64),
                _ => break (settle(&mut blocked, None).await, false),
            },
            // A RESP3 subscriber keeps getting its messages while blocked.
            m = next_message(client.subs.as_mut()) => {
                if let Some(subs) = client.subs.as_mut() {
                    let mut out = Reply::new(wbuf, client.resp);
                    subs.take(m, &mut out);
                    subs.drain_into(&mut out);
                }
                if !flush(srv, stream, client, wbuf).await {
                    break (settle(&mut blocked, None).await, false);
                }
            }
            _ = client.handle.kill.notified() => break (settle(&mut blocked, None).await, false),
            _ = shutdown.changed() => break (settle(&mut blocked, None).await, false),
        }
    };
    commands::blocking::unregister(srv, &waiter);
    *client.handle.blocked.lock() = None;
    if let Some(reply) = reply.filter(|_| !blocked.silent) {
        wbuf.extend_from_slice(&reply);
    }
    open
}

/// Whoever claims the waiter first decides its reply: `mine` if this side
/// won; otherwise the serving side has sent (or is sending) the real one.
async fn settle(blocked: &mut Blocked, mine: Option<Vec<u8>>) -> Option<Vec<u8>> {
    if blocked.waiter.claim() {
        mine
    } else {
        (&mut blocked.reply).await.ok()
    }
}

/// Runs one command and applies CLIENT REPLY OFF/SKIP to its output.
fn run(srv: &Server, client: &mut Client, args: &[&[u8]], wbuf: &mut Vec<u8>) -> After {
    // Messages that arrived before this command go out before its reply
    // (before an UNSUBSCRIBE confirmation, say), as in Redis.
    if let Some(subs) = client.subs.as_mut() {
        subs.drain_into(&mut Reply::new(wbuf, client.resp));
    }
    let mark = wbuf.len();
    let after = commands::execute(srv, client, args, wbuf);
    if after == After::Postponed {
        return after;
    }
    if let Some(b) = client.blocked.as_mut() {
        b.silent = client.reply_mode != ReplyMode::On;
    }
    match client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => wbuf.truncate(mark),
        ReplyMode::Skip => {
            wbuf.truncate(mark);
            client.reply_mode = ReplyMode::On;
        }
        ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skip,
    }
    after
}

const PROTECTED_MODE_ERROR: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a Bind address or an authentication password. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
