//! The command line: every command, option and help text.
//!
//! The command forms here are contracts that scripts and other tools rely on (see the README);
//! change them only by adding. Passwords are never accepted on the command line — only from
//! standard input or a named environment variable — because argv is visible to every user of the
//! machine.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use domain::{
    DeviceName, DeviceStatus, DriverPreference, Environment, Host, OrgName, Port, ProjectRef, Tag,
};
use routeros::Fingerprint;

const ROOT_HELP: &str = "\
Examples:
  routeros-mcp device add core-1 --address 192.0.2.1 --username mcp --password-stdin <pw.txt
  routeros-mcp device list
  routeros-mcp check
  routeros-mcp config show

Configuration comes from built-in defaults, the MCP_ENV profile (lab|staging|prod), a file
(--config or ROUTEROS_MCP_CONFIG) and environment variables, in that order of precedence;
`routeros-mcp config show` prints the result and where each value came from.

Exit status: 0 success, 1 failure, 2 invalid usage or configuration, 3 a verification found a
problem (audit chain broken, check failed).";

/// routeros-mcp: let an AI assistant operate a MikroTik RouterOS fleet — read anything, change only
/// what a human approved.
#[derive(Debug, Parser)]
#[command(name = "routeros-mcp", version, about, after_long_help = ROOT_HELP)]
pub struct Cli {
    /// Configuration file (TOML, YAML or JSON); overrides ROUTEROS_MCP_CONFIG.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio, Streamable HTTP, or both.
    #[command(after_help = "\
Examples:
  routeros-mcp serve                                  # stdio, for Claude Desktop and other local clients
  MCP_TRANSPORT=http routeros-mcp serve               # Streamable HTTP on 127.0.0.1:8080/mcp
  routeros-mcp serve --demo --transport http          # three simulated routers, no setup

Before serving, the configuration, database, master key and tool catalog are checked; any problem
stops startup with one message. SIGTERM or Ctrl-C stops accepting, lets calls in flight finish
(up to MCP_SHUTDOWN_GRACE_SECONDS, 30 s) and exits 0. SIGHUP reads the configuration again and
applies what can change live (log level, tool policy, token budget, device rate limits).")]
    Serve(ServeArgs),
    /// Validate, list, export and document the tool catalog (tool-schemas/).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Register, inspect, update and retire devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Manage organizations (tenancy roots; `default` always exists).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage projects within organizations (`default/default` always exists).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Apply pending database migrations (also done automatically at startup).
    #[command(after_help = "Example:\n  DATABASE_URL=postgres://mcp@db/mcp routeros-mcp migrate")]
    Migrate(OutputArgs),
    /// Validate configuration, tool catalog, database, master key, transport, devices and audit
    /// chain without changing anything (beside a running server: a port in use is a warning).
    #[command(
        after_help = "Example:\n  MCP_ENV=prod routeros-mcp check\n\nExits 3 when a check fails."
    )]
    Check(OutputArgs),
    /// The startup validation alone, just before `serve` (a systemd ExecStartPre=): as `check`,
    /// but a port in use fails and the audit chain is not walked.
    #[command(after_help = "Example:\n  \
        routeros-mcp preflight --transport http\n\n\
        Exits 0 when the server can start (warnings included), 3 when a check fails, 2 on a bad \
        configuration.")]
    Preflight(PreflightArgs),
    /// Create and rotate the master key that encrypts device credentials.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Read and verify the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Review, approve or reject the changes an assistant proposed.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Back up device configurations now, and read the stored snapshots.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Mint, list and revoke API tokens for the HTTP transport (MCP_AUTH_MODE=token, or oidc
    /// with MCP_AUTH_ALLOW_API_TOKENS=true).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work with runbooks: review the improved versions proposed after failed runs.
    #[command(subcommand)]
    Runbook(RunbookCommand),
}

/// `routeros-mcp runbook …`.
#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// The review queue: versions of a runbook proposed after a failed run wait here until a
    /// person approves (it is then served in place of the version it improves) or rejects them.
    #[command(subcommand, after_long_help = REVIEW_HELP)]
    Review(ReviewCommand),
}

