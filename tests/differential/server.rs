//! Starting and stopping the two servers under comparison.

use super::resp::{Conn, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The reference server binary, or `None` when the differential tests are
/// to be skipped (`RUSSET_SKIP_DIFFERENTIAL=1`). Panics with install
/// instructions when it is missing.
pub fn reference_binary() -> Option<PathBuf> {
    let skip = std::env::var("RUSSET_SKIP_DIFFERENTIAL").is_ok_and(|v| v == "1");
    let name = std::env::var("RUSSET_REFERENCE_SERVER").unwrap_or_else(|_| "redis-server".into());
    if skip {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "differential: skipped (RUSSET_SKIP_DIFFERENTIAL=1)"
        );
        return None;
    }
    match which(&name) {
        Some(p) => Some(p),
        None => panic!(
            "differential tests need the reference server `{name}` (Redis 7.0), which was not found. \
             Install it with `apt-get install redis-server` (or point RUSSET_REFERENCE_SERVER at a \
             redis-server binary), or set RUSSET_SKIP_DIFFERENTIAL=1 to skip these tests."
        ),
    }
}

/// The server under test: `RUSSET_SERVER_BIN`, else the crate's own binary.
pub fn russet_binary() -> PathBuf {
    match std::env::var_os("RUSSET_SERVER_BIN") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_russet-server")),
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().unwrap().port()
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// Starts `bin` on a free port with persistence off and its own temp dir,
    /// and waits (bounded) until it answers PING.
    pub fn start(name: &'static str, bin: &Path) -> Server {
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "russet-diff-{}-{}-{}",
                std::process::id(),
                name,
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            let log = std::fs::File::create(dir.join("server.log")).expect("create log");
            let child = Command::new(bin)
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                // DEBUG SLEEP is used by scenarios; redis 7 refuses DEBUG by default.
                .args(["--enable-debug-command", "local"])
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name} server {}: {e}", bin.display()));
            let mut server = Server {
                name,
                port,
                child,
                dir,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => {
                    let log =
                        std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
                    last_err = format!("{e}\n--- server log ---\n{log}");
                }
            }
        }
        panic!(
            "{name} server {} did not answer PING: {last_err}",
            bin.display()
        );
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}"));
            }
            if let Ok(mut c) = Conn::connect(self.port, Duration::from_millis(500)) {
                if let Ok(r) = c.call_str(&["PING"]) {
                    if r.value == Value::Simple(b"PONG".to_vec()) {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err("timed out after 10s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> std::io::Result<Conn> {
        Conn::connect(self.port, IO_TIMEOUT)
    }

    /// True when the process is running and answers PING on a new connection.
    pub fn alive(&mut self) -> bool {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return false;
        }
        self.connect()
            .and_then(|mut c| c.call_str(&["PING"]))
            .is_ok_and(|r| r.value == Value::Simple(b"PONG".to_vec()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first (the contract says the server stops on it), then kill.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
