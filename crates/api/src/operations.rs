//! Operations of the mobile token API: list, detail, history, claim, approve, reject.

use serde::Serialize;
use tokensim_device::Factors;
use tokensim_device::operations::{Operation, ProximityCheck};

use crate::{Leased, Ran, Result, Runner};

/// Operations, as `tokensim ops list --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct Operations {
    /// The operations, as the server sent them.
    pub operations: Vec<Operation>,
}

/// One operation's detail.
#[derive(Debug, Clone, Serialize)]
pub struct OperationShown {
    /// The operation.
    pub operation: Operation,
}

/// An operation claimed by this user.
#[derive(Debug, Clone, Serialize)]
pub struct Claimed {
    /// The operation id.
    pub id: String,
    /// Always `true`.
    pub claimed: bool,
    /// The operation after the claim.
    pub operation: Operation,
}

/// An approved operation.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    /// The operation id.
    pub id: String,
    /// Always `true`.
    pub approved: bool,
    /// The operation as it was approved.
    pub operation: Operation,
}

/// A rejected operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The operation id.
    pub id: String,
    /// Always `true`.
    pub rejected: bool,
    /// The reason sent, e.g. `UNEXPECTED_OPERATION`.
    pub reason: String,
}

/// The pending operations.
pub async fn list_operations(runner: &Runner<'_>, dev: &mut Leased) -> Result<Ran<Operations>> {
    let ran = runner
        .call(dev, async |s| s.list_operations().await)
        .await?;
    Ok(ran.map(|operations| Operations { operations }))
}

/// Operation `id`'s detail.
pub async fn operation_detail(
    runner: &Runner<'_>,
    dev: &mut Leased,
    id: &str,
) -> Result<Ran<OperationShown>> {
    let ran = runner
        .call(dev, async |s| s.operation_detail(id).await)
        .await?;
    Ok(ran.map(|operation| OperationShown { operation }))
}

/// The operation history (signed with `factors`).
pub async fn operation_history(
    runner: &Runner<'_>,
    dev: &mut Leased,
    factors: &Factors,
) -> Result<Ran<Operations>> {
    let ran = runner
        .call_with(dev, crate::knows(factors), async |s| {
            s.operation_history(factors).await
        })
        .await?;
    Ok(ran.map(|operations| Operations { operations }))
}

/// Claims operation `id` for this device's user.
pub async fn claim_operation(
    runner: &Runner<'_>,
    dev: &mut Leased,
    id: &str,
) -> Result<Ran<Claimed>> {
    let ran = runner
        .call(dev, async |s| s.claim_operation(id).await)
        .await?;
    Ok(ran.map(|operation| Claimed {
        id: id.to_owned(),
        claimed: true,
        operation,
    }))
}

/// Approves operation `id` with `factors`: its detail is fetched first (never faulted), then
/// the approval is signed over it (faulted when the runner says so), with the proximity OTP
/// when there is one.
pub async fn approve_operation(
    runner: &Runner<'_>,
    dev: &mut Leased,
    id: &str,
    factors: &Factors,
    proximity: Option<&ProximityCheck>,
) -> Result<Ran<Approved>> {
    let operation = runner
        .plain(dev, async |s| s.operation_detail(id).await)
        .await?;
    let ran = runner
        .call_with(dev, crate::knows(factors), async |s| {
            s.approve_operation(&operation, factors, proximity).await
        })
        .await?;
    Ok(ran.map(|()| Approved {
        id: id.to_owned(),
        approved: true,
        operation,
    }))
}

/// Rejects operation `id` with `reason` (`UNEXPECTED_OPERATION`, `INCORRECT_DATA`, …).
pub async fn reject_operation(
    runner: &Runner<'_>,
    dev: &mut Leased,
    id: &str,
    reason: &str,
) -> Result<Ran<Rejected>> {
    let ran = runner
        .call(dev, async |s| s.reject_operation(id, reason).await)
        .await?;
    Ok(ran.map(|()| Rejected {
        id: id.to_owned(),
        rejected: true,
        reason: reason.to_owned(),
    }))
}