const REVIEW_HELP: &str = "\
Examples, a review from start to finish:
  routeros-mcp runbook review list                       # what waits, high priority first
  routeros-mcp runbook review show 0193c1f2-…            # the diff and the failed run behind it
  routeros-mcp runbook review approve 0193c1f2-… --notes \"checked on the lab router\"
  routeros-mcp runbook review reject 0193c1f2-… --reason \"restarts the wrong service\"
  routeros-mcp runbook review stats

Approving publishes the proposal: running servers serve it in place of the version it improves
(within 2 s; that version becomes deprecated) for as long as that runbook's file is unchanged. A
proposal that does not validate against this build's tool catalog cannot be approved; reject it.
Each decision is taken once — a second one is refused and changes nothing — and is recorded in the
audit log under your user name (cli:<user>). The same queue is served over HTTP at /api/review/…
(see docs/runbooks.md).";

/// `routeros-mcp runbook review …`.
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// List the proposals waiting for a decision: high priority first, then the oldest.
    #[command(after_help = "\
Examples:
  routeros-mcp runbook review list
  routeros-mcp runbook review list --priority high --output json")]
    List(ReviewList),
    /// Show a proposal: its rationale, the unified diff to the version it would replace, and the
    /// failed run it was generated from (how it failed, every step it ran).
    #[command(after_help = "\
Examples:
  routeros-mcp runbook review show 0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d
  routeros-mcp runbook review show 0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d --output json")]
    Show(ReviewRef),
    /// Approve a proposal: it is served in place of the version it improves.
    #[command(after_help = "\
Examples:
  routeros-mcp runbook review show 0193c1f2-…        # read the diff first
  routeros-mcp runbook review approve 0193c1f2-… --notes \"tested on the lab router\"

Refused (exit 1, nothing changed) when the proposal was decided already or does not validate
against this build's tool catalog. Recorded under your user name (cli:<user>).")]
    Approve(ReviewApprove),
    /// Reject a proposal, saying why; it is never served.
    #[command(after_help = "\
Example:
  routeros-mcp runbook review reject 0193c1f2-… --reason \"does not handle the bridge case\"")]
    Reject(ReviewReject),
    /// The queue's statistics: waiting, approved, rejected, the approval ratio and how long the
    /// oldest high-priority proposal has waited.
    #[command(after_help = "Example:\n  routeros-mcp runbook review stats --output json")]
    Stats(OutputArgs),
}

