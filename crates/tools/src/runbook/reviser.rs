//! The operator's model endpoint (`RUNBOOK_LLM_BASE_URL`, `RUNBOOK_LLM_MODEL`,
//! `RUNBOOK_LLM_API_KEY`): after a run fails in a way a better runbook would avoid, it is asked
//! (OpenAI-compatible chat completions) for the next version, which enters the review queue like
//! any proposal — checked first, never served before a person approves it. The request carries
//! the runbook and the run's log as the log keeps it (secrets already masked); the key is sent
//! only as the bearer header and never shown.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// How long one request may take (a model drafting a page of markdown is slow).
const TIMEOUT: Duration = Duration::from_secs(120);
/// The most of the run's log sent, in bytes.
const MAX_LOG: usize = 32 * 1024;
/// The most of an answer read, in bytes.
const MAX_ANSWER: usize = 512 * 1024;

/// A configured endpoint.
#[derive(Clone)]
pub struct Reviser {
    client: reqwest::Client,
    url: String,
    key: Option<SecretString>,
    model: String,
    host: String,
}

impl std::fmt::Debug for Reviser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviser")
            .field("host", &self.host)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Reviser {
    /// Checks the endpoint (https, or http only to a loopback address) and builds its client.
    pub fn new(base_url: &str, key: Option<SecretString>, model: &str) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(base_url.trim())
            .map_err(|e| format!("RUNBOOK_LLM_BASE_URL does not parse: {e}"))?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            scheme => {
                return Err(format!(
                    "RUNBOOK_LLM_BASE_URL is {scheme}:// to {host}: runbooks and run logs go \
                     there, so it must be https://, or http:// only to a loopback address"
                ));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?;
        let tls = match rustls_platform_verifier::Verifier::new(provider) {
            Ok(verifier) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth(),
            Err(e) if parsed.scheme() == "https" => {
                return Err(format!(
                    "the operating system's trusted certificates could not be loaded: {e}"
                ));
            }
            Err(_) => builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        };
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(TIMEOUT)
            .user_agent(concat!("routeros-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            url: format!("{}/chat/completions", base_url.trim().trim_end_matches('/')),
            key,
            model: model.to_owned(),
            host,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks for the next version of `runbook` (markdown) given the failed run's log; returns
    /// the markdown the model wrote, or why there is none (never quoting the key or URL).
    pub(crate) async fn draft(
        &self,
        runbook: &str,
        failure: &str,
        log: &str,
    ) -> Result<String, String> {
        let (system, user) = request_text(runbook, failure, log);
        Ok(markdown_of(&self.chat(&system, &user).await?))
    }

    /// Asks which failure category fits the failed run (the rules gave `failure` its first
    /// one); `None` when the answer names none of them.
    pub(crate) async fn classify(
        &self,
        runbook: &str,
        failure: &str,
        log: &str,
    ) -> Result<Option<super::engine::FailureType>, String> {
        let (_, user) = request_text(runbook, failure, log);
        let names = super::engine::FailureType::ALL.map(super::engine::FailureType::as_str);
        let system = format!(
            "You classify why a run of a network runbook failed. Answer with exactly one of: {}. \
             runbook_insufficient: the runbook's steps or checks were wrong or incomplete; \
             environment_difference: this network differs from what the runbook assumes; \
             wrong_diagnosis: the symptom was misread (a person rejected the change, say); \
             wrong_runbook: this runbook does not fit the symptom; external_dependency: \
             something outside the runbook failed (a device down, an upstream); \
             permission_denied: access was refused.",
            names.join(", ")
        );
        let answer = self.chat(&system, &user).await?;
        let lower = answer.to_ascii_lowercase();
        Ok(super::engine::FailureType::ALL
            .into_iter()
            .filter_map(|f| lower.find(f.as_str()).map(|at| (at, f)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, f)| f))
    }

    /// One chat-completions request; the answer's text.
    async fn chat(&self, system: &str, user: &str) -> Result<String, String> {
        let body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": 0.2,
        });
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().await.map_err(|e| {
            format!(
                "the model endpoint at {} did not answer: {}",
                self.host,
                if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "connection failed".to_owned()
                } else {
                    "request failed".to_owned()
                }
            )
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "the model endpoint at {} answered HTTP {status}",
                self.host
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|_| format!("the model endpoint at {} broke off its answer", self.host))?;
        if bytes.len() > MAX_ANSWER {
            return Err(format!(
                "the model endpoint at {} answered {} bytes; at most {MAX_ANSWER} are read",
                self.host,
                bytes.len()
            ));
        }
        let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
            format!(
                "the model endpoint at {} did not answer chat-completions JSON",
                self.host
            )
        })?;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| {
                format!(
                    "the model endpoint at {} answered without choices[0].message.content",
                    self.host
                )
            })?;
        Ok(content.to_owned())
    }
}

