//! The real `broadsheet` binary: one-off commands (`run_cli`) and a serving
//! process that a test can kill or stop (`ServerProcess`).

use std::{io::Write, process::Output};

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET};

/// Run the real `broadsheet` binary with a clean environment plus `DATABASE_URL`.
pub fn run_cli(
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_broadsheet"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("BROADSHEET_LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the broadsheet binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child
        .wait_with_output()
        .expect("the broadsheet binary finishes")
}

/// The real `broadsheet` binary serving on a free port, its stderr collected.
pub struct ServerProcess {
    child: std::process::Child,
    pub base_url: String,
    pub logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Start `broadsheet serve` on `database_url` with the test admin and
    /// secret, plus `env`; returns once it listens.
    pub fn spawn(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_broadsheet"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BROADSHEET_BIND", "127.0.0.1:0")
            .env("BROADSHEET_JWT_SECRET", JWT_SECRET)
            .env("BROADSHEET_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("BROADSHEET_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BROADSHEET_COMMENT_RATE_PER_MINUTE", "0")
            .env("BROADSHEET_LOGIN_FAILURES_PER_MINUTE", "0")
            .env("BROADSHEET_LOG_LEVEL", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the broadsheet binary runs");
        let stderr = child.stderr.take().unwrap();
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("serving http://") {
                    let addr: String = line[at + "serving http://".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                        .collect();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not start:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        ServerProcess {
            child,
            base_url: format!("http://{addr}"),
            logs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("the server exits")
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