#[derive(Debug, Args)]
pub struct ReviewList {
    /// Only proposals of this priority: high, medium or low.
    #[arg(long)]
    pub priority: Option<String>,
    /// Maximum proposals to show (1 to 500).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: u32,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReviewRef {
    /// The proposal's id (a UUID, as `runbook review list` shows it).
    pub id: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReviewApprove {
    /// The proposal's id.
    pub id: String,
    /// Notes recorded with the approval (what you checked).
    #[arg(long)]
    pub notes: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReviewReject {
    /// The proposal's id.
    pub id: String,
    /// Why it is rejected (required; recorded with the decision and in the audit log).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `routeros-mcp token …`: bearer tokens this server mints.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token: printed once, stored only as a hash.
    #[command(after_help = "\
Examples:
  routeros-mcp token create --role operator --name claude-desktop
  routeros-mcp token create --role viewer --project acme/site-a --expires 30d --output json
  routeros-mcp token create --role admin --name break-glass --expires never

Roles: viewer (read devices, plans and audit; read-only tools), operator (viewer + proposing plans
and applying approved ones), approver (approve or reject plans), admin (everything, including
devices, credentials, tokens, organizations and projects).

The token is shown only now; store it in a secret manager. A client sends it as
`Authorization: Bearer <token>`. Revoke it with `routeros-mcp token revoke ID`.")]
    Create(TokenCreate),
    /// List tokens (never the tokens themselves): id, name, role, scope, expiry, last use.
    #[command(after_help = "Example:\n  routeros-mcp token list --output json")]
    List(OutputArgs),
    /// Revoke a token at once; requests bearing it are refused from then on.
    #[command(after_help = "Example:\n  routeros-mcp token revoke 3f9c2a7d1e0b4c56")]
    Revoke {
        /// The token's id (as `token list` shows it; the part after `rmcp_`).
        id: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Args)]
pub struct TokenCreate {
    /// The one role the token grants: viewer, operator, approver or admin.
    #[arg(long, value_parser = parse_role)]
    pub role: auth::Role,
    /// Limit the token to one project (ORG/PROJECT); without it, every project.
    #[arg(long, value_name = "ORG/PROJECT")]
    pub project: Option<ProjectRef>,
    /// Lifetime: a number with a unit (30m, 12h, 30d, 8w) or `never`.
    #[arg(long, default_value = "90d", value_parser = parse_lifetime)]
    pub expires: admin_api::tokens::Lifetime,
    /// A label for people (`token list` shows it): what or who uses the token.
    #[arg(long, default_value = "api token")]
    pub name: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_role(text: &str) -> Result<auth::Role, String> {
    text.parse::<auth::Role>().map_err(|e| e.to_string())
}

fn parse_lifetime(text: &str) -> Result<admin_api::tokens::Lifetime, String> {
    text.parse()
}

/// `routeros-mcp plan …`: the human side of plan → approve → apply.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// List plans, newest first.
    #[command(
        after_help = "Examples:\n  routeros-mcp plan list --status pending\n  routeros-mcp plan list --device core-1 --output json"
    )]
    List(PlanList),
    /// Show a plan: every change in RouterOS terms, its undo, the risk and why, the decisions and
    /// (once applied) what happened on each device.
    #[command(after_help = "Example:\n  routeros-mcp plan show 0193c1f2-…")]
    Show(PlanRef),
    /// Approve a plan: prints the single-use approval token to give to the assistant (it
    /// expires after MCP_PLAN_APPROVAL_TIMEOUT_SECONDS and is bound to the plan as shown).
    #[command(after_help = "\
Examples:
  routeros-mcp plan show 0193c1f2-…              # review first
  routeros-mcp plan approve 0193c1f2-…
  routeros-mcp plan approve 0193c1f2-… --output json   # {\"approval_token\": …}

The approval is recorded in the audit log under your user name; the token is stored only as a
hash and works once.")]
    Approve(PlanRef),
    /// Reject a plan so it can never be applied.
    #[command(
        after_help = "Example:\n  routeros-mcp plan reject 0193c1f2-… --reason \"not during business hours\""
    )]
    Reject(PlanReject),
    /// Cancel a plan that was not applied.
    #[command(after_help = "Example:\n  routeros-mcp plan cancel 0193c1f2-…")]
    Cancel(PlanRef),
    /// Show a plan's apply journal: every step on every device, in order.
    #[command(after_help = "Example:\n  routeros-mcp plan journal 0193c1f2-… --output json")]
    Journal(PlanRef),
    /// Pause a running staged rollout: no further device starts until it is resumed or aborted.
    #[command(after_help = "Example:\n  routeros-mcp plan pause 0193c1f2-…")]
    Pause(PlanRef),
    /// Resume a paused staged rollout.
    #[command(after_help = "Example:\n  routeros-mcp plan resume 0193c1f2-…")]
    Resume(PlanRef),
    /// Abort a staged rollout: it stops and every device it changed is reverted.
    #[command(after_help = "Example:\n  routeros-mcp plan abort 0193c1f2-…")]
    Abort(PlanRef),
}

