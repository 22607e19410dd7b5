//! The national systems behind the NGSP/LGSP adapter (domain.md §10.1).

pub mod adapter;
pub mod catalog;
pub mod portal;
