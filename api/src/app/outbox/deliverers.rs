//! The clients of the systems the outbox delivers to, built from the configuration.

use std::sync::Arc;

use domain::outbox::Target;
use integrations::gateway::JsonGateway;
use integrations::national::portal::PortalClient;

/// The systems this instance can deliver to.
#[derive(Clone, Default)]
pub struct Deliverers {
    /// The national portal (dossier and progress sync).
    pub portal: Option<Arc<PortalClient>>,
    /// The JSON gateways (reporting system, SMS, Zalo, e-mail) by target.
    pub gateways: std::collections::BTreeMap<Target, Arc<JsonGateway>>,
    /// The national PAKN system.
    pub pakn: Option<Arc<integrations::pakn::PaknClient>>,
}

impl Deliverers {
    /// The clients of the configured systems.
    ///
    /// # Errors
    /// When an HTTP client cannot be built.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, String> {
        let portal = match &config.national_portal {
            Some((adapter, settings)) => Some(Arc::new(PortalClient::new(
                integrations::AdapterClient::new(adapter.clone()).map_err(|e| e.to_string())?,
                settings.clone(),
            ))),
            None => None,
        };
        let mut gateways = std::collections::BTreeMap::new();
        for (target, url, token) in &config.gateways {
            gateways.insert(*target, Arc::new(JsonGateway::new(url, token.clone(), config.gateway_timeout).map_err(|e| e.to_string())?));
        }
        let pakn = match &config.pakn {
            Some(p) => Some(Arc::new(
                integrations::pakn::PaknClient::new(&p.url, &p.push_path, &p.pull_path, p.token.clone(), config.gateway_timeout)
                    .map_err(|e| e.to_string())?,
            )),
            None => None,
        };
        Ok(Self { portal, gateways, pakn })
    }

    /// The targets with a client.
    pub fn targets(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.portal.is_some() {
            out.push(Target::NationalPortal.as_str());
        }
        if self.pakn.is_some() {
            out.push(Target::Pakn.as_str());
        }
        out.extend(self.gateways.keys().map(|t| t.as_str()));
        out
    }

    /// Whether messages to `target` can be delivered here.
    pub fn has(&self, target: Target) -> bool {
        match target {
            Target::NationalPortal => self.portal.is_some(),
            Target::Pakn => self.pakn.is_some(),
            other => self.gateways.contains_key(&other),
        }
    }
}