/// What a model is asked for the next version of `runbook` after a run failed with `failure`:
/// the system prompt and the user message (with the run's log, cut to 32 KiB).
pub(crate) fn request_text(runbook: &str, failure: &str, log: &str) -> (String, String) {
    let mut log = log.to_owned();
    if log.len() > MAX_LOG {
        let mut end = MAX_LOG;
        while !log.is_char_boundary(end) {
            end -= 1;
        }
        log.truncate(end);
        log.push_str("\n… (cut)");
    }
    let system = "You improve network runbooks for MikroTik RouterOS. You get a runbook \
        (markdown with YAML front matter and the sections Symptom, Diagnosis, Remediation, \
        Verify; tool steps are ```tool NAME {json}``` blocks, gates are ```expect``` blocks) \
        and the log of a run of it that failed. Answer with the complete next version of the \
        runbook only, in one ```markdown block: the same name, a higher version, status: \
        published, and only tools the runbook already uses unless the log shows another is \
        needed. Change what made the run fail; keep everything else."
        .to_owned();
    let user = format!(
        "The run failed: {failure}\n\nThe runbook:\n```markdown\n{runbook}\n```\n\nThe \
         run's log (JSON, secrets masked):\n```json\n{log}\n```"
    );
    (system, user)
}

/// The markdown inside the answer's first ```` ```markdown ```` (or ```` ```md ````) block, or
/// the whole answer when it has none.
pub(crate) fn markdown_of(content: &str) -> String {
    for fence in ["```markdown\n", "```md\n"] {
        if let Some(start) = content.find(fence) {
            let body = &content[start + fence.len()..];
            // The block ends at the last closing fence on a line of its own.
            if let Some(end) = body.rfind("\n```") {
                return format!("{}\n", &body[..end]);
            }
        }
    }
    content.trim().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_tls_or_this_machine_and_the_key_is_never_shown() {
        for url in [
            "http://llm.example.net/v1",
            "ftp://127.0.0.1/v1",
            "not a url",
        ] {
            assert!(Reviser::new(url, None, "m").is_err(), "{url}");
        }
        let r = Reviser::new(
            "http://127.0.0.1:9/v1/",
            Some(SecretString::from("sk-very-secret".to_owned())),
            "m",
        )
        .unwrap();
        assert_eq!(r.url, "http://127.0.0.1:9/v1/chat/completions");
        assert!(!format!("{r:?}").contains("sk-very-secret"));
        assert!(Reviser::new("https://llm.example.net/v1", None, "m").is_ok());
    }

    #[test]
    fn the_markdown_block_is_taken_from_the_answer() {
        let answer = "Here it is:\n```markdown\n---\nname: x\n---\n## Symptom\n```tool a.b\n{}\n```\n```\nThat fixes it.";
        assert_eq!(
            markdown_of(answer),
            "---\nname: x\n---\n## Symptom\n```tool a.b\n{}\n```\n"
        );
        assert_eq!(markdown_of("---\nname: y\n"), "---\nname: y\n");
    }
}
