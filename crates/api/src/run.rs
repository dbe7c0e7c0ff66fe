//! Running one engine call on a stored device: lease it, load it, run the call in a
//! [`Session`] (plainly, or under a [`Fault`] with its [`FaultReport`]), save it. The CLI's
//! commands and the app's commands all go through here.

use serde::Serialize;
use tokensim_device::{
    ActiveDevice, Client, DeviceState, Error as DeviceError, Fault, FaultReport, FaultRun, Session,
};
use tokensim_wallet::{DeviceId, Lease, Wallet, WalletPersist};

use crate::{Error, Result};

/// A stored device, leased and loaded: no other thread or process uses its counter until
/// this is dropped (after the last save).
#[derive(Debug)]
pub struct Leased {
    wallet: Wallet,
    id: DeviceId,
    /// The device as loaded (and as changed by the calls run on it).
    pub device: ActiveDevice,
    persist: WalletPersist,
    _lease: Lease,
}

impl Leased {
    /// Leases device `id` (blocking while another holder has it), then loads it.
    pub fn open(wallet: &Wallet, id: &DeviceId) -> Result<Self> {
        Self::with_lease(wallet, id, wallet.lease(id)?)
    }

    /// Loads device `id` under `lease`, taken already (the app waits for it on a blocking
    /// thread).
    pub fn with_lease(wallet: &Wallet, id: &DeviceId, lease: Lease) -> Result<Self> {
        let device = wallet.load_active(id)?;
        Ok(Self {
            wallet: wallet.clone(),
            id: id.clone(),
            device,
            persist: wallet.persister(id),
            _lease: lease,
        })
    }

    /// The device id.
    pub fn id(&self) -> &DeviceId {
        &self.id
    }

    /// The wallet it is stored in.
    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// Saves the device as it is now.
    pub fn save(&self) -> Result<()> {
        Ok(self
            .wallet
            .save(&self.id, &DeviceState::Active(self.device.clone()))?)
    }

    /// A session over the device with `client` (counters are saved before each signed
    /// request through the wallet).
    pub fn session<'a>(&'a mut self, client: &'a Client) -> Session<'a> {
        Session::new(client, &mut self.device, &mut self.persist)
    }
}

/// A call's result, or the report of its faulted run.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Ran<T> {
    /// The call ran without a fault.
    Done(T),
    /// The call ran with a fault: what was sent, answered, required.
    Fault(FaultReport),
}

impl<T> Ran<T> {
    /// The result mapped by `f`; a fault report stays as it is.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Ran<U> {
        match self {
            Ran::Done(value) => Ran::Done(f(value)),
            Ran::Fault(report) => Ran::Fault(report),
        }
    }
}

/// Runs calls with one client and, optionally, one fault.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'c> {
    client: &'c Client,
    fault: Option<Fault>,
}

impl<'c> Runner<'c> {
    /// Calls with `client`, faulted when `fault` says so.
    pub fn new(client: &'c Client, fault: Option<Fault>) -> Self {
        Self { client, fault }
    }

    /// The client.
    pub fn client(&self) -> &'c Client {
        self.client
    }

    /// The fault, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    /// [`Self::call_with`] for a call that carries no PIN.
    pub async fn call<T>(
        &self,
        dev: &mut Leased,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<Ran<T>> {
        self.call_with(dev, false, op).await
    }

    /// Runs `op` on the device: plainly, or under the fault with a report. The device is
    /// saved afterwards either way. `knowledge` says whether the call carries the PIN
    /// (`wrong-pin` needs one).
    pub async fn call_with<T>(
        &self,
        dev: &mut Leased,
        knowledge: bool,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<Ran<T>> {
        if let Some(fault) = self.fault
            && !fault.spec().profiles.contains(&"powerauth")
        {
            return Err(Error::from(DeviceError::FaultNotApplicable {
                fault: fault.to_string(),
                what: "a PowerAuth call",
            })
            .hint(format!(
                "{} is a fault of the device profiles ({}): use it with `tokensim profile ...`",
                fault.spec().name,
                fault.spec().profiles.join(", ")
            )));
        }
        if let Some(fault) = self.fault
            && fault.spec().needs_pin
            && !knowledge
        {
            return Err(Error::from(DeviceError::FaultNotApplicable {
                fault: fault.to_string(),
                what: "a call without the PIN",
            })
            .hint(format!("{} needs a command that signs with the PIN, e.g. `vault unlock` or `ops approve` with --factors possession,knowledge", fault.spec().name)));
        }
        match self.fault {
            None => {
                let result = op(&mut dev.session(self.client)).await;
                dev.save()?;
                Ok(Ran::Done(result?))
            }
            Some(fault) => {
                let run =
                    FaultRun::start(self.client, &mut dev.device, &mut dev.persist, fault).await?;
                let result = {
                    let mut session = Session::new(run.client(), &mut dev.device, &mut dev.persist);
                    op(&mut session).await
                };
                let report = run.finish(&mut dev.device, &mut dev.persist, &result).await;
                dev.save()?;
                Ok(Ran::Fault(report))
            }
        }
    }

    /// Runs `op` without any fault (preparation steps such as an operation's detail).
    pub async fn plain<T>(
        &self,
        dev: &mut Leased,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<T> {
        let result = op(&mut dev.session(self.client)).await;
        dev.save()?;
        Ok(result?)
    }

    /// Refuses the fault for a use case that makes no HTTP call (`what` names it).
    pub fn no_fault(&self, what: &'static str) -> Result<()> {
        match self.fault {
            Some(fault) => Err(DeviceError::FaultNotApplicable {
                fault: fault.to_string(),
                what,
            }
            .into()),
            None => Ok(()),
        }
    }
}
