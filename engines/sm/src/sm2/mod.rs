//! SM2 (GB/T 32918) on the recommended curve.

pub(crate) mod field;
pub(crate) mod point;
pub mod scalar;
