//! The RouterOS REST API of one device, over HTTP (`www`) and HTTPS (`www-ssl`).
//!
//! This module owns the connection side: accepting, counting, TLS, HTTP/1.1 keep-alive, and
//! everything that decides whether a request is answered at all — a disabled service, a reboot,
//! a lost management path, injected faults. Hyper is used directly rather than through a
//! router so a request can end with the connection closed and no reply (the `drop` fault, a
//! reboot), which is what clients of a real router experience.
//!
//! What a request means — paths, verbs, RouterOS's JSON shapes and error bodies — is in
//! [`api`]; the commands that need the console interpreter go through [`cli_hooks`].

pub mod api;
pub mod cli_hooks;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::faults::FaultAction;
use crate::fleet::{SimDevice, Transport, client_v4};
use crate::model::{Effect, LoginFailure};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// A RouterOS REST request running longer than this (simulated time) ends as `Session closed`.
pub const SESSION_LIMIT: Duration = Duration::from_secs(60);

/// Accepts connections on `listener` until the device's fleet shuts down.
pub async fn serve(device: Arc<SimDevice>, listener: TcpListener, transport: Transport) {
    let shutdown = device.shutdown_token().clone();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        device.counters().connection(transport);
        let dev = Arc::clone(&device);
        tokio::spawn(async move { connection(dev, stream, peer, transport).await });
    }
}

async fn connection(
    device: Arc<SimDevice>,
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
) {
    // A rebooting router or a disabled service does not talk at all.
    if device.is_rebooting() || !device.service_enabled(transport) {
        return;
    }
    let _ = stream.set_nodelay(true);
    let shutdown = device.shutdown_token().clone();
    let kill = CancellationToken::new();
    let died = device.rebooted();
    let serve = async {
        // A router that hangs or lost its path does not complete a TLS handshake either.
        device.wait_until_answering(client_v4(peer)).await;
        match transport {
            Transport::Https => {
                let acceptor = tokio_rustls::TlsAcceptor::from(device.tls_config());
                let handshake =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await;
                if let Ok(Ok(tls)) = handshake {
                    http(Arc::clone(&device), tls, peer, transport, kill.clone()).await;
                }
            }
            Transport::Http | Transport::Ssh | Transport::Api | Transport::ApiSsl => {
                http(Arc::clone(&device), stream, peer, transport, kill.clone()).await;
            }
        }
    };
    tokio::select! {
        _ = serve => {}
        _ = kill.cancelled() => {}
        _ = shutdown.cancelled() => {}
        _ = died => {}
    }
}

async fn http<I>(
    device: Arc<SimDevice>,
    io: I,
    peer: SocketAddr,
    transport: Transport,
    kill: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let device = Arc::clone(&device);
        let kill = kill.clone();
        async move { Ok::<_, Infallible>(handle(device, peer, transport, kill, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

/// A JSON response.
pub(crate) fn json_response(status: u16, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn empty_response(status: u16) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
    resp
}

fn unauthorized() -> Response<Full<Bytes>> {
    let mut resp = json_response(401, api::error_body(401, None));
    resp.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"REST API\""),
    );
    resp
}

fn basic_credentials(req: &Request<Incoming>) -> Option<(String, String)> {
    let value = req
        .headers()
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, b64) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

async fn handle(
    device: Arc<SimDevice>,
    peer: SocketAddr,
    transport: Transport,
    kill: CancellationToken,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let raw_path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    device
        .counters()
        .request(transport, method.as_str(), &raw_path);
    let counters = Arc::clone(&device);
    let _answering = counters.counters().answering();
    let client = client_v4(peer);
    device.wait_until_answering(client).await;

    let credentials = basic_credentials(&req);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return json_response(
                400,
                api::error_body(400, Some("request body too large or unreadable")),
            );
        }
    };
    let request = api::RestRequest::parse(&method, &raw_path, &raw_query, &body);
    let verdict = device.decide(request.kind());
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    match verdict.action {
        FaultAction::Proceed => {}
        FaultAction::Fail => {
            return json_response(
                500,
                api::error_body(500, Some("failure: simulated internal error")),
            );
        }
        FaultAction::Drop => {
            kill.cancel();
            return std::future::pending().await;
        }
        FaultAction::Reboot(down_for) => {
            device.reboot(down_for);
            return std::future::pending().await;
        }
        FaultAction::Hang => {
            device.wait_until_answering(client).await;
        }
    }

    let Some((user, password)) = credentials else {
        return unauthorized();
    };
    let info = match device.login(&user, &password, "rest-api", IpAddr::V4(client), "rest-api") {
        Ok(info) => info,
        Err(LoginFailure::BadCredentials | LoginFailure::PolicyDenied) => return unauthorized(),
    };
    // Listed in `/user/active` while the request is served.
    let _session = device.open_session(&user, IpAddr::V4(client), "rest-api");

    let reply = api::dispatch(&device, &info, &request).await;

    if let Some(Effect::Reboot) = reply.effect {
        let down = device.clock().to_real(crate::fleet::REBOOT_DOWNTIME);
        device.reboot_later(Duration::from_millis(100), down);
    }
    // A change that cut the management path never gets its reply through.
    device.wait_until_answering(client).await;
    match reply.body {
        Some(body) => json_response(reply.status, body),
        None => empty_response(reply.status),
    }
}