#[derive(Debug, Args)]
pub struct PlanList {
    /// Only plans in this status (pending, approved, applying, applied, rolled_back, failed,
    /// rejected, cancelled).
    #[arg(long)]
    pub status: Option<String>,
    /// Only plans that change this device (name or id).
    #[arg(long)]
    pub device: Option<String>,
    /// Maximum plans to show.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PlanRef {
    /// The plan's id (see `routeros-mcp plan list`).
    pub plan_id: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PlanReject {
    /// The plan's id.
    pub plan_id: String,
    /// Why (recorded in the audit log and shown to the assistant).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Transport (default: MCP_TRANSPORT).
    #[arg(long, value_enum)]
    pub transport: Option<TransportArg>,
    /// Expose only read-only tools (as MCP_READ_ONLY=true); wins over every other tool setting.
    #[arg(long)]
    pub read_only: bool,
    /// Start three simulated routers (home, switch48, edge) in-process with a temporary
    /// database and serve them: a working server with no setup. Only in builds with the
    /// default `demo` feature (a build without it exits 2 and says so).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The transport `serve` will run (default: MCP_TRANSPORT).
    #[arg(long, value_enum)]
    pub transport: Option<TransportArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    Stdio,
    Http,
    Both,
}

impl From<TransportArg> for settings::Transport {
    fn from(t: TransportArg) -> Self {
        match t {
            TransportArg::Stdio => settings::Transport::Stdio,
            TransportArg::Http => settings::Transport::Http,
            TransportArg::Both => settings::Transport::Both,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Check every schema file (meta-schema, names, tiers, duplicates, descriptions, handlers).
    #[command(after_help = "Example:\n  routeros-mcp catalog validate --dir tool-schemas")]
    Validate {
        /// Validate this directory instead of the catalog built into the binary.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write the whole catalog as one JSON document.
    #[command(
        after_help = "Example:\n  routeros-mcp catalog export --output dist/mcp-tool-catalog.json"
    )]
    Export {
        #[arg(long, value_name = "PATH")]
        output: PathBuf,
    },
    /// List the tools with their tier and whether this configuration shows them.
    #[command(after_help = "Example:\n  MCP_ENV=prod routeros-mcp catalog list")]
    List(OutputArgs),
    /// Write the tool catalog document (docs/tool-catalog.md).
    #[command(after_help = "Example:\n  routeros-mcp catalog docs --output docs/tool-catalog.md")]
    Docs {
        #[arg(long, value_name = "PATH")]
        output: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// Where a password comes from. Exactly one is required; argv is never a source.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// Read the password from standard input (first line; without echo on a terminal).
    #[arg(long)]
    pub password_stdin: bool,
    /// Read the password from the named environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProjectArg {
    /// Project as ORG/PROJECT.
    #[arg(long, value_name = "ORG/PROJECT", default_value = "default/default")]
    pub project: ProjectRef,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device and store its credentials encrypted.
    #[command(after_help = "\
Examples:
  printf '%s\\n' \"$PW\" | routeros-mcp device add core-1 --address 192.0.2.1 --username mcp --password-stdin
  routeros-mcp device add edge-fra1 --address edge-fra1.example.net --driver rest \\
      --username mcp --password-env ROUTER_PW --env prod --tag site=fra1 --tag role=edge \\
      --project acme/branches")]
    Add(DeviceAdd),
    /// List devices (decommissioned ones only with --all).
    #[command(
        after_help = "Examples:\n  routeros-mcp device list --env prod --tag site=fra1\n  routeros-mcp device list --output json"
    )]
    List(DeviceList),
    /// Show one device by name or id.
    #[command(after_help = "Example:\n  routeros-mcp device show core-1 --output json")]
    Show(DeviceRef),
    /// Change a device's metadata (address, ports, driver, environment, tags, status, name).
    #[command(
        after_help = "Examples:\n  routeros-mcp device update core-1 --address 192.0.2.2 --ssh-port 2222\n  routeros-mcp device update core-1 --tag role=core --remove-tag temp --status inactive"
    )]
    Update(DeviceUpdate),
    /// Retire a device: never contacted again, secrets wiped, history kept.
    #[command(after_help = "Example:\n  routeros-mcp device decommission core-1")]
    Decommission(DeviceRef),
    /// Store a new password (and optionally username) for a device.
    /// Store a new password for a device, or rotate the credentials on the device itself.
    #[command(after_help = "\
