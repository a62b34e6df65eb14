//! Logs on stderr (stdout is for command output, and for JSON-RPC under stdio).
//!
//! `LOG_FORMAT=text`: one line per event, coloured only when stderr is a terminal (never in a
//! file or the journal; `NO_COLOR` turns colour off there too). Notices ([`server::NOTICE`]:
//! the address served, a migration applied, a reload) are printed as plain sentences, warnings
//! and errors among them prefixed `warning:` and `error:`. `LOG_FORMAT=json`: one JSON object
//! per line, every one — notices included — with `timestamp`, `level`, `target`, the event's
//! fields (`message` among them) and, at the top level, the fields of the spans it happened in:
//! so a line logged during a tool call carries the call's `correlation_id` (the one of its audit
//! record), and one logged while an HTTP request is handled that request's.
//!
//! The level (`LOG_LEVEL`) can be changed while serving ([`Logging::reloadable`], on SIGHUP);
//! notices are shown whatever it is.

use std::fmt;
use std::io::IsTerminal as _;

use serde_json::{Map, Value};
use settings::{Loaded, Source};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{Format, JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::reload;

/// Libraries held to a level whatever the operator asks for (`LOG_LEVEL=trace`, or a directive
/// naming them or one of their modules): at more verbose levels rmcp logs every JSON-RPC message
/// in full (approval tokens in `plan.apply` arguments and auto-approval results) and russh logs
/// authentication exchanges.
const NEVER_VERBOSE: &[(&str, Level)] = &[("rmcp", Level::INFO), ("russh", Level::WARN)];

/// Whether an event or span would be more verbose than [`NEVER_VERBOSE`] allows for its crate.
fn too_verbose(meta: &tracing::Metadata<'_>) -> bool {
    let target = meta.target();
    NEVER_VERBOSE.iter().any(|(krate, max)| {
        let ours = target == *krate
            || target
                .strip_prefix(krate)
                .is_some_and(|rest| rest.starts_with("::"));
        ours && meta.level() > max
    })
}

type Handle = reload::Handle<EnvFilter, tracing_subscriber::Registry>;

/// What was set up; the handle that changes the level.
pub struct Logging {
    handle: Option<Handle>,
    json: bool,
}

impl fmt::Debug for Logging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logging")
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

impl Logging {
    /// The level, as a part of the server that a configuration reload changes.
    pub fn reloadable(&self) -> Option<LogLevel> {
        self.handle.clone().map(|handle| LogLevel { handle })
    }
}

/// `LOG_LEVEL`, applied live.
pub struct LogLevel {
    handle: Handle,
}

impl server::Reloadable for LogLevel {
    fn name(&self) -> &str {
        "log level"
    }

    fn keys(&self) -> &[&'static str] {
        &["log.level"]
    }

    fn check(&self, new: &settings::Settings) -> Result<(), String> {
        EnvFilter::try_new(directives(&new.log.level))
            .map(|_| ())
            .map_err(|e| format!("LOG_LEVEL: {e}"))
    }

    fn apply(&self, new: &settings::Settings) {
        if let Ok(filter) = EnvFilter::try_new(directives(&new.log.level))
            && let Err(e) = self.handle.reload(filter)
        {
            tracing::error!(error = %e, "the new log level was not applied");
        }
    }
}

/// The filter directives for a level: libraries that narrate every connection at debug level
/// are held to warnings unless the operator names targets in LOG_LEVEL.
fn directives(level: &str) -> String {
    if level.contains('=') {
        level.to_owned()
    } else {
        format!(
            "{level},sqlx=warn,rustls=warn,hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,tower=warn"
        )
    }
}

/// Sets up logging on stderr. CLI commands log warnings only unless LOG_LEVEL was set
/// explicitly; a server logs at the configured level.
pub fn init(loaded: &Loaded, serving: bool) -> Logging {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::FilterExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let explicit = loaded
        .entries
        .iter()
        .find(|e| e.key == "log.level")
        .is_some_and(|e| matches!(e.source, Source::Env(_) | Source::File(_)));
    let level = if explicit || serving {
        loaded.settings.log.level.as_str()
    } else {
        "warn"
    };
    let filter = EnvFilter::try_new(directives(level)).unwrap_or_else(|_| EnvFilter::new("warn"));
    let (filter, handle) = reload::Layer::new(filter);
    let notices = tracing_subscriber::filter::filter_fn(|meta| meta.target() == server::NOTICE);
    let never = tracing_subscriber::filter::filter_fn(|meta| !too_verbose(meta));
    let json = matches!(loaded.settings.log.format, settings::LogFormat::Json);
    let layer = if json {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .boxed()
    } else {
        let stderr = std::io::stderr();
        let colour = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour)
            .event_format(TextLines {
                full: tracing_subscriber::fmt::format().with_target(false),
            })
            .boxed()
    };
    let _ = JSON.set(json);
    let installed = tracing_subscriber::registry()
        .with(layer.with_filter(notices.or(filter)).with_filter(never))
        .try_init()
        .is_ok();
    Logging {
        handle: installed.then_some(handle),
        json,
    }
}

/// Whether log lines are JSON (set once logging is set up).
static JSON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Whether logging is set up and writes JSON lines (then even the last error is one).
pub fn json_active() -> bool {
    JSON.get().copied().unwrap_or(false)
}

/// Text lines: notices as plain sentences, everything else in `tracing`'s usual format.
struct TextLines {
    full: Format,
}

impl<S, N> FormatEvent<S, N> for TextLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if event.metadata().target() != server::NOTICE {
            return self.full.format_event(ctx, writer, event);
        }
        let prefix = match *event.metadata().level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            _ => "",
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields
            .0
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        writeln!(writer, "{prefix}{message}")
    }
}

/// One JSON object per line, span fields at the top level (the innermost span's win).
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        if SystemTime
            .format_time(&mut Writer::new(&mut timestamp))
            .is_ok()
        {
            line.insert("timestamp".into(), Value::String(timestamp));
        }
        let meta = event.metadata();
        line.insert("level".into(), Value::String(meta.level().to_string()));
        line.insert("target".into(), Value::String(meta.target().to_owned()));
        let mut spans = Vec::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                spans.push(Value::String(span.name().to_owned()));
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                // With JSON field formatting a span's fields are kept as a JSON object.
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields.as_str()) {
                    line.extend(fields);
                }
            }
        }
        if !spans.is_empty() {
            line.insert("spans".into(), Value::Array(spans));
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        line.extend(fields.0);
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// An event's fields as JSON values.
#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}
