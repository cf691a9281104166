//! `russet-server [config-file] [--option value ...]`, like redis-server.

use russet::config::{self, Config};
use russet::server;
use std::process::ExitCode;
use std::sync::Arc;

fn usage() -> ! {
    println!(
        "Usage: russet-server [/path/to/russet.conf] [--option value ...]\n       \
         russet-server --commands [FILE]   (write the supported-command table, Markdown)\n       \
         russet-server -v | --version"
    );
    std::process::exit(0)
}

fn load_config(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config::default();
    let mut rest = args;
    if let Some(first) = args.first().filter(|a| !a.starts_with("--")) {
        let body = std::fs::read_to_string(first)
            .map_err(|e| format!("Fatal error, can't open config file '{}': {}", first, e))?;
        let directives = config::parse_file(&body)
            .map_err(|(line, text, msg)| fatal(first, line, &text, &msg))?;
        for (line, name, values) in directives {
            cfg.set_startup(&name, &values)
                .map_err(|e| fatal(first, line, &format!("{} {}", name, values.join(" ")), &e.0))?;
        }
        rest = &args[1..];
    }
    for (name, values) in config::parse_cli(rest) {
        cfg.set_startup(&name, &values).map_err(|e| {
            fatal(
                "(command line)",
                0,
                &format!("{} {}", name, values.join(" ")),
                &e.0,
            )
        })?;
    }
    Ok(cfg)
}

fn fatal(file: &str, line: usize, text: &str, msg: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (russet {}) ***\nReading the configuration file {}, at line {}\n>>> '{}'\n{}",
        server::RUSSET_VERSION,
        file,
        line,
        text,
        msg
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h") | Some("--help") => usage(),
        Some("-v") | Some("--version") => {
            println!(
                "russet {} (Redis {} compatible)",
                server::RUSSET_VERSION,
                server::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Some("--commands") => {
            let doc = russet::commands::table::markdown();
            return match args.get(1) {
                Some(path) => match std::fs::write(path, doc) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("cannot write {}: {}", path, e);
                        ExitCode::FAILURE
                    }
                },
                None => {
                    print!("{}", doc);
                    ExitCode::SUCCESS
                }
            };
        }
        _ => {}
    }
    let cfg = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e);
            return ExitCode::FAILURE;
        }
    };
    init_logging(&cfg);
    let dir = cfg.text(config::DIR).to_string();
    if !dir.is_empty() {
        if let Err(e) = std::env::set_current_dir(&dir) {
            eprintln!("Can't chdir to '{}': {}", dir, e);
            return ExitCode::FAILURE;
        }
    }
    let threads = server::thread_count(&cfg);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {}", e);
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let listeners = match server::bind(&cfg).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("Could not create server TCP listening socket: {}", e);
                return ExitCode::FAILURE;
            }
        };
        let addrs: Vec<String> =
            listeners.iter().filter_map(|l| l.local_addr().ok()).map(|a| a.to_string()).collect();
        russet::store::update_lru_clock(russet::util::now_ms());
        let port = cfg.num(config::PORT) as u16;
        let srv = Arc::new(server::Server::new(cfg, port, threads));
        tracing::info!(
            "russet {} (Redis {} compatible) listening on {} with {} threads; ready to accept connections",
            server::RUSSET_VERSION,
            server::REDIS_VERSION,
            addrs.join(", "),
            threads
        );
        let signals = srv.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("received a shutdown signal; exiting");
            signals.request_shutdown();
        });
        server::run(srv, listeners).await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn init_logging(cfg: &Config) {
    let level = match cfg.text(config::LOGLEVEL) {
        "debug" => "debug",
        "verbose" => "info",
        "warning" => "warn",
        _ => "info",
    };
    let builder = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_env("RUSSET_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
    );
    let logfile = cfg.text(config::LOGFILE);
    if logfile.is_empty() {
        builder.with_writer(std::io::stdout).init();
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
        {
            Ok(file) => builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init(),
            Err(e) => {
                builder.with_writer(std::io::stdout).init();
                tracing::error!("cannot open logfile {}: {}; logging to stdout", logfile, e);
            }
        }
    }
}