Examples:
  routeros-mcp device rotate-credentials core-1 --password-env NEW_PW
  routeros-mcp device rotate-credentials core-1 --on-device

--on-device creates a new RouterOS user (same group, random 32-character password) with the
current login, proves it can log in, stores it, and only then disables the old user. A failure
before the new login is stored removes the new user and keeps the old credentials.")]
    RotateCredentials(DeviceRotate),
    /// Contact a device through each driver: reachable, identity, version, round-trip time.
    #[command(after_help = "\
Examples:
  routeros-mcp device test core-1
  routeros-mcp device test core-1 --trust-on-first-use --output json

Updates the stored facts (RouterOS version, board, architecture, identity). With
--trust-on-first-use, a certificate or host key that has no pin yet is recorded; a recorded pin
is never replaced this way (use `device update --tls-fingerprint/--ssh-host-key`).")]
    Test(DeviceTest),
    /// Onboard many devices from a JSON file (the routeros-sim manifest is accepted as is).
    #[command(after_help = "\
Examples:
  routeros-mcp device import fleet.json
  routeros-sim --count 10 --profile home --manifest sims.json &
  routeros-mcp device import sims.json --project lab/sims

The file is a JSON list of devices, or an object with a \"devices\" list. Each device has name,
address, username, password, and optionally https_port (or rest_port), http_port, ssh_port,
tls_sha256, ssh_host_key_sha256, env, tags, driver, project, insecure_http. Every device is
contacted and checked before it is registered; a failing device adds nothing and does not stop
the others. The command exits 1 if any device failed.")]
    Import(DeviceImport),
}

/// How to decide which certificate / host key to trust when contacting a new device.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Connect now, show the TLS certificate and SSH host key fingerprints, and pin them.
    #[arg(long)]
    pub trust_on_first_use: bool,
    /// Pin this SHA-256 of the device's TLS certificate (64 hex digits, colons allowed).
    #[arg(long, value_name = "SHA256")]
    pub tls_fingerprint: Option<Fingerprint>,
    /// Pin this SHA-256 of the device's SSH host key (hex, or SHA256:base64 as ssh-keygen prints).
    #[arg(long, value_name = "SHA256")]
    pub ssh_host_key: Option<Fingerprint>,
}

#[derive(Debug, Args)]
pub struct DeviceTest {
    #[command(flatten)]
    pub device: DeviceRef,
    /// Record the certificate / host key presented where none is pinned yet.
    #[arg(long)]
    pub trust_on_first_use: bool,
}

