//! `settings exec --watch`: run the command as a child, keep the values resolved, and restart
//! (or signal) the command when one changes, as envconsul and Vault Agent's supervisor do.
//! Signals sent to `settings` go on to the command, and its exit code (or the signal that ended
//! it) becomes ours. Only names are printed, never values.

use std::process::{Child, ExitCode, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use settings::{Export, Loader, Watch};
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;

use crate::args::Watching;

const DEFAULT_GRACE: Duration = Duration::from_secs(10);
const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// How often the supervisor looks at the child and the forwarded signals.
const TICK: Duration = Duration::from_millis(50);

const FORWARDED: [i32; 6] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2];

pub fn exec_watching(
    loader: Loader,
    vars: Vec<String>,
    watching: &Watching,
    command: &[String],
) -> ExitCode {
    let program = &command[0];
    let loader = loader
        .refresh_every(watching.interval.unwrap_or(DEFAULT_INTERVAL))
        .poll_files_every(watching.poll.unwrap_or(DEFAULT_POLL));
    let watch: Watch<Export> = match loader.watch_export(vars) {
        Ok(watch) => watch,
        Err(err) => {
            eprintln!("settings exec: the settings could not be resolved; nothing was run.\n{err}");
            return ExitCode::from(1);
        }
    };
    let signals = match forward_signals() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("settings exec: cannot receive signals to pass on: {err}");
            return ExitCode::from(1);
        }
    };
    let mut child = match spawn(command, &watch.get()) {
        Ok(child) => child,
        Err(code) => return code,
    };
    let mut failing = false;
    loop {
        while let Ok(signal) = signals.try_recv() {
            send(&child, signal);
        }
        match child.try_wait() {
            Ok(Some(status)) => return exit_as(status),
            Ok(None) => {}
            Err(err) => {
                eprintln!("settings exec: cannot wait for `{program}`: {err}");
                return ExitCode::from(1);
            }
        }
        // A refresh that fails keeps the running command and its values; say so once.
        match (watch.last_error(), failing) {
            (Some(err), false) => {
                eprintln!("settings exec: a refresh failed; `{program}` keeps its values.\n{err}");
                failing = true;
            }
            (None, true) => failing = false,
            _ => {}
        }
        let Some(export) = watch.wait_for_change(TICK) else {
            continue;
        };
        let names = watch
            .last_change()
            .map(|change| change.names().join(", "))
            .unwrap_or_default();
        match &watching.signal {
            Some(signal) => {
                let name = signal.name();
                eprintln!("settings exec: {names} changed; sending SIG{name} to `{program}`");
                send(&child, signal_number(name));
            }
            None => {
                eprintln!("settings exec: {names} changed; restarting `{program}`");
                if let Some(status) = stop(&mut child, watching.grace.unwrap_or(DEFAULT_GRACE))
                    && !restartable(&status)
                {
                    return exit_as(status);
                }
                child = match spawn(command, &export) {
                    Ok(child) => child,
                    Err(code) => return code,
                };
            }
        }
    }
}

/// A thread that receives the signals `settings` passes on, and the channel it sends them to.
fn forward_signals() -> std::io::Result<Receiver<i32>> {
    let mut signals = Signals::new(FORWARDED)?;
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .name("settings-signals".to_owned())
        .spawn(move || {
            for signal in signals.forever() {
                if send.send(signal).is_err() {
                    break;
                }
            }
        })?;
    Ok(receive)
}

/// Starts the command with the export's values; never prints a value.
fn spawn(command: &[String], export: &Export) -> Result<Child, ExitCode> {
    let not_started = format!("`{}` was not started", command[0]);
    let mut process = crate::commands::command_with(command, export, &not_started)
        .ok_or_else(|| ExitCode::from(1))?;
    process.spawn().map_err(|err| {
        eprintln!("settings exec: cannot run `{}`: {err}", command[0]);
        ExitCode::from(127)
    })
}

/// Asks the child to stop (SIGTERM), kills it after `grace`, and reaps it. `None` when it had
/// already ended before it was asked.
fn stop(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    send(child, SIGTERM);
    let end = Instant::now() + grace;
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A command that ended on its own just as a change came in: restart it only if it did not
/// fail. (`stop` returns a status only for a command that had already ended.)
fn restartable(status: &ExitStatus) -> bool {
    status.success()
}

fn send(child: &Child, signal: i32) {
    let (Some(pid), Some(signal)) = (
        i32::try_from(child.id()).ok().and_then(Pid::from_raw),
        Signal::from_named_raw(signal),
    ) else {
        return;
    };
    let _ = kill_process(pid, signal);
}

fn signal_number(name: &str) -> i32 {
    match name {
        "HUP" => SIGHUP,
        "USR1" => SIGUSR1,
        "USR2" => SIGUSR2,
        "INT" => SIGINT,
        "QUIT" => SIGQUIT,
        _ => SIGTERM,
    }
}

/// Ends `settings` as the command ended: with its exit code, or by the signal that ended it.
fn exit_as(status: ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        // Back to the default action, then raised: we end as the command did.
        let _ = signal_hook::low_level::emulate_default_handler(signal);
        return ExitCode::from(128 + u8::try_from(signal).unwrap_or(0));
    }
    ExitCode::from(
        status
            .code()
            .map_or(1, |code| u8::try_from(code).unwrap_or(1)),
    )
}
