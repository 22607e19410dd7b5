//! The periodic and requested jobs: the catalogue sync from the national procedure database,
//! the reconciliation with the national portal, and the PAKN pull.

pub mod catalog_sync;
pub mod pakn_pull;
pub mod reconcile;