#[derive(Debug, Args)]
pub struct DeviceImport {
    /// JSON file with the devices.
    pub file: PathBuf,
    /// Project for entries that name none.
    #[arg(long, value_name = "ORG/PROJECT", default_value = "default/default")]
    pub project: ProjectRef,
    /// Environment for entries that name none (default: prod, the restrictive one; lab relaxes
    /// approvals, so it is never assumed).
    #[arg(long = "env", value_name = "lab|staging|prod")]
    pub environment: Option<Environment>,
    /// Pin what devices present where the file gives no fingerprint.
    #[arg(long)]
    pub trust_on_first_use: bool,
    /// Devices contacted at the same time.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DeviceAdd {
    /// Name of the device, unique in its project.
    pub name: DeviceName,
    /// Management address: IPv4, IPv6 or hostname.
    #[arg(long)]
    pub address: Host,
    /// RouterOS REST (HTTPS) port.
    #[arg(long, default_value = "443", value_name = "N")]
    pub rest_port: Port,
    /// RouterOS SSH port.
    #[arg(long, default_value = "22", value_name = "N")]
    pub ssh_port: Port,
    /// How to talk to the device: REST on RouterOS >= 7.1 with SSH fallback (auto), or one of them.
    #[arg(long, default_value = "auto")]
    pub driver: DriverPreference,
    /// RouterOS user the server logs in as.
    #[arg(long)]
    pub username: String,
    #[command(flatten)]
    pub password: PasswordSource,
    /// Environment of the device (default: prod, the restrictive one; lab relaxes approvals, so
    /// it is never assumed).
    #[arg(long = "env", value_name = "lab|staging|prod")]
    pub environment: Option<Environment>,
    /// Tag as KEY=VALUE; repeat for several.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<Tag>,
    #[command(flatten)]
    pub project: ProjectArg,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Talk REST over plain HTTP (RouterOS >= 7.9, service www); refused for prod devices.
    #[arg(long)]
    pub insecure_http: bool,
    /// Plain-HTTP port of the REST API (with --insecure-http).
    #[arg(long, value_name = "N", default_value = "80")]
    pub http_port: Port,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DeviceList {
    /// Only this project (ORG/PROJECT).
    #[arg(long, value_name = "ORG/PROJECT")]
    pub project: Option<ProjectRef>,
    /// Only this environment.
    #[arg(long = "env", value_name = "lab|staging|prod")]
    pub environment: Option<Environment>,
    /// Only devices with this tag (repeat: all must match).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<Tag>,
    /// Only this status.
    #[arg(long)]
    pub status: Option<DeviceStatus>,
    /// Include decommissioned devices.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DeviceRef {
    /// Device name or id.
    pub name: String,
    /// Project to look the name up in (default: any project, if unambiguous).
    #[arg(long, value_name = "ORG/PROJECT")]
    pub project: Option<ProjectRef>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DeviceUpdate {
    #[command(flatten)]
    pub device: DeviceRef,
    /// New name.
    #[arg(long, value_name = "NAME")]
    pub rename: Option<DeviceName>,
    /// New management address.
    #[arg(long)]
    pub address: Option<Host>,
    #[arg(long, value_name = "N")]
    pub rest_port: Option<Port>,
    #[arg(long, value_name = "N")]
    pub ssh_port: Option<Port>,
    #[arg(long)]
    pub driver: Option<DriverPreference>,
    #[arg(long = "env", value_name = "lab|staging|prod")]
    pub environment: Option<Environment>,
    /// active or inactive (use `device decommission` to retire).
    #[arg(long, value_name = "active|inactive")]
    pub status: Option<DeviceStatus>,
    /// Add or change a tag (KEY=VALUE); repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<Tag>,
    /// Remove a tag by key; repeatable.
    #[arg(long = "remove-tag", value_name = "KEY")]
    pub remove_tags: Vec<String>,
    /// Re-pin the TLS certificate (after a legitimate re-key of the device).
    #[arg(long, value_name = "SHA256")]
    pub tls_fingerprint: Option<Fingerprint>,
    /// Re-pin the SSH host key (after a legitimate re-key of the device).
    #[arg(long, value_name = "SHA256")]
    pub ssh_host_key: Option<Fingerprint>,
    /// Use REST over plain HTTP (true) or HTTPS (false); plain HTTP is refused for prod devices.
    #[arg(long, value_name = "true|false")]
    pub insecure_http: Option<bool>,
    #[arg(long, value_name = "N")]
    pub http_port: Option<Port>,
    /// Whether plans of basic tools (and of low or medium risk) may be proposed for the device;
    /// `default` follows its environment (on everywhere).
    #[arg(long, value_name = "true|false|default")]
    pub allow_basic_writes: Option<FlagSetting>,
    /// Whether plans of professional tools (and of high or critical risk) may be proposed for
    /// the device; `default` follows its environment (on in lab and staging, off in prod).
    #[arg(long, value_name = "true|false|default")]
    pub allow_professional_workflows: Option<FlagSetting>,
}

/// A capability flag as `device update` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagSetting {
    Set(bool),
    /// Back to the environment's default.
    Default,
}

impl FlagSetting {
    /// The value stored on the device record (`None`: the environment's default).
    pub fn stored(self) -> Option<bool> {
        match self {
            FlagSetting::Set(b) => Some(b),
            FlagSetting::Default => None,
        }
    }
}

impl std::str::FromStr for FlagSetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "true" => Ok(FlagSetting::Set(true)),
            "false" => Ok(FlagSetting::Set(false)),
            "default" => Ok(FlagSetting::Default),
            other => Err(format!(
                "{other:?}: expected true, false or default (follow the device's environment)"
            )),
        }
    }
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("rotation").required(true).args(["password_stdin", "password_env", "on_device"]))]
pub struct DeviceRotate {
    #[command(flatten)]
    pub device: DeviceRef,
    /// New RouterOS username (default: keep the current one).
    #[arg(long, conflicts_with = "on_device")]
    pub username: Option<String>,
    /// Read the new password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Read the new password from the named environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Create a new user on the device, switch to it, and disable the old one.
    #[arg(long)]
    pub on_device: bool,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization (with its `default` project).
    #[command(after_help = "Example:\n  routeros-mcp org create acme")]
    Create {
        name: OrgName,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List organizations.
    List(OutputArgs),
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project in an existing organization.
    #[command(after_help = "Example:\n  routeros-mcp project create acme/branches")]
    Create {
        /// ORG/PROJECT
        project: ProjectRef,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List projects.
    #[command(after_help = "Example:\n  routeros-mcp project list --org acme")]
    List {
        /// Only this organization.
        #[arg(long)]
        org: Option<OrgName>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print a new random master key (base64) on stdout, or write it to a file with mode 0600.
    #[command(after_help = "\
Examples:
  routeros-mcp key generate --output-file /etc/routeros-mcp/master.key
  ROUTEROS_MCP_MASTER_KEY=$(routeros-mcp key generate) routeros-mcp check")]
    Generate {
        /// Write the key to this new file (mode 0600) instead of stdout.
        #[arg(long, value_name = "PATH")]
        output_file: Option<PathBuf>,
    },
    /// Re-encrypt every stored credential under a new master key, in one transaction.
    #[command(after_help = "\
Without --new-key-*, a new key is generated and replaces the key file in use (the generated lab
key or ROUTEROS_MCP_MASTER_KEY_FILE). With a key from ROUTEROS_MCP_MASTER_KEY, pass the new key
and then update the variable.

Examples:
  routeros-mcp key rotate
  routeros-mcp key generate --output-file new.key && routeros-mcp key rotate --new-key-file new.key")]
    Rotate {
        /// File holding the new key (base64).
        #[arg(long, value_name = "PATH", conflicts_with = "new_key_env")]
        new_key_file: Option<PathBuf>,
        /// Environment variable holding the new key (base64).
        #[arg(long, value_name = "VAR")]
        new_key_env: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting, its effective value (secrets masked) and where it came from.
    #[command(
        after_help = "Example:\n  MCP_ENV=prod routeros-mcp --config /etc/routeros-mcp/config.toml config show"
    )]
    Show(OutputArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first.
    #[command(
        after_help = "Examples:\n  routeros-mcp audit list --device core-1\n  routeros-mcp audit list --action device. --limit 200 --output json"
    )]
    List(AuditList),
    /// Walk the hash chain and name the first broken link (exit 3 if broken).
    #[command(after_help = "Example:\n  routeros-mcp audit verify && echo intact")]
    Verify(OutputArgs),
}

#[derive(Debug, Args)]
pub struct AuditList {
    /// Maximum events to show.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// Only events about this device (name or id).
    #[arg(long)]
    pub device: Option<String>,
    /// Only actions starting with this text (e.g. `device.` or `key.rotate`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only events of one request.
    #[arg(long, value_name = "ID")]
    pub correlation_id: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up devices now (all active devices when none is named); a snapshot is stored only
    /// when the configuration changed. With --binary, the device's own `/system backup save`
    /// file instead. Exit status 1 if any device failed.
    #[command(after_help = BACKUP_RUN_HELP)]
    Run(BackupRun),
    /// List a device's backups, newest first: export snapshots and binary backups (KIND).
    #[command(after_help = "Example:\n  routeros-mcp backup list core-1 --output json")]
    List(BackupList),
    /// Write a binary backup to disk: the `.backup` file as the router made it (mode 0600) and
    /// its password in PATH.password beside it (mode 0600). The password is never printed.
    #[command(after_help = BACKUP_FETCH_HELP)]
    Fetch(BackupFetch),
    /// Show one snapshot (secrets hidden).
    #[command(after_help = "Example:\n  routeros-mcp backup show 0190a1b2-...")]
    Show(BackupShow),
}

const BACKUP_RUN_HELP: &str = "\
Examples:
  routeros-mcp backup run
  routeros-mcp backup run core-1 edge-2 --output json
  routeros-mcp backup run --binary core-1

--binary: the router saves a binary backup (/system backup save) encrypted with a fresh random
password; the file is fetched over SFTP (the device user needs the ftp policy; the pinned SSH
host key is checked), removed from the router — also when fetching fails — and kept sealed
under the master key with its password. Files over 64 MiB are refused. Each run is recorded in
the audit log under your user name (cli:<user>). `backup fetch ID --output PATH` writes it out.";

const BACKUP_FETCH_HELP: &str = "\
Example:
  routeros-mcp backup fetch 0193c1f2-… --output /secure/core-1.backup
    writes /secure/core-1.backup and /secure/core-1.backup.password (both mode 0600)

Restore by hand: upload the file to the router (SFTP, or Files in WinBox/WebFig), then on the
router run  /system backup load name=core-1.backup password=<contents of the .password file>
(the router reboots). Existing files are never overwritten.";

#[derive(Debug, Args)]
pub struct BackupFetch {
    /// Binary backup id (see `backup list DEVICE`, KIND binary).
    pub id: String,
    /// Where to write the `.backup` file; the password goes to PATH.password.
    #[arg(long, value_name = "PATH")]
    pub output: std::path::PathBuf,
    /// Refuse a backup of a device outside this project (ORG/PROJECT).
    #[arg(long)]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct BackupRun {
    /// Device names or ids (default: every active device).
    pub devices: Vec<String>,
    /// Take a binary backup (/system backup save, fetched over SFTP) instead of an export
    /// snapshot.
    #[arg(long)]
    pub binary: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BackupList {
    /// Device name or id.
    pub device: String,
    /// Maximum snapshots to show.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BackupShow {
    /// Snapshot id (see `backup list`).
    pub id: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn passwords_cannot_be_given_as_arguments() {
        let err = Cli::try_parse_from([
            "routeros-mcp",
            "device",
            "add",
            "r1",
            "--address",
            "192.0.2.1",
            "--username",
            "u",
            "--password",
            "secret",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--password"));
        let missing = Cli::try_parse_from([
            "routeros-mcp",
            "device",
            "add",
            "r1",
            "--address",
            "192.0.2.1",
            "--username",
            "u",
        ])
        .unwrap_err();
        assert!(
            missing.to_string().contains("--password-stdin"),
            "{missing}"
        );
    }

    #[test]
    fn bad_values_are_named_with_what_is_allowed() {
        let err = Cli::try_parse_from([
            "routeros-mcp",
            "device",
            "add",
            "r1",
            "--address",
            "10.0.0.300",
            "--username",
            "u",
            "--password-stdin",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--address") && err.contains("hostname"),
            "{err}"
        );
        let err = Cli::try_parse_from([
            "routeros-mcp",
            "device",
            "add",
            "r1",
            "--address",
            "h",
            "--ssh-port",
            "70000",
            "--username",
            "u",
            "--password-stdin",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("between 1 and 65535"), "{err}");
        let err = Cli::try_parse_from([
            "routeros-mcp",
            "device",
            "add",
            "r1",
            "--address",
            "h",
            "--env",
            "qa",
            "--username",
            "u",
            "--password-stdin",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("lab|staging|prod"), "{err}");
    }
}
