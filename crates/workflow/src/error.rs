//! How the workflow refuses or fails. Every message names what was wrong and what to do; none
//! carries a credential or a token.

use fleet::FleetError;
use routeros::DriverError;
use store::StoreError;

/// Why an approval token is refused, each case with its own reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error(
        "not an approval token: expected the text `routeros-mcp plan approve` printed (rmcp-approval-v1.…)"
    )]
    Malformed,
    #[error(
        "the approval token's signature is invalid: it was altered, forged, or issued under another master key"
    )]
    Forged,
    #[error("this approval token approves plan {token_plan}, not plan {plan}")]
    OtherPlan { token_plan: String, plan: String },
    #[error("the approval token expired at {expired_at}; approve the plan again")]
    Expired { expired_at: String },
    #[error("the approval token is not on record: it was not issued by this server's database")]
    Unknown,
    #[error("the approval token was already used at {used_at}; approval tokens are single-use")]
    Reused { used_at: String },
    #[error(
        "plan {plan} changed after it was approved (its content hash differs from the approved one): review it and approve it again"
    )]
    PlanChanged { plan: String },
}

/// Everything the workflow can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    #[error("no plan \"{0}\": plan.list shows the plans")]
    PlanNotFound(String),
    /// A change request that cannot become a plan (unknown menu, no such item, …).
    #[error("{0}")]
    Invalid(String),
    /// The request is understood but not allowed now (wrong status, policy, switched off).
    #[error("{0}")]
    Refused(String),
    /// Another process moved the plan first: what this one saw is no longer true.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Reading the device while planning failed.
    #[error("{0}")]
    Device(#[from] DriverError),
    #[error(transparent)]
    Fleet(#[from] FleetError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A plan's journal that recovery cannot read: it stops for that plan, never guesses.
    #[error(
        "the journal of plan {plan} holds {detail}; recovery of this plan stopped and it stays applying: look at `routeros-mcp plan journal {plan}` and the routers"
    )]
    Journal { plan: String, detail: String },
    /// A stored plan that does not parse: the database was edited by hand.
    #[error("plan {0} is stored in a form this server cannot read; was the database edited?")]
    Corrupt(String),
}

impl WorkflowError {
    /// Short label for metrics and tool errors.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkflowError::PlanNotFound(_) => "not_found",
            WorkflowError::Invalid(_) => "invalid",
            WorkflowError::Refused(_) => "refused",
            WorkflowError::Conflict(_) => "conflict",
            WorkflowError::Token(_) => "token",
            WorkflowError::Device(e) => e.kind.code(),
            WorkflowError::Fleet(_) => "fleet",
            WorkflowError::Store(_)
            | WorkflowError::Database(_)
            | WorkflowError::Corrupt(_)
            | WorkflowError::Journal { .. } => "internal",
        }
    }
}
