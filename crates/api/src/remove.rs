//! Remove: the activation removed on the server (signed with possession and the PIN), then
//! the device forgotten here.

use serde::Serialize;
use tokensim_device::Factors;

use crate::{Leased, Ran, Result, Runner};

/// A removed device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Its store id.
    pub id: String,
    /// Always `true`.
    pub removed: bool,
}

/// Removes the activation on the server with `factors` (possession and knowledge: the
/// server refuses anything less), then the device from its wallet. Under a fault, the device
/// stays in the wallet.
pub async fn remove(
    runner: &Runner<'_>,
    dev: &mut Leased,
    factors: &Factors,
) -> Result<Ran<Removed>> {
    let ran = runner
        .call_with(dev, true, async |s| s.remove_activation(factors).await)
        .await?;
    if let Ran::Done(()) = ran {
        dev.wallet().remove(dev.id())?;
    }
    let id = dev.id().to_string();
    Ok(ran.map(|()| Removed { id, removed: true }))
}
