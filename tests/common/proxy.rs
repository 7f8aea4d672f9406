//! A tiny HTTP proxy of our own in front of a real server: counts requests and injects faults
//! (error statuses, hangs, dropped connections) for the requests it is told to, forwarding the
//! rest. One request per connection; it serves only this test process, on loopback.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does with one request instead of forwarding it.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answers with this status and JSON body.
    Status(u16, &'static str),
    /// Holds the request for this long without answering, then drops it.
    Hang(Duration),
    /// Answers 200 with a JSON string body of this many bytes.
    Big(usize),
}

pub struct Proxy {
    addr: SocketAddr,
    count: Arc<AtomicUsize>,
    plan: Arc<Mutex<VecDeque<Fault>>>,
    modes: Arc<Modes>,
}

/// Standing faults, beside the planned ones.
#[derive(Default)]
struct Modes {
    /// Closes every connection at once, as a stopped server would.
    down: AtomicBool,
    /// Answers 500 to every n-th request (0: never).
    every: AtomicUsize,
}

impl Proxy {
    /// A proxy to `upstream` (`127.0.0.1:8200`) on a free loopback port.
    pub fn start(upstream: &str) -> Proxy {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("the proxy can bind a loopback port");
        let addr = listener.local_addr().expect("the proxy has an address");
        let count = Arc::new(AtomicUsize::new(0));
        let plan = Arc::new(Mutex::new(VecDeque::new()));
        let modes = Arc::new(Modes::default());
        let (thread_count, thread_plan, thread_modes, upstream) = (
            count.clone(),
            plan.clone(),
            modes.clone(),
            upstream.to_owned(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if thread_modes.down.load(Ordering::SeqCst) {
                    drop(stream);
                    continue;
                }
                let (count, plan, modes, upstream) = (
                    thread_count.clone(),
                    thread_plan.clone(),
                    thread_modes.clone(),
                    upstream.clone(),
                );
                std::thread::spawn(move || serve(stream, &count, &plan, &modes, &upstream));
            }
        });
        Proxy {
            addr,
            count,
            plan,
            modes,
        }
    }

    /// While `down`, every connection is closed at once, as if the server had stopped.
    #[allow(dead_code)]
    pub fn set_down(&self, down: bool) {
        self.modes.down.store(down, Ordering::SeqCst);
    }

    /// Answers 500 to every `n`-th request from now on (0: stop).
    #[allow(dead_code)]
    pub fn fail_every(&self, n: usize) {
        self.modes.every.store(n, Ordering::SeqCst);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// The next requests meet these faults, in order; later ones are forwarded.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.plan.lock().unwrap().extend(faults);
    }
}

fn serve(
    mut client: TcpStream,
    count: &AtomicUsize,
    plan: &Mutex<VecDeque<Fault>>,
    modes: &Modes,
    upstream: &str,
) {
    let Some(request) = read_request(&mut client) else {
        return;
    };
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    let every = modes.every.load(Ordering::SeqCst);
    let fault = plan.lock().unwrap().pop_front().or_else(|| {
        (every > 0 && n.is_multiple_of(every))
            .then_some(Fault::Status(500, r#"{"errors":["injected"]}"#))
    });
    match fault {
        Some(Fault::Status(status, body)) => {
            let response = format!(
                "HTTP/1.1 {status} Injected\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.write_all(response.as_bytes());
        }
        Some(Fault::Hang(duration)) => std::thread::sleep(duration),
        Some(Fault::Big(size)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
            );
            let mut body = vec![b' '; size];
            body[0] = b'"';
            body[size - 1] = b'"';
            let _ = client.write_all(head.as_bytes());
            let _ = client.write_all(&body);
        }
        None => {
            let Ok(mut server) = TcpStream::connect(upstream) else {
                return;
            };
            let _ = server.write_all(&request);
            let mut response = Vec::new();
            let _ = server.read_to_end(&mut response);
            let _ = client.write_all(&response);
        }
    }
}

/// Reads one request, rewriting it to `Connection: close` so the upstream ends its answer.
fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while data.len() < header_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let mut rewritten: Vec<u8> = head
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:") && !line.is_empty())
        .flat_map(|line| format!("{line}\r\n").into_bytes())
        .collect();
    rewritten.extend_from_slice(b"connection: close\r\n\r\n");
    rewritten.extend_from_slice(&data[header_end..]);
    Some(rewritten)
}
